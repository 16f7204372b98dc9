# Copyright (c) OpenMMLab. All rights reserved.
"""PyTorch's own int8 CPU backend (x86, oneDNN through Inductor)."""
from typing import Any

from mmrazor.registry import MODELS

from .base import BaseQuantizer


@MODELS.register_module()
class TorchNativeQuantizer(BaseQuantizer):
    """Quantize for PyTorch's x86 int8 path (``torch.compile`` or
    ``lower_pt2e_quantized_to_x86``).

    Annotation is torchao's ``X86InductorQuantizer`` with the qconfig's
    specs: it knows the conv/linear + bn + relu + add patterns oneDNN fuses,
    so the converted graph lowers to fused int8 kernels. The backend runs
    8-bit symmetric int8 weights (per channel or per tensor) and 8-bit
    uint8 activations per tensor.

    Args are those of :class:`~mmrazor.models.quantizers.BaseQuantizer`.
    """

    backend = 'native'
    w_allowed = dict(qdtype=('qint8', ), bit=(8, ), is_symmetry=(True, ),
                     per_channel=(True, False))
    a_allowed = dict(qdtype=('quint8', ), bit=(8, ),
                     is_symmetry=(True, False), per_channel=(False, ))

    def torchao_quantizer(self) -> Any:
        """``X86InductorQuantizer`` with the qconfig, minus ``keep_float``."""
        from torchao.quantization.pt2e.quantizer import (
            x86_inductor_quantizer as x86,
        )
        quantizer = x86.X86InductorQuantizer()
        quantizer.set_global(self.qconfig.quantization_config())
        for name in self.keep_float:
            quantizer.set_module_name_qconfig('architecture.' + name, None)
        return quantizer
