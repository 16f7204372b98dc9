# Copyright (c) OpenMMLab. All rights reserved.
"""The small base every candidate op shares."""
from typing import Dict, List, Optional, Union

from mmengine.model import BaseModule


class BaseOP(BaseModule):
    """Base of candidate ops: the three arguments a searchable backbone passes.

    Searchable backbones build every candidate with ``in_channels``,
    ``out_channels`` and ``stride`` given as ``module_kwargs``.

    Args:
        in_channels (int): Channels of the input.
        out_channels (int): Channels of the output.
        stride (int): Stride of the op: 1 or 2. Defaults to 1.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for field, value in (('in_channels', in_channels),
                             ('out_channels', out_channels)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f'{type(self).__name__}: `{field}` must be '
                                 f'a positive int, but got {value!r}')
        if stride not in (1, 2):
            raise ValueError(f'{type(self).__name__}: `stride` must be 1 or '
                             f'2, but got {stride!r}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride
