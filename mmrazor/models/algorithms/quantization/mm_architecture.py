# Copyright (c) OpenMMLab. All rights reserved.
"""MMArchitectureQuant: an mmcls classifier quantized as one exported graph."""
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.runner import load_checkpoint
from mmengine.structures import BaseDataElement
from torch import nn
from torch.fx import GraphModule

from mmrazor.registry import MODELS
from mmrazor.utils._mmengine_compat import mark_initialized
from mmrazor.utils.torchao_import import import_pt2e

from ..base import BaseAlgorithm, build_component
from . import _pt2e

DEFAULT_INPUT_SHAPE = (1, 3, 224, 224)


def _deploy_input_shape(deploy_cfg: Optional[Dict]) -> Optional[tuple]:
    """The ``(1, C, H, W)`` an mmdeploy config optimises for, if it says."""
    if not deploy_cfg:
        return None
    backend = deploy_cfg.get('backend_config') or {}
    for item in backend.get('model_inputs') or []:
        opt = (item.get('opt_shapes') or {}).get('input')
        if opt is None:
            opt = ((item.get('input_shapes') or {}).get('input')
                   or {}).get('opt_shape')
        if opt:
            return (1, *tuple(opt)[1:])
    shape = (deploy_cfg.get('onnx_config') or {}).get('input_shape')
    return (1, 3, *shape) if shape else None


