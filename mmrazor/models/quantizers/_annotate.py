# Copyright (c) OpenMMLab. All rights reserved.
"""Graph annotation by rules, and the report of what was left in float.

PT2E quantizers mark the edges of an exported graph that carry int8: an
``input_qspec_map`` on a node says which of its inputs get a
quantize/dequantize pair. :class:`RuleQuantizer` is a torchao ``Quantizer``
that does this from a small table: the inputs and weights of weighted ops
(conv, linear), optionally the inputs of matmuls, of pooling and of residual
additions, with the spec a callback picks per node (per module name, per
module type, or global). Outputs are never annotated: each backend's
quantize/dequantize pairs sit on the inputs of the ops that consume int8.

:func:`coverage_report` lists every weighted op of a prepared graph with
whether it is quantized, kept in float on request, or not covered (then a
warning names it: nothing is left in float silently).
"""
from typing import Any, Callable, Dict, List, Sequence, Tuple

import torch
from mmengine.logging import print_log
from torch.fx import GraphModule, Node

from mmrazor.utils.torchao_import import import_pt2e

_pt2e = import_pt2e()
from torchao.quantization.pt2e.quantizer import (  # noqa: E402
    QuantizationAnnotation,
    Quantizer,
    SharedQuantizationSpec,
)

aten = torch.ops.aten
ANNOTATION_KEY = 'quantization_annotation'

#: ops whose input 0 is an activation and input 1 a weight.
WEIGHTED_OPS = {
    aten.conv1d.default, aten.conv2d.default, aten.conv3d.default,
    aten.conv_transpose2d.input, aten.linear.default
}
MATMUL_OPS = {aten.matmul.default, aten.bmm.default, aten.mm.default}
POOL_OPS = {
    aten.avg_pool2d.default, aten.adaptive_avg_pool2d.default,
    aten.mean.dim
}
ADD_OPS = {aten.add.Tensor, aten.add_.Tensor}
#: ops a report counts as compute that should be quantized.
COMPUTE_OPS = WEIGHTED_OPS | MATMUL_OPS


def module_path(node: Node) -> str:
    """The module a node was traced from, e.g. ``'backbone.layer1.0.conv1'``
    (without the ``architecture.`` prefix), or ``''``."""
    stack = node.meta.get('nn_module_stack') or {}
    if not stack:
        return ''
    path = list(stack.values())[-1][0]
    return path[len('architecture.'):] if path.startswith(
        'architecture.') else path


def module_type(node: Node) -> str:
    """The qualified class name of the module a node was traced from."""
    stack = node.meta.get('nn_module_stack') or {}
    if not stack:
        return ''
    kind = list(stack.values())[-1][1]
    return kind if isinstance(kind, str) else \
        f'{kind.__module__}.{kind.__qualname__}'


def in_names(path: str, names: Sequence[str]) -> bool:
    """Whether ``path`` is one of ``names`` or inside one of them."""
    return any(path == n or path.startswith(n + '.') for n in names)


def _is_float_tensor(node: Any) -> bool:
    val = node.meta.get('val') if isinstance(node, Node) else None
    return isinstance(val, torch.Tensor) and val.is_floating_point()


def _is_activation(node: Any) -> bool:
    return _is_float_tensor(node) and node.op != 'get_attr'


def _from_conv(node: Node) -> bool:
    """Whether ``node`` is a conv or a norm right after one (TensorRT fuses
    the residual add into such a conv)."""
    if node.op != 'call_function':
        return False
    if node.target in WEIGHTED_OPS:
        return True
    name = str(node.target)
    return 'batch_norm' in name and isinstance(node.args[0], Node) and \
        node.args[0].target in WEIGHTED_OPS


