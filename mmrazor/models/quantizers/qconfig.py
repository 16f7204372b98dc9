# Copyright (c) OpenMMLab. All rights reserved.
"""The quantization config language, translated into torchao PT2E specs.

A qconfig names observers and fake quantizers by their registered names and
describes the integer grid of weights and activations::

    global_qconfig = dict(
        w_observer=dict(type='mmrazor.PerChannelMinMaxObserver'),
        a_observer=dict(type='mmrazor.MovingAverageMinMaxObserver'),
        w_fake_quant=dict(type='mmrazor.FakeQuantize'),
        a_fake_quant=dict(type='mmrazor.FakeQuantize'),
        w_qscheme=dict(qdtype='qint8', bit=8, is_symmetry=True,
                       is_symmetric_range=True),
        a_qscheme=dict(qdtype='quint8', bit=8, is_symmetry=True,
                       averaging_constant=0.1))

:class:`QConfigHandler` turns it into one torchao ``QuantizationSpec`` for
weights and one for activations (a fake quantizer wrapping the observer, so
the same prepared graph calibrates, trains and converts). A scheme is
per-channel when its observer's name contains ``PerChannel`` (the original
MMRazor's rule); extra ``*_qscheme`` keys (``averaging_constant``...) go to
the observer.
"""
import inspect
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

import torch

from mmrazor.registry import MODELS
from mmrazor.utils.torchao_import import import_pt2e

REQUIRED_KEYS = ('w_observer', 'a_observer', 'w_fake_quant', 'a_fake_quant',
                 'w_qscheme', 'a_qscheme')
QDTYPES = {'quint8': torch.uint8, 'qint8': torch.int8}
BIT_RANGE = (2, 8)


def _strip_scope(name: str) -> str:
    """``'mmrazor.FakeQuantize'`` -> ``'FakeQuantize'``."""
    return name.split('.', 1)[1] if name.startswith('mmrazor.') else name


def get_registered(cfg: Any, key: str) -> type:
    """The class named by ``cfg['type']`` in ``MODELS`` (mmrazor scope).

    Args:
        cfg (dict): ``dict(type=name)``.
        key (str): The qconfig key holding it, for error messages.

    Returns:
        type: The registered class.
    """
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'qconfig `{key}` must be a dict with a `type`, e.g. '
                        f"dict(type='mmrazor.MinMaxObserver'); got {cfg!r}")
    import_pt2e()
    import mmrazor.models  # noqa: F401  (registers observers/fake quants)
    name = _strip_scope(cfg['type'])
    cls = MODELS.get(name)
    if cls is None:
        from mmrazor.models.fake_quants import TORCHAO_FAKE_QUANTS
        from mmrazor.models.observers import TORCHAO_OBSERVERS
        known = sorted({*TORCHAO_OBSERVERS, *TORCHAO_FAKE_QUANTS,
                        'LSQObserver', 'LSQPerChannelObserver',
                        'LearnableFakeQuantize'})
        raise KeyError(f'qconfig `{key}`: type {cfg["type"]!r} is not '
                       f'registered in mmrazor; known: {known}')
    return cls


@dataclass
class QScheme:
    """One integer grid, as PT2E quantization specs describe it.

    Attributes:
        dtype (torch.dtype): ``torch.uint8`` or ``torch.int8``.
        bit (int): Bit width.
        quant_min (int): Smallest integer.
        quant_max (int): Largest integer.
        qscheme (torch.qscheme): Per tensor/channel, symmetric/affine.
        is_per_channel (bool): Whether scales are per output channel.
        extra (dict): Further observer arguments.
    """
    dtype: torch.dtype
    bit: int
    quant_min: int
    quant_max: int
    qscheme: torch.qscheme
    is_per_channel: bool
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def is_symmetric(self) -> bool:
        """Whether the zero point is fixed (symmetric scheme)."""
        return self.qscheme in (torch.per_tensor_symmetric,
                                torch.per_channel_symmetric)


def parse_qscheme(cfg: Dict[str, Any], key: str,
                  is_per_channel: bool) -> QScheme:
    """Translate a ``w_qscheme`` / ``a_qscheme`` dict.

    Args:
        cfg (dict): ``qdtype`` ('quint8' or 'qint8', default 'quint8'),
            ``bit`` (2-8, default 8), ``is_symmetry`` (default True),
            ``is_symmetric_range`` (qint8 only: ``[-2^(b-1)+1, 2^(b-1)-1]``,
            default False) and extra observer arguments.
        key (str): The qconfig key, for error messages.
        is_per_channel (bool): Per-channel scales.

    Returns:
        QScheme: The grid.
    """
    cfg = dict(cfg)
    qdtype = cfg.pop('qdtype', 'quint8')
    bit = cfg.pop('bit', 8)
    is_symmetry = cfg.pop('is_symmetry', True)
    symmetric_range = cfg.pop('is_symmetric_range', False)
    if qdtype not in QDTYPES:
        raise ValueError(f'`{key}.qdtype` is {qdtype!r}; allowed: '
                         f'{sorted(QDTYPES)}')
    if not isinstance(bit, int) or not BIT_RANGE[0] <= bit <= BIT_RANGE[1]:
        raise ValueError(f'`{key}.bit` is {bit!r}; allowed: integers '
                         f'{BIT_RANGE[0]} to {BIT_RANGE[1]}')
    if qdtype == 'quint8':
        quant_min, quant_max = 0, 2**bit - 1
    else:
        quant_max = 2**(bit - 1) - 1
        quant_min = -quant_max if symmetric_range else -2**(bit - 1)
    if is_per_channel:
        qscheme = (torch.per_channel_symmetric
                   if is_symmetry else torch.per_channel_affine)
    else:
        qscheme = (torch.per_tensor_symmetric
                   if is_symmetry else torch.per_tensor_affine)
    return QScheme(QDTYPES[qdtype], bit, quant_min, quant_max, qscheme,
                   is_per_channel, cfg)


