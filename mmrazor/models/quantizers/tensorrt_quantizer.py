# Copyright (c) OpenMMLab. All rights reserved.
"""TensorRT's explicit (Q/DQ) int8 scheme."""
from typing import Any

from mmrazor.registry import MODELS

from .base import BaseQuantizer


@MODELS.register_module()
class TensorRTQuantizer(BaseQuantizer):
    """Quantize as TensorRT's explicit quantization expects.

    TensorRT takes symmetric int8 everywhere: weights per channel (or per
    tensor) and activations per tensor with a zero point of 0. Quantize/
    dequantize pairs sit on the inputs of convs, linears and matmuls, and on
    the residual input of an addition (the one not coming from a conv), so
    that TensorRT fuses conv + add + relu into one int8 kernel; pooling and
    activations get none.

    Args are those of :class:`~mmrazor.models.quantizers.BaseQuantizer`.
    """

    backend = 'tensorrt'
    w_allowed = dict(qdtype=('qint8', ), bit=(8, ), is_symmetry=(True, ),
                     per_channel=(True, False))
    a_allowed = dict(qdtype=('qint8', ), bit=(8, ), is_symmetry=(True, ),
                     per_channel=(False, ))

    def torchao_quantizer(self) -> Any:
        """A :class:`~._annotate.RuleQuantizer` with TensorRT's placement."""
        from ._annotate import RuleQuantizer
        return RuleQuantizer(self._config_for, matmul=True, pool=False,
                             add='residual')

    def _config_for(self, node: Any) -> Any:
        from ._annotate import in_names, module_path
        if in_names(module_path(node), self.keep_float):
            return None
        return self.qconfig
