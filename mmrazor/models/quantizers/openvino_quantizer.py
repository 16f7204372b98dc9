# Copyright (c) OpenMMLab. All rights reserved.
"""OpenVINO's int8 scheme."""
from typing import Any

from mmrazor.registry import MODELS

from .base import BaseQuantizer


@MODELS.register_module()
class OpenVINOQuantizer(BaseQuantizer):
    """Quantize as OpenVINO runs int8.

    OpenVINO takes symmetric int8 weights (per channel or per tensor; the
    configs use the symmetric range ``[-127, 127]``) and per-tensor 8-bit
    activations. Quantize/dequantize pairs sit on the inputs of convs,
    linears and matmuls (activations and weights), of average pooling and of
    both sides of residual additions; none follow max pooling, ReLU or
    reshapes, which run on the int8 values unchanged.

    Args are those of :class:`~mmrazor.models.quantizers.BaseQuantizer`.
    """

    backend = 'openvino'
    w_allowed = dict(qdtype=('qint8', ), bit=(8, ), is_symmetry=(True, ),
                     per_channel=(True, False))
    a_allowed = dict(qdtype=('quint8', 'qint8'), bit=(8, ),
                     is_symmetry=(True, False), per_channel=(False, ))

    def torchao_quantizer(self) -> Any:
        """A :class:`~._annotate.RuleQuantizer` with OpenVINO's placement."""
        from ._annotate import RuleQuantizer
        return RuleQuantizer(self._config_for, matmul=True, pool=True,
                             add='all')

    def _config_for(self, node: Any) -> Any:
        from ._annotate import in_names, module_path
        if in_names(module_path(node), self.keep_float):
            return None
        return self.qconfig
