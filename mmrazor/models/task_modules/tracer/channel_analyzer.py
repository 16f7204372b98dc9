# Copyright (c) OpenMMLab. All rights reserved.
"""Find the channel units of any PyTorch model: groups of channels that must
be pruned together.

One real forward of the model on a demo input runs under a
``TorchFunctionMode`` (:mod:`._tracer`); op rules (:mod:`._rules` and the
``_*_rules`` modules) follow channels through convs, norms, linears,
elementwise ops with broadcasting, cat / split / chunk, reshapes (flatten,
heads, channel shuffle), permutes and indexing, and the channel graph
(:mod:`._graph`) solves them into units. Because the forward is real,
shape-dependent Python control flow, which breaks ``torch.fx``, is no
problem.

Nothing makes :meth:`ChannelAnalyzer.analyze` crash: channels the tracer
cannot follow or that must not change (model input and output, group convs,
attention heads, channel shuffles, per-channel constants, unknown ops) are
excluded from the prunable units and listed in :attr:`ChannelAnalyzer.report`.
"""
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from mmrazor.registry import TASK_UTILS
from mmrazor.utils.model_wrappers import unwrap_model

from ._graph import ChannelGraph, Event, Unit
from ._rules import DEFAULT_RULES
from ._tracer import TraceError, no_grad_eval, trace

DemoInput = Union[Sequence[int], dict, Tensor, Callable[[nn.Module], Any]]

TRACER_TYPES = ('BackwardTracer', 'FxTracer')
DEMO_INPUT_TYPES = ('DefaultDemoInput', 'DefaultMMClsDemoInput',
                    'DefaultMMDetDemoInput', 'DefaultMMSegDemoInput',
                    'DefaultMMPoseDemoInput', 'DefaultMMRotateDemoInput',
                    'DefaultMMYoloDemoInput')
DEMO_INPUT_KEYS = ('type', 'input_shape')


def _demo_shape(demo_input: Any) -> Optional[Tuple[int, ...]]:
    """The input shape a demo input config asks for (None: no shape)."""
    if isinstance(demo_input, dict):
        unknown = sorted(set(demo_input) - set(DEMO_INPUT_KEYS))
        if unknown:
            raise ValueError(f'demo_input has unknown keys {unknown}; '
                             f'accepted keys: {list(DEMO_INPUT_KEYS)}.')
        kind = demo_input.get('type', 'DefaultDemoInput')
        if kind not in DEMO_INPUT_TYPES:
            raise ValueError(f'demo_input type {kind!r} is not supported; '
                             f'accepted: {list(DEMO_INPUT_TYPES)}.')
        demo_input = demo_input.get('input_shape', (1, 3, 224, 224))
    if isinstance(demo_input, (tuple, list)) and demo_input and all(
            isinstance(s, int) and s > 0 for s in demo_input):
        return tuple(demo_input)
    raise ValueError(f'demo_input must be an input shape of positive ints, '
                     f'a DemoInput dict, a tensor or a callable; got '
                     f'{demo_input!r}.')


