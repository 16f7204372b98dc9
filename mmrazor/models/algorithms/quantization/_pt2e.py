# Copyright (c) OpenMMLab. All rights reserved.
"""The torch.export / torchao calls of MMArchitectureQuant, fenced in one file.

Everything here that touches a private attribute of torchao or mmcls is
named and tested (``tests/test_models/test_algorithms/test_quantization``):

- exported graphs ignore ``.train()`` / ``.eval()``; torchao rewrites their
  batch-norm and dropout ops instead (:func:`set_graph_mode`), and
  :func:`freeze_bn` uses its private batch-norm rewrite alone;
- mmcls heads compute losses and predictions from logits in the private
  ``_get_loss`` / ``_get_predictions`` (:func:`head_loss`,
  :func:`head_predict`).
"""
import re
from typing import Any, List, Optional, Sequence

import torch
from torch import nn
from torch.fx import GraphModule

from mmrazor.utils.torchao_import import import_pt2e

_TRAINING_ATTR = '_exported_training'


class TensorPath(nn.Module):
    """The tensor path of an mmcls classifier: images -> logits.

    The classifier is held as ``architecture`` (not copied), so the
    exported graph's parameter names are the algorithm's.
    """

    def __init__(self, architecture: nn.Module) -> None:
        super().__init__()
        self.architecture = architecture

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.architecture(inputs, mode='tensor')


def _first_user_frame(message: str) -> str:
    """The last ``File "...", line N`` of a trace, or ''."""
    frames = re.findall(r'File "([^"]+)", line (\d+)', message)
    return f' (at {frames[-1][0]}:{frames[-1][1]})' if frames else ''


def export_tensor_path(architecture: nn.Module,
                       input_shape: Sequence[int]) -> GraphModule:
    """Export ``architecture``'s tensor path in train mode, batch dynamic.

    Args:
        architecture (nn.Module): An mmcls classifier (``mode='tensor'``).
        input_shape (Sequence[int]): ``(N, C, H, W)``; ``C, H, W`` are fixed
            in the graph, the batch size is not.

    Returns:
        GraphModule: The exported graph; its parameters and buffers are
        the architecture's own tensors.
    """
    device = next(architecture.parameters()).device
    path = TensorPath(architecture)
    was_training = architecture.training
    path.train()
    example = torch.randn(2, *input_shape[1:], device=device)
    batch = torch.export.Dim('batch', min=1, max=1 << 16)
    try:
        program = torch.export.export(
            path, (example, ), dynamic_shapes=({0: batch}, ), strict=True)
    except Exception as e:  # torch.export raises many error types
        text = str(e).strip().splitlines()
        summary = ' '.join(text[:3])[:600]
        raise RuntimeError(
            f'MMArchitectureQuant: torch.export cannot capture the tensor '
            f"path (mode='tensor') of {type(architecture).__name__} at input "
            f'shape {tuple(input_shape)}{_first_user_frame(str(e))}: '
            f'{type(e).__name__}: {summary}. Quantization needs one graph '
            'from images to logits: move data-dependent Python (branches on '
            'tensor values, .item(), prints, data samples) out of forward, '
            'or wrap it in a module kept in float, then try again.') from e
    finally:
        architecture.train(was_training)
    return program.module()


def set_graph_mode(graph: GraphModule, training: bool,
                   current: bool) -> None:
    """Switch the batch-norm and dropout ops of an exported graph between
    train and eval (torchao's rewrite), and set the modules' flags.

    ``current`` is the mode the graph is in, as its owner recorded it: the
    marker torchao keeps on the graph does not survive ``copy.deepcopy``
    (nor do torchao's guards on ``graph.train()``), so the owner tracks it.
    """
    nn.Module.train(graph, training)
    if training == current:
        return
    pt2e = import_pt2e()
    setattr(graph, _TRAINING_ATTR, current)
    if training:
        pt2e.move_exported_model_to_train(graph)
    else:
        pt2e.move_exported_model_to_eval(graph)


def freeze_bn(graph: GraphModule) -> None:
    """Batch norms of ``graph`` use (and stop updating) running statistics,
    while the rest of the graph stays in train mode."""
    from torchao.quantization.pt2e.export_utils import _replace_batchnorm
    _replace_batchnorm(graph, train_to_eval=True)


def convert(prepared: GraphModule) -> GraphModule:
    """A converted (quantize/dequantize, int8 weights) copy of ``prepared``,
    which must be in eval mode; ``prepared`` is not changed."""
    import copy

    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e
    return convert_pt2e(copy.deepcopy(prepared))


def quant_modules(graph: nn.Module) -> List[nn.Module]:
    """The fake quantizers of a prepared graph (each holds an observer)."""
    pt2e = import_pt2e()
    return [
        m for m in graph.modules() if isinstance(m, pt2e.FakeQuantizeBase)
    ]


def head_of(architecture: nn.Module, mode: str) -> nn.Module:
    """The classification head, or an error naming what is missing."""
    head = getattr(architecture, 'head', None)
    if head is None or not hasattr(head, '_get_loss'):
        raise TypeError(
            f"MMArchitectureQuant: mode={mode!r} needs an mmcls classifier "
            f'with a ClsHead (`architecture.head`), got '
            f'{type(architecture).__name__}; use mode="tensor" instead')
    return head


def head_loss(architecture: nn.Module, logits: torch.Tensor,
              data_samples: Optional[list]) -> dict:
    """The head's losses of ``logits`` (mmcls ``ClsHead._get_loss``)."""
    return head_of(architecture, 'loss')._get_loss(logits, data_samples)


def head_predict(architecture: nn.Module, logits: torch.Tensor,
                 data_samples: Optional[list]) -> Any:
    """The head's predictions of ``logits`` (``_get_predictions``)."""
    return head_of(architecture, 'predict')._get_predictions(
        logits, data_samples)
