# Copyright (c) OpenMMLab. All rights reserved.
"""torchao's PT2E observers, registered in ``MODELS`` under their names."""
from mmrazor.registry import MODELS
from mmrazor.utils.torchao_import import import_pt2e

_pt2e = import_pt2e()

#: name -> torchao observer class, as registered in ``MODELS``.
TORCHAO_OBSERVERS = {
    name: getattr(_pt2e, name)
    for name in ('MinMaxObserver', 'MovingAverageMinMaxObserver',
                 'PerChannelMinMaxObserver',
                 'MovingAveragePerChannelMinMaxObserver', 'HistogramObserver')
}
for _name, _cls in TORCHAO_OBSERVERS.items():
    MODELS.register_module(name=_name, module=_cls)
