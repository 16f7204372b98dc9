# Copyright (c) OpenMMLab. All rights reserved.
"""The base of mmrazor's quantizers: a qconfig, backend limits, prepare.

A quantizer turns the qconfig language into a torchao PT2E ``Quantizer``
(:meth:`BaseQuantizer.torchao_quantizer`) and prepares an exported graph
with it (:meth:`BaseQuantizer.prepare`): fake quantizers (each wrapping its
observer) on the edges the backend runs in int8. The same prepared graph
calibrates (observers on), trains (QAT/LSQ) and converts to int8.
"""
from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List, Optional, Sequence

from mmengine.logging import print_log
from torch.fx import GraphModule

from mmrazor.utils.torchao_import import import_pt2e

from .qconfig import QConfigHandler, QScheme

#: Any scheme the config language can express (2-8 bits).
ANY = dict(qdtype=('qint8', 'quint8'), bit=tuple(range(2, 9)),
           is_symmetry=(True, False), per_channel=(True, False))


def _scheme_values(scheme: QScheme) -> Dict[str, Any]:
    return dict(
        qdtype='quint8' if scheme.quant_min >= 0 else 'qint8',
        bit=scheme.bit,
        is_symmetry=scheme.is_symmetric,
        per_channel=scheme.is_per_channel)


def check_scheme(scheme: QScheme, key: str, allowed: Dict[str, Sequence],
                 owner: str) -> None:
    """Raise if a grid is one the backend cannot run.

    Args:
        scheme (QScheme): The parsed grid.
        key (str): ``'w_qscheme'`` or ``'a_qscheme'``.
        allowed (dict): Allowed values of ``qdtype``, ``bit``,
            ``is_symmetry`` and ``per_channel`` (the observer kind).
        owner (str): The quantizer, for the message.
    """
    for name, value in _scheme_values(scheme).items():
        if value not in allowed[name]:
            where = (f'`{key}` observer (PerChannel or not)'
                     if name == 'per_channel' else f'`{key}.{name}`')
            raise ValueError(
                f'{where} is {value!r}, which {owner} cannot run; allowed: '
                f'{list(allowed[name])}. Change the qconfig, or use '
                'AcademicQuantizer for schemes no backend runs.')


class BaseQuantizer(metaclass=ABCMeta):
    """A qconfig, the limits of a backend, and PT2E preparation.

    Args:
        global_qconfig (dict): The qconfig of every quantized op (see
            :class:`~mmrazor.models.quantizers.qconfig.QConfigHandler`).
        keep_float (Sequence[str], optional): Module names (e.g.
            ``'backbone.conv1'``) whose ops stay in float (mixed
            precision). Defaults to None.
        tracer (dict, optional): The original MMRazor's FX tracer config.
            Accepted and ignored: graphs come from ``torch.export``.
        **kwargs: Other options of the original's FX quantizers
            (``no_observer_modules``, ``extra_redundant_fakequants``),
            accepted and ignored with a notice.
    """

    #: name of the deploy backend.
    backend = 'native'
    #: grids the backend runs: see :func:`check_scheme`.
    w_allowed: Dict[str, Sequence] = ANY
    a_allowed: Dict[str, Sequence] = ANY

    def __init__(self,
                 global_qconfig: Optional[Dict] = None,
                 keep_float: Optional[Sequence[str]] = None,
                 tracer: Optional[Dict] = None,
                 **kwargs: Any) -> None:
        import_pt2e()
        name = type(self).__name__
        ignored = (['tracer'] if tracer is not None else []) + sorted(kwargs)
        if ignored:
            print_log(
                f'{name}: {ignored} configure the original FX tracing and '
                'are ignored; graphs come from torch.export.',
                logger='current')
        if global_qconfig is None:
            raise ValueError(f'{name} needs `global_qconfig` (a dict with '
                             'w_observer, a_observer, w_fake_quant, '
                             'a_fake_quant, w_qscheme, a_qscheme)')
        self.qconfig = QConfigHandler(global_qconfig)
        check_scheme(self.qconfig.w_qscheme, 'w_qscheme', self.w_allowed,
                     name)
        check_scheme(self.qconfig.a_qscheme, 'a_qscheme', self.a_allowed,
                     name)
        if isinstance(keep_float, str):
            keep_float = [keep_float]
        self.keep_float: List[str] = [
            n[len('architecture.'):] if n.startswith('architecture.') else n
            for n in (keep_float or [])
        ]
        #: rows of :func:`~._annotate.coverage_report` after :meth:`prepare`
        self.report: List[Dict[str, str]] = []

    @abstractmethod
    def torchao_quantizer(self) -> Any:
        """Return the torchao ``Quantizer`` that annotates the graph."""

    def prepare(self, graph_module: GraphModule) -> GraphModule:
        """Insert fake quantizers into an exported (train-mode) graph.

        Args:
            graph_module (GraphModule): ``torch.export(...).module()``.

        Returns:
            GraphModule: The prepared graph; :attr:`report` lists which
            compute ops it quantizes.
        """
        from torchao.quantization.pt2e.quantize_pt2e import prepare_qat_pt2e

        from ._annotate import coverage_report
        prepared = prepare_qat_pt2e(graph_module, self.torchao_quantizer())
        self.report = coverage_report(prepared, self.keep_float,
                                      type(self).__name__)
        return prepared