class RuleQuantizer(Quantizer):
    """A torchao quantizer annotating input edges by a rule table.

    Args:
        config_for (callable): ``node -> QConfigHandler | None``; None leaves
            the node in float.
        matmul (bool): Quantize both inputs of matmuls. Defaults to False.
        pool (bool): Quantize the inputs of average pooling. Defaults to
            False.
        add (str): Inputs of residual additions to quantize: ``'none'``,
            ``'all'`` or ``'residual'`` (the one not coming from a conv;
            TensorRT's explicit-quantization placement). Defaults to
            ``'none'``.
    """

    ADD_MODES = ('none', 'all', 'residual')

    def __init__(self,
                 config_for: Callable[[Node], Any],
                 matmul: bool = False,
                 pool: bool = False,
                 add: str = 'none') -> None:
        super().__init__()
        if add not in self.ADD_MODES:
            raise ValueError(f'RuleQuantizer: add={add!r}; allowed: '
                             f'{list(self.ADD_MODES)}')
        self.config_for = config_for
        self.matmul = matmul
        self.pool = pool
        self.add = add

    def _edges(self, node: Node, cfg: Any) -> List[Tuple[Node, Any]]:
        """(input node, spec) pairs of ``node`` to quantize."""
        args = node.args
        act, weight = cfg.activation_spec, cfg.weight_spec
        if node.target in WEIGHTED_OPS:
            edges = []
            if _is_activation(args[0]):
                edges.append((args[0], act))
            if len(args) > 1 and _is_float_tensor(args[1]):
                edges.append((args[1], weight))
            return edges
        if self.matmul and node.target in MATMUL_OPS:
            return [(a, act) for a in args[:2] if _is_activation(a)]
        if self.pool and node.target in POOL_OPS:
            return [(args[0], act)] if _is_activation(args[0]) else []
        if self.add != 'none' and node.target in ADD_OPS:
            inputs = [a for a in args[:2] if _is_activation(a)]
            if len(inputs) < 2:
                return []
            if self.add == 'residual':
                plain = [a for a in inputs if not _from_conv(a)]
                inputs = plain[:1] or inputs[1:]
            return [(a, act) for a in inputs]
        return []

    def annotate(self, model: GraphModule) -> GraphModule:
        """Mark the input edges to quantize on every matching node."""
        first_edge: Dict[Tuple[Node, int], Tuple[Node, Node]] = {}
        for node in model.graph.nodes:
            if node.op != 'call_function' or ANNOTATION_KEY in node.meta:
                continue
            cfg = self.config_for(node)
            if cfg is None:
                continue
            qmap = {}
            for inp, spec in self._edges(node, cfg):
                key = (inp, id(spec))
                if inp.op != 'get_attr' and key in first_edge:
                    # one observer per activation tensor and spec
                    qmap[inp] = SharedQuantizationSpec(first_edge[key])
                else:
                    first_edge.setdefault(key, (inp, node))
                    qmap[inp] = spec
            if qmap:
                node.meta[ANNOTATION_KEY] = QuantizationAnnotation(
                    input_qspec_map=qmap, _annotated=True)
        return model

    def validate(self, model: GraphModule) -> None:
        """Nothing to check beyond torchao's own validation."""


def _is_quant_module(gm: GraphModule, node: Any) -> bool:
    if not isinstance(node, Node) or node.op != 'call_module':
        return False
    module = gm.get_submodule(node.target)
    return isinstance(module, (_pt2e.FakeQuantizeBase, _pt2e.ObserverBase))


def _quantized_input(gm: GraphModule, node: Any, depth: int = 3) -> bool:
    """Whether ``node`` is (or, through a few reshaping/scaling ops, comes
    from) an observer or fake quantizer."""
    for _ in range(depth):
        if _is_quant_module(gm, node):
            return True
        if not isinstance(node, Node) or node.op != 'call_function' or \
                not node.args:
            return False
        node = node.args[0]
    return _is_quant_module(gm, node)


def coverage_report(prepared: GraphModule,
                    keep_float: Sequence[str] = (),
                    owner: str = 'quantizer',
                    warn: bool = True) -> List[Dict[str, str]]:
    """List the compute ops of a prepared graph and how each is quantized.

    Args:
        prepared (GraphModule): The output of ``prepare_(qat_)pt2e``.
        keep_float (Sequence[str]): Module names kept in float on request.
        owner (str): Who prepared it, for the warning.
        warn (bool): Warn about ops neither quantized nor kept on request.
            Defaults to True.

    Returns:
        list[dict]: One row per op: ``node``, ``op``, ``module``,
        ``status`` ('int8', 'float (keep_float)' or 'float (not covered)').
    """
    rows = []
    for node in prepared.graph.nodes:
        if node.op != 'call_function' or node.target not in COMPUTE_OPS:
            continue
        path = module_path(node)
        inputs = [a for a in node.args[:2] if isinstance(a, Node)]
        if inputs and all(_quantized_input(prepared, a) for a in inputs):
            status = 'int8'
        elif in_names(path, keep_float):
            status = 'float (keep_float)'
        else:
            status = 'float (not covered)'
        rows.append(dict(node=node.name, op=str(node.target), module=path,
                         status=status))
    missing = [r for r in rows if r['status'] == 'float (not covered)']
    if warn and missing:
        lines = '\n'.join(f"  {r['module'] or '?'} ({r['op']})"
                          for r in missing)
        print_log(
            f'{owner} leaves {len(missing)} of {len(rows)} compute ops in '
            f'float (their inputs get no quantizer):\n{lines}\nUse '
            'AcademicQuantizer or TorchNativeQuantizer for them, or list '
            'them in `keep_float` to accept float.', logger='current',
            level=30)
    return rows


def format_report(rows: Sequence[Dict[str, str]]) -> str:
    """A Markdown table of :func:`coverage_report` rows."""
    lines = ['| module | op | status |', '|---|---|---|']
    lines += [f"| {r['module']} | {r['op']} | {r['status']} |" for r in rows]
    return '\n'.join(lines)

