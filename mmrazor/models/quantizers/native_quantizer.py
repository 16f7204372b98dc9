# Copyright (c) OpenMMLab. All rights reserved.
"""PyTorch's own int8 CPU backend (x86, oneDNN through Inductor)."""
from typing import Any

from mmrazor.registry import MODELS

from .base import BaseQuantizer


def _drop_empty_conv_marks(model: Any) -> None:
    """Remove the "not quantized" marks (an annotation with no spec) that
    ``X86InductorQuantizer`` leaves on the convs of float modules.

    ``prepare_qat_pt2e`` rewrites every conv + bn pair and copies its
    conv's input specs by position: an empty mark there raises an
    ``IndexError``. Once annotation is over, a conv without a mark is the
    same as a conv marked "not quantized".
    """
    from torchao.quantization.pt2e.qat_utils import (
        _is_conv_or_conv_transpose_node,
    )
    for node in model.graph.nodes:
        mark = node.meta.get('quantization_annotation')
        if mark is not None and _is_conv_or_conv_transpose_node(node) and \
                not mark.input_qspec_map and mark.output_qspec is None:
            del node.meta['quantization_annotation']


def _x86_quantizer_class() -> type:
    from torchao.quantization.pt2e.quantizer import (
        x86_inductor_quantizer as x86,
    )

    class _X86Quantizer(x86.X86InductorQuantizer):
        """``X86InductorQuantizer`` whose float convs survive QAT's
        conv + bn rewrite (see :func:`_drop_empty_conv_marks`)."""

        def annotate(self, model: Any) -> Any:
            model = super().annotate(model)
            _drop_empty_conv_marks(model)
            return model

    return _X86Quantizer


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
        quantizer = _x86_quantizer_class()()
        quantizer.set_global(self.qconfig.quantization_config())
        for name in self.keep_float:
            quantizer.set_module_name_qconfig('architecture.' + name, None)
        return quantizer