@MODELS.register_module()
class MMArchitectureQuant(BaseAlgorithm):
    """Quantize an mmcls classifier with torch.export + torchao PT2E.

    The classifier's tensor path (backbone, neck, head logits) is exported
    once with ``torch.export(strict=True)`` in train mode, with a dynamic
    batch size, and prepared by the ``quantizer``: fake quantizers (each
    wrapping its observer) on the edges the backend runs in int8. That one
    graph, :attr:`qmodel`, serves every mode: loss and predictions are
    computed from its logits by the head's own code, in eager mode. Its
    parameters are the float architecture's (shared, not copied), so
    quantization-aware training updates both, and the float architecture
    stays available for comparison (``QATValLoop``).

    1. PTQ (``PTQLoop``): eval mode, observers on, a few calibration
       batches (:meth:`calibrate_step`), observers off.
    2. QAT (``QATEpochBasedLoop``, ``LSQEpochBasedLoop``): train the
       prepared graph; ``.train()`` / ``.eval()`` switch its batch norms.
    3. Deployment: :meth:`get_deploy_model` converts a copy to int8
       (quantize/dequantize ops and int8 weights), which
       :mod:`mmrazor.models.algorithms.quantization.deploy` lowers to x86
       int8 kernels or exports to QDQ ONNX.

    Args:
        architecture (dict | BaseModel): An mmcls classifier.
        quantizer (dict | BaseQuantizer): A quantizer, e.g.
            ``dict(type='mmrazor.OpenVINOQuantizer', global_qconfig=...)``.
        float_checkpoint (str, optional): Float weights of the
            architecture, loaded (safely) before export. Defaults to None.
        input_shapes (Sequence[int], optional): ``(N, C, H, W)`` of the
            inputs; ``C, H, W`` are fixed in the exported graph. Defaults to
            None: the deploy config's optimal shape, else (1, 3, 224, 224).
        deploy_cfg (dict, optional): An mmdeploy config, kept for the
            deployment tools (its input shape is used). Defaults to None.
        qmodel_modes (Sequence[str], optional): The original's per-mode
            graphs; accepted and ignored (one graph serves all modes).
        data_preprocessor (dict | nn.Module, optional): See
            :class:`~mmrazor.models.algorithms.BaseAlgorithm`.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 architecture: Union[Dict, BaseModel],
                 quantizer: Union[Dict, object],
                 float_checkpoint: Optional[str] = None,
                 input_shapes: Optional[Sequence[int]] = None,
                 deploy_cfg: Optional[Dict] = None,
                 qmodel_modes: Optional[Sequence[str]] = None,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        import_pt2e()
        from mmrazor.models.quantizers import BaseQuantizer
        super().__init__(architecture, data_preprocessor, init_cfg)
        name = type(self).__name__
        if qmodel_modes is not None:
            print_log(f'{name}: qmodel_modes is ignored; one exported graph '
                      'serves the tensor, loss and predict modes.',
                      logger='current')
        if float_checkpoint:
            load_checkpoint(
                self.architecture,
                float_checkpoint,
                map_location='cpu',
                revise_keys=[(r'^module\.', ''), (r'^architecture\.', '')])
            # the runner's init_weights() must not overwrite these weights
            mark_initialized(self.architecture)
        self.float_checkpoint = float_checkpoint
        self.quantizer = build_component(quantizer, BaseQuantizer,
                                         'quantizer', name)
        self.deploy_cfg = deploy_cfg
        shape = input_shapes or _deploy_input_shape(deploy_cfg) or \
            DEFAULT_INPUT_SHAPE
        if len(shape) != 4:
            raise ValueError(f'{name}: input_shapes must be (N, C, H, W), '
                             f'got {tuple(shape)}')
        self.input_shapes = tuple(int(s) for s in shape)
        graph = _pt2e.export_tensor_path(self.architecture,
                                         self.input_shapes)
        self.qmodel = self.quantizer.prepare(graph)
        self.register_buffer('calibrated', torch.tensor(0, dtype=torch.uint8))
        # the exported graph's mode (its ops, not module flags)
        self._graph_training = True
        self._bn_frozen = False

    def init_weights(self) -> None:
        """Initialise the architecture (unless ``float_checkpoint`` was
        loaded), then warn about batch norms whose weight is exactly 0.

        Quantization-aware conv + bn folding divides by ``weight / std``:
        a zero weight (e.g. mmcls's ``zero_init_residual`` on a randomly
        initialised ResNet) gives NaN outputs.
        """
        super().init_weights()
        zero = [
            name for name, m in self.architecture.named_modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm)
            and m.weight is not None and bool((m.weight == 0).any())
        ]
        if zero:
            print_log(
                f'{type(self).__name__}: batch norms with zero weights '
                f'({zero[:4]}{"..." if len(zero) > 4 else ""}) make the '
                'quantized conv + bn folding divide by zero (NaN). Quantize '
                'a trained float model (float_checkpoint), or initialise '
                'without zero weights (e.g. zero_init_residual=False).',
                logger='current', level=30)

    # ----------------------------------------------------------- modes
    def train(self, mode: bool = True) -> 'MMArchitectureQuant':
        """Set train/eval mode, the exported graph's batch norms included
        (kept on running statistics after :meth:`freeze_bn_stats`)."""
        self.training = mode
        for child in self.children():
            if child is not self.qmodel:
                child.train(mode)
        _pt2e.set_graph_mode(self.qmodel, mode, self._graph_training)
        self._graph_training = mode
        if mode and self._bn_frozen:
            _pt2e.freeze_bn(self.qmodel)
        return self

    def freeze_bn_stats(self) -> None:
        """Batch norms of the quantized graph stop updating their running
        statistics (and use them) for the rest of training."""
        self._bn_frozen = True
        if self.training:
            _pt2e.freeze_bn(self.qmodel)

    def quant_modules(self) -> List[nn.Module]:
        """The fake quantizers of :attr:`qmodel` (each holds an observer)."""
        return _pt2e.quant_modules(self.qmodel)

    # --------------------------------------------------------- forward
    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor'):
        """Run the quantized graph; ``mode`` as for mmcls classifiers.

        Args:
            inputs (Tensor): Preprocessed images ``(N, C, H, W)``.
            data_samples (list, optional): Ground truth, for loss/predict.
            mode (str): ``'tensor'`` (logits), ``'loss'`` (dict of losses)
                or ``'predict'`` (data samples with predictions).
        """
        self._check_shape(inputs)
        logits = self.qmodel(inputs)
        if mode == 'tensor':
            return logits
        if mode == 'loss':
            return _pt2e.head_loss(self.architecture, logits, data_samples)
        if mode == 'predict':
            return _pt2e.head_predict(self.architecture, logits, data_samples)
        raise ValueError(f'{type(self).__name__}: invalid mode {mode!r}; '
                         "allowed: 'tensor', 'loss', 'predict'")

    def _check_shape(self, inputs: torch.Tensor) -> None:
        if tuple(inputs.shape[1:]) != self.input_shapes[1:]:
            raise ValueError(
                f'{type(self).__name__}: the quantized graph was exported '
                f'for inputs (N, {", ".join(map(str, self.input_shapes[1:]))}'
                f'), got {tuple(inputs.shape)}; set `input_shapes` (or the '
                'pipeline\'s crop size) so that they match')

    @torch.no_grad()
    def calibrate_step(self, data: Union[Dict, tuple, list]) -> torch.Tensor:
        """Preprocess a batch and run it through the graph (observers see
        it). Returns the logits."""
        data = self.data_preprocessor(data, False)
        return self.qmodel(data['inputs'])

    # ------------------------------------------------------ deployment
    def get_deploy_model(self) -> GraphModule:
        """A converted int8 copy of the quantized graph (eval mode):
        quantize/dequantize ops around int8 weights, ready for
        lowering or ONNX export. :attr:`qmodel` is not changed, but the
        model is left in eval mode."""
        self.eval()
        return _pt2e.convert(self.qmodel)
