# Copyright (c) OpenMMLab. All rights reserved.
"""Which layer hurts? Per-layer sensitivity of a quantized graph.

For every quantized compute op (conv, linear, matmul) of an
:class:`MMArchitectureQuant`'s prepared graph, on a few batches:

- ``layer_sqnr``: SQNR (dB) of the op's output with every fake quantizer
  on, against the same graph with all of them off (fp32): the error the
  op's output carries, accumulated from everything before it;
- ``alone_sqnr``: SQNR of the logits when only this op's input and weight
  fake quantizers are on: the damage of quantizing this op alone. Low
  values name the layers to keep in float (``keep_float``).

Observers are off and every fake quantizer's state is restored afterwards.
A fake quantizer shared by two consumers of one tensor is switched for
both (an approximation the table notes nowhere else).
"""
from contextlib import contextmanager
from typing import Dict, Iterator, List, Sequence

import torch
from torch import nn
from torch.fx import GraphModule, Interpreter, Node

from mmrazor.utils.torchao_import import import_pt2e

_pt2e = import_pt2e()
from mmrazor.models.quantizers._annotate import (  # noqa: E402
    COMPUTE_OPS,
    module_path,
)


def sqnr(reference: torch.Tensor, output: torch.Tensor) -> float:
    """Signal-to-quantization-noise ratio of ``output`` in dB.

    ``10 * log10(sum(ref^2) / sum((ref - out)^2))``; ``inf`` when equal.
    """
    reference = reference.detach().float()
    noise = (reference - output.detach().float()).pow(2).sum()
    if noise == 0:
        return float('inf')
    return float(10 * torch.log10(reference.pow(2).sum() / noise))


def _fake_quant_of(gm: GraphModule, node: Node, depth: int = 3) -> List[str]:
    """Names of the fake quantizers feeding ``node``'s first two inputs."""
    names = []
    for arg in node.args[:2]:
        for _ in range(depth + 1):
            if not isinstance(arg, Node):
                break
            if arg.op == 'call_module' and isinstance(
                    gm.get_submodule(arg.target), _pt2e.FakeQuantizeBase):
                names.append(arg.target)
                break
            if arg.op != 'call_function' or not arg.args:
                break
            arg = arg.args[0]
    return names


@contextmanager
def _saved_states(modules: Sequence[nn.Module]) -> Iterator[None]:
    """Restore ``fake_quant_enabled`` / ``observer_enabled`` on exit."""
    saved = [(m.fake_quant_enabled.clone(), m.observer_enabled.clone())
             for m in modules]
    try:
        yield
    finally:
        for m, (fq, obs) in zip(modules, saved):
            m.fake_quant_enabled.copy_(fq)
            m.observer_enabled.copy_(obs)


class _Recorder(Interpreter):
    """Runs a graph and keeps the outputs of the named nodes."""

    def __init__(self, gm: GraphModule, names: Sequence[str]) -> None:
        super().__init__(gm)
        self.names = set(names)
        self.outputs: Dict[str, torch.Tensor] = {}

    def run_node(self, n: Node):
        out = super().run_node(n)
        if n.name in self.names:
            self.outputs[n.name] = out.detach()
        return out


def _set(modules: Dict[str, nn.Module], enabled: Sequence[str]) -> None:
    for name, m in modules.items():
        m.fake_quant_enabled.fill_(int(name in enabled))


@torch.no_grad()
def layer_sensitivity(model: nn.Module,
                      batches: Sequence[torch.Tensor]) -> List[Dict]:
    """Per-layer SQNR table of a calibrated ``MMArchitectureQuant``.

    Args:
        model (MMArchitectureQuant): A calibrated (or trained) model.
        batches (Sequence[Tensor]): Preprocessed input batches.

    Returns:
        list[dict]: One row per quantized op, most sensitive first:
        ``module``, ``op``, ``layer_sqnr``, ``alone_sqnr``.
    """
    if not batches:
        raise ValueError('layer_sensitivity needs at least one batch')
    gm: GraphModule = model.qmodel
    fq_modules = {
        name: m for name, m in gm.named_modules()
        if isinstance(m, _pt2e.FakeQuantizeBase)
    }
    layers = []
    for node in gm.graph.nodes:
        if node.op == 'call_function' and node.target in COMPUTE_OPS:
            owned = _fake_quant_of(gm, node)
            if owned:
                layers.append((node, owned))
    was_training = model.training
    model.eval()
    rows = []
    with _saved_states(list(fq_modules.values())):
        for m in fq_modules.values():
            m.observer_enabled.fill_(0)
        names = [n.name for n, _ in layers]
        _set(fq_modules, [])
        float_runs = [_run(gm, names, x) for x in batches]
        _set(fq_modules, list(fq_modules))
        quant_runs = [_run(gm, names, x) for x in batches]
        for node, owned in layers:
            _set(fq_modules, owned)
            alone = torch.cat([gm(x) for x in batches])
            ref_logits = torch.cat([f[1] for f in float_runs])
            rows.append(
                dict(
                    module=module_path(node),
                    op=str(node.target).replace('aten.', ''),
                    layer_sqnr=sqnr(
                        torch.cat([f[0][node.name].flatten()
                                   for f in float_runs]),
                        torch.cat([q[0][node.name].flatten()
                                   for q in quant_runs])),
                    alone_sqnr=sqnr(ref_logits, alone)))
    model.train(was_training)
    return sorted(rows, key=lambda r: r['alone_sqnr'])


def _run(gm: GraphModule, names: Sequence[str], x: torch.Tensor):
    recorder = _Recorder(gm, names)
    logits = recorder.run(x)
    return recorder.outputs, logits


def most_sensitive(rows: Sequence[Dict], n: int) -> List[str]:
    """Module names of the ``n`` most sensitive layers (for
    ``keep_float``)."""
    return [r['module'] for r in rows[:max(n, 0)]]


def format_sensitivity(rows: Sequence[Dict]) -> str:
    """A Markdown table of :func:`layer_sensitivity` rows."""
    lines = ['| module | op | layer SQNR (dB) | alone: logits SQNR (dB) |',
             '|---|---|---:|---:|']
    lines += [f"| {r['module']} | {r['op']} | {r['layer_sqnr']:.1f} | "
              f"{r['alone_sqnr']:.1f} |" for r in rows]
    return '\n'.join(lines)


def plot_sensitivity(rows: Sequence[Dict], path: str) -> str:
    """Save a horizontal bar chart of the rows (matplotlib) to ``path``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from mmrazor.utils.atomic_file import atomic_open
    ordered = list(rows)[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(ordered) + 1.2))
    labels = [r['module'] or r['op'] for r in ordered]
    ax.barh(labels, [r['alone_sqnr'] for r in ordered], color='tab:blue',
            label='only this layer quantized: logits SQNR')
    ax.plot([r['layer_sqnr'] for r in ordered], labels, 'o', color='tab:red',
            label='all quantized: this layer\'s output SQNR')
    ax.set_xlabel('SQNR against fp32 (dB, higher is better)')
    ax.legend(loc='lower right', fontsize=7)
    ax.tick_params(axis='y', labelsize=7)
    fig.tight_layout()
    with atomic_open(path, 'wb', what='Plot') as f:
        fig.savefig(f, format=path.rsplit('.', 1)[-1], dpi=110)
    plt.close(fig)
    return path
