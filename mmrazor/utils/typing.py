# Copyright (c) OpenMMLab. All rights reserved.
"""Type aliases shared across mmrazor."""
from typing import Any, Dict, NamedTuple, Optional


class DumpChosen(NamedTuple):
    """What a mutable dumps into a subnet file.

    Attributes:
        chosen: The fixed choice, e.g. ``'shuffle_7x7'`` or ``3``.
        meta: Extra information about the mutable (its candidates...) that
            helps a reader of the file; ignored when the file is loaded.
    """
    chosen: Any
    meta: Optional[Dict] = None