def _check_kwargs(cls: type, kwargs: Dict[str, Any], key: str) -> None:
    """Refuse extra qscheme keys the observer does not take."""
    params = inspect.signature(cls.__init__).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        # torchao observers forward **kwargs to their base; check the base
        for base in cls.__mro__[1:]:
            if '__init__' in vars(base):
                params = {**inspect.signature(base.__init__).parameters,
                          **params}
    accepted = {n for n, p in params.items() if p.kind is not p.VAR_KEYWORD}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ValueError(
            f'`{key}` has {unknown}, which {cls.__name__} does not take; '
            f'remove them or pick an observer that does (e.g. '
            f'MovingAverageMinMaxObserver takes averaging_constant)')


class QConfigHandler:
    """Translate a qconfig dict into torchao PT2E quantization specs.

    Args:
        qconfig (dict): The six keys of :data:`REQUIRED_KEYS`.

    Attributes:
        w_qscheme (QScheme): The weight grid.
        a_qscheme (QScheme): The activation grid.
        weight_spec: torchao ``QuantizationSpec`` of weights.
        activation_spec: torchao ``QuantizationSpec`` of activations.
    """

    def __init__(self, qconfig: Dict[str, Any]) -> None:
        if not isinstance(qconfig, dict):
            raise TypeError(f'a qconfig must be a dict, got {qconfig!r}')
        missing = [k for k in REQUIRED_KEYS if not isinstance(
            qconfig.get(k), dict)]
        if missing:
            raise KeyError(f'qconfig lacks {missing} (each a dict); a qconfig '
                           f'needs {list(REQUIRED_KEYS)}')
        self.qconfig = qconfig
        self.w_observer = get_registered(qconfig['w_observer'], 'w_observer')
        self.a_observer = get_registered(qconfig['a_observer'], 'a_observer')
        self.w_fake_quant = get_registered(qconfig['w_fake_quant'],
                                           'w_fake_quant')
        self.a_fake_quant = get_registered(qconfig['a_fake_quant'],
                                           'a_fake_quant')
        self.w_qscheme = parse_qscheme(
            qconfig['w_qscheme'], 'w_qscheme',
            'PerChannel' in self.w_observer.__name__)
        self.a_qscheme = parse_qscheme(
            qconfig['a_qscheme'], 'a_qscheme',
            'PerChannel' in self.a_observer.__name__)
        _check_kwargs(self.w_observer, self.w_qscheme.extra, 'w_qscheme')
        _check_kwargs(self.a_observer, self.a_qscheme.extra, 'a_qscheme')
        self.weight_spec = self._spec(self.w_qscheme, self.w_observer,
                                      self.w_fake_quant, ch_axis=0)
        self.activation_spec = self._spec(self.a_qscheme, self.a_observer,
                                          self.a_fake_quant, ch_axis=1)

    @staticmethod
    def _spec(scheme: QScheme, observer: type, fake_quant: type,
              ch_axis: int) -> Any:
        import_pt2e()
        from torchao.quantization.pt2e.quantizer import QuantizationSpec
        ctr = fake_quant.with_args(observer=observer, **scheme.extra)
        return QuantizationSpec(
            dtype=scheme.dtype,
            observer_or_fake_quant_ctr=ctr,
            quant_min=scheme.quant_min,
            quant_max=scheme.quant_max,
            qscheme=scheme.qscheme,
            ch_axis=ch_axis if scheme.is_per_channel else None)

    def quantization_config(self) -> Any:
        """The torchao ``QuantizationConfig`` (QAT-style, bias in float)."""
        from torchao.quantization.pt2e.quantizer import QuantizationConfig
        return QuantizationConfig(
            input_activation=self.activation_spec,
            output_activation=self.activation_spec,
            weight=self.weight_spec,
            bias=None,
            is_qat=True)

    def describe(self) -> Tuple[str, str]:
        """One line per grid, e.g. ``'int8 [-127, 127] per_channel_sym'``."""
        def line(s: QScheme) -> str:
            return (f'{s.bit}-bit {s.dtype} [{s.quant_min}, {s.quant_max}] '
                    f'{s.qscheme}')
        return line(self.w_qscheme), line(self.a_qscheme)


def spec_of(qconfig: Optional[Dict[str, Any]]) -> Optional[QConfigHandler]:
    """``QConfigHandler(qconfig)``, or None for a None qconfig."""
    return None if qconfig is None else QConfigHandler(qconfig)