@TASK_UTILS.register_module()
class ChannelAnalyzer:
    """Analyse which channels of a model must be pruned together.

    The model runs once, in eval mode and without gradients (its training
    flags are restored afterwards):

    - an mmcls ``ImageClassifier`` or any other mmengine ``BaseModel`` as
      ``model(inputs, mode='tensor')``;
    - a model with ``extract_feat`` (mmdet-like) as ``model._forward(inputs)``,
      or ``model.extract_feat(inputs)`` if that fails (reported);
    - any other ``nn.Module`` as ``model(inputs)``.

    Args:
        demo_input (Sequence[int] | dict | Tensor | callable): What to run.
            An input shape such as ``(1, 3, 224, 224)`` (a seeded random
            tensor is made); a dict such as ``dict(type='DefaultDemoInput',
            input_shape=(1, 3, 224, 224))`` (the MMRazor 1.x config form,
            any of ``DEMO_INPUT_TYPES``); a tensor; or a callable
            ``fn(model)`` that runs the forward itself and returns its
            output (for models with several inputs or keyword arguments).
            With a callable, the channels of tensors it makes are not
            traced, so the modules reading them get non-prunable input
            channels. Defaults to (1, 3, 224, 224).
        tracer_type (str): 'BackwardTracer' or 'FxTracer', accepted for
            compatibility with MMRazor 1.x configs. Both run the same
            tracer: a real forward under ``torch.overrides.TorchFunctionMode``.
            Defaults to 'BackwardTracer'.

    Attributes:
        units (dict): The prunable units of the last :meth:`analyze`.
        excluded_units (dict): Its non-prunable units, in the same format
            plus ``'reason'``.
        report (list[dict]): Why things were excluded: dicts with keys
            ``module`` (a module name or None), ``op`` (e.g.
            ``'torch.Tensor.view'`` or None), ``reason`` and ``channels``
            (the affected unit's name, or None).

    Examples:
        >>> import torch.nn as nn
        >>> model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8),
        ...                       nn.ReLU(), nn.Conv2d(8, 4, 1))
        >>> analyzer = ChannelAnalyzer(demo_input=(1, 3, 16, 16))
        >>> list(analyzer.analyze(model))
        ['0_(0, 8)_8']
        >>> [r['reason'] for r in analyzer.report]
        ['model input', 'model output']
    """

    def __init__(self,
                 demo_input: DemoInput = (1, 3, 224, 224),
                 tracer_type: str = 'BackwardTracer') -> None:
        if tracer_type not in TRACER_TYPES:
            raise ValueError(f'tracer_type {tracer_type!r} is not supported; '
                             f'accepted: {list(TRACER_TYPES)} (both run the '
                             'same TorchFunctionMode tracer).')
        if not (isinstance(demo_input, Tensor) or callable(demo_input)):
            _demo_shape(demo_input)
        self.demo_input = demo_input
        self.tracer_type = tracer_type
        self.units: Dict[str, dict] = {}
        self.excluded_units: Dict[str, dict] = {}
        self.report: List[dict] = []

    # -- running the model -------------------------------------------------
    def _inputs(self, model: nn.Module) -> Tensor:
        param = next(iter(model.parameters()), None)
        device = param.device if param is not None else torch.device('cpu')
        dtype = (param.dtype if param is not None
                 and param.is_floating_point() else torch.float32)
        if isinstance(self.demo_input, Tensor):
            return self.demo_input.to(device)
        generator = torch.Generator().manual_seed(0)
        x = torch.rand(_demo_shape(self.demo_input), generator=generator)
        return x.to(device=device, dtype=dtype)

    def _forwards(self, model: nn.Module
                  ) -> List[Tuple[str, Callable[[], Any], Tuple[Tensor]]]:
        """``(description, forward, traced inputs)`` to try in order."""
        if callable(self.demo_input) and not isinstance(
                self.demo_input, Tensor):
            fn = self.demo_input
            return [('demo_input(model)', lambda: fn(model), ())]
        from mmengine.model import BaseModel
        try:
            from mmcls.models import ImageClassifier
        except ImportError:  # pragma: no cover - mmcls is a dependency
            ImageClassifier = ()
        x = self._inputs(model)
        if isinstance(model, ImageClassifier):
            return [("model(inputs, mode='tensor')",
                     lambda: model(x, mode='tensor'), (x, ))]
        if hasattr(model, 'extract_feat'):
            found = []
            if hasattr(model, '_forward'):
                found.append(('model._forward(inputs)',
                              lambda: model._forward(x), (x, )))
            found.append(('model.extract_feat(inputs)',
                          lambda: model.extract_feat(x), (x, )))
            return found
        if isinstance(model, BaseModel):
            return [("model(inputs, mode='tensor')",
                     lambda: model(x, mode='tensor'), (x, ))]
        return [('model(inputs)', lambda: model(x), (x, ))]

    def analyze(self, model: nn.Module) -> Dict[str, dict]:
        """Trace ``model`` and return its prunable channel units.

        Args:
            model (nn.Module): The model; DDP and mmengine wrappers are
                unwrapped, so unit entries use the inner model's
                ``named_modules()`` names.

        Returns:
            dict: ``{unit name: {'init_args': {'num_channels': n},
            'channels': {'output_related': [...], 'input_related':
            [...]}}}`` in the order of the forward; each entry is a dict
            with ``name``, ``start``, ``end``, ``expand_ratio`` and
            ``is_output_channel``. :attr:`excluded_units` and
            :attr:`report` are updated too.
        """
        if not isinstance(model, nn.Module):
            raise TypeError(f'ChannelAnalyzer.analyze needs an nn.Module, '
                            f'got {type(model).__name__}.')
        model = unwrap_model(model)
        self.units, self.excluded_units, self.report = {}, {}, []
        failures: List[dict] = []
        graph = None
        for what, forward, inputs in self._forwards(model):
            try:
                graph = no_grad_eval(model, partial(
                    trace, model, forward, DEFAULT_RULES, inputs))
                break
            except TraceError as exc:
                cause = exc.__cause__
                failures.append(dict(
                    module=exc.module, op=exc.op,
                    reason=f'{what} failed ({type(cause).__name__}: '
                    f'{cause}); nothing of it was analysed',
                    channels=None))
        if graph is None:
            self.report = failures[-1:]
            return {}
        self._collect(graph)
        self.report = failures + self.report
        return self.units

    # -- building the result ---------------------------------------------
    def _collect(self, graph: ChannelGraph) -> None:
        solved = graph.solve()
        touched: Dict[int, List[str]] = {}
        for unit in solved:
            name = self._name(unit)
            config = dict(
                init_args=dict(num_channels=unit.num_channels),
                channels=dict(output_related=unit.output_related,
                              input_related=unit.input_related))
            events = list(unit.events)
            if not unit.output_related and not events:
                graph.events.append(Event(None, None, 'no module writes '
                                          'these channels'))
                events.append(len(graph.events) - 1)
            if not events:
                self.units[name] = config
                continue
            reasons = list(dict.fromkeys(graph.events[e].reason
                                         for e in events))
            self.excluded_units[name] = dict(config, reason='; '.join(reasons))
            for e in events:
                touched.setdefault(e, []).append(name)
        seen = set()
        for index, event in enumerate(graph.events):
            for name in touched.get(index, [None]):
                if (event, name) not in seen:
                    seen.add((event, name))
                    self.report.append(dict(
                        module=event.module, op=event.op,
                        reason=event.reason, channels=name))

    def _name(self, unit: Unit) -> str:
        """``'{first output module}_({start}, {end})_{num_channels}'``;
        a unit no module writes is named after its first reader, with
        ``':input'`` after the module name."""
        if unit.output_related:
            ref, tag = unit.output_related[0], ''
        else:
            ref, tag = unit.input_related[0], ':input'
        base = (f"{ref['name']}{tag}_({ref['start']}, {ref['end']})_"
                f'{unit.num_channels}')
        name, i = base, 1
        while name in self.units or name in self.excluded_units:
            name, i = f'{base}#{i}', i + 1
        return name

    def summary(self) -> str:
        """A text table of the last :meth:`analyze`: prunable units,
        excluded units with their reasons, and the report."""
        lines = [f'ChannelAnalyzer ({self.tracer_type}): {len(self.units)} '
                 f'prunable units, {len(self.excluded_units)} excluded, '
                 f'{len(self.report)} report entries']
        width = max([len(n) for n in (*self.units, *self.excluded_units)] +
                    [4])
        if self.units:
            lines += ['', 'Prunable units:',
                      f'  {"unit":<{width}}  channels  outputs  inputs']
            for name, unit in self.units.items():
                ch = unit['channels']
                n = unit['init_args']['num_channels']
                lines.append(f'  {name:<{width}}  {n:>8}  '
                             f'{len(ch["output_related"]):>7}  '
                             f'{len(ch["input_related"]):>6}')
        if self.excluded_units:
            lines += ['', 'Excluded units:',
                      f'  {"unit":<{width}}  channels  reason']
            for name, unit in self.excluded_units.items():
                n = unit['init_args']['num_channels']
                lines.append(f'  {name:<{width}}  {n:>8}  {unit["reason"]}')
        if self.report:
            lines += ['', 'Report (module | op | reason | channels):']
            for r in self.report:
                lines.append(f'  {r["module"]} | {r["op"]} | {r["reason"]} | '
                             f'{r["channels"]}')
        return '\n'.join(lines)
