# Copyright (c) OpenMMLab. All rights reserved.
"""Type aliases shared across mmrazor."""
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Union


class DumpChosen(NamedTuple):
    """What a mutable dumps into a subnet file.

    Attributes:
        chosen: The fixed choice, e.g. ``'shuffle_7x7'`` or ``3``.
        meta: Extra information about the mutable (its candidates...) that
            helps a reader of the file; ignored when the file is loaded.
    """
    chosen: Any
    meta: Optional[Dict] = None


# The original MMRazor's names: a subnet as ``{mutable name: choice}``,
# or a path to its file; random subnets keyed by search group, one dict per
# mutator.
FixMutable = Dict[str, Any]
ValidFixMutable = Union[str, Path, FixMutable]
SingleMutatorRandomSubnet = Dict[int, Any]
MultiMutatorsRandomSubnet = List[SingleMutatorRandomSubnet]
SupportRandomSubnet = Union[SingleMutatorRandomSubnet,
                            MultiMutatorsRandomSubnet]
