# Copyright (c) OpenMMLab. All rights reserved.
"""Per module type / per module name qconfigs, any bit width, for research."""
import pydoc
from typing import Any, Dict, List, Optional, Sequence, Tuple

from torch import nn

from mmrazor.registry import MODELS

from .base import BaseQuantizer
from .qconfig import QConfigHandler

GLOBAL_KEY = '_global_'
OBJECT_TYPE_KEY = 'object_type'
MODULE_NAME_KEY = 'module_name'


def _resolve_type(name: Any) -> type:
    """``'torch.nn.Conv2d'`` (or a class) -> the module class."""
    cls = pydoc.locate(name) if isinstance(name, str) else name
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(
            f'AcademicQuantizer: qconfig_mapping.object_type names {name!r},'
            ' which is not an importable nn.Module class (write e.g. '
            "'torch.nn.Conv2d')")
    return cls


def _pairs(mapping: Dict[str, Any], key: str) -> List[Tuple[Any, Dict]]:
    value = mapping.get(key, [])
    if isinstance(value, dict):
        value = list(value.items())
    for item in value:
        if not (isinstance(item, (list, tuple)) and len(item) == 2):
            raise ValueError(
                f'AcademicQuantizer: qconfig_mapping.{key} must be a list '
                f'of (name, qconfig) pairs; got item {item!r}')
    return [tuple(item) for item in value]


@MODELS.register_module()
class AcademicQuantizer(BaseQuantizer):
    """Quantize with qconfigs per module type and per module name.

    Not tied to a deploy backend: any grid of 2 to 8 bits, symmetric or not,
    per tensor or per channel. Quantize/dequantize pairs sit on the inputs
    and weights of convs and linears and on the inputs of matmuls. The
    qconfig of a node is, by increasing priority, the ``_global_`` one, the
    one of its module's type (``object_type``), the one of its module's name
    or an enclosing module's name (``module_name``); None keeps it in float.

    Args:
        qconfig_mapping (dict): ``_global_`` (a qconfig), ``object_type``
            (list of ``('torch.nn.Conv2d', qconfig)``) and ``module_name``
            (list of ``('backbone.layer4', qconfig)``).
        keep_float (Sequence[str], optional): Module names kept in float.
            Defaults to None.
        tracer (dict, optional): Accepted and ignored (torch.export).
        prepare_custom_config (dict, optional): The original's FX option,
            accepted and ignored.

    Examples:
        >>> def qconfig(bit):
        ...     return dict(
        ...         w_observer=dict(type='PerChannelMinMaxObserver'),
        ...         a_observer=dict(type='MovingAverageMinMaxObserver'),
        ...         w_fake_quant=dict(type='FakeQuantize'),
        ...         a_fake_quant=dict(type='FakeQuantize'),
        ...         w_qscheme=dict(qdtype='qint8', bit=bit, is_symmetry=True),
        ...         a_qscheme=dict(qdtype='quint8', bit=bit, is_symmetry=True))
        >>> quantizer = AcademicQuantizer(qconfig_mapping=dict(
        ...     _global_=qconfig(8), module_name=[('head', qconfig(4))]))
        >>> spec = quantizer.name_handlers[0][1].weight_spec  # 'head': 4 bits
        >>> spec.quant_min, spec.quant_max
        (-8, 7)
    """

    backend = 'academic'

    def __init__(self,
                 qconfig_mapping: Dict[str, Any],
                 keep_float: Optional[Sequence[str]] = None,
                 tracer: Optional[Dict] = None,
                 prepare_custom_config: Optional[Dict] = None) -> None:
        if not isinstance(qconfig_mapping, dict):
            raise TypeError('AcademicQuantizer: qconfig_mapping must be a '
                            f'dict, got {qconfig_mapping!r}')
        unknown = set(qconfig_mapping) - {GLOBAL_KEY, OBJECT_TYPE_KEY,
                                          MODULE_NAME_KEY}
        if unknown:
            raise KeyError(f'AcademicQuantizer: qconfig_mapping has '
                           f'{sorted(unknown)}; allowed keys: '
                           f'{[GLOBAL_KEY, OBJECT_TYPE_KEY, MODULE_NAME_KEY]}')
        object_types = _pairs(qconfig_mapping, OBJECT_TYPE_KEY)
        module_names = _pairs(qconfig_mapping, MODULE_NAME_KEY)
        global_qconfig = qconfig_mapping.get(GLOBAL_KEY)
        if global_qconfig is None:
            # BaseQuantizer validates one qconfig; take the first given
            firsts = [q for _, q in object_types + module_names if q]
            if not firsts:
                raise ValueError('AcademicQuantizer: qconfig_mapping gives '
                                 'no qconfig (_global_, object_type or '
                                 'module_name)')
            global_qconfig = firsts[0]
        kwargs = {} if prepare_custom_config is None else dict(
            prepare_custom_config=prepare_custom_config)
        super().__init__(global_qconfig, keep_float, tracer, **kwargs)
        self.global_handler = (self.qconfig if GLOBAL_KEY in qconfig_mapping
                               else None)
        self.type_handlers = [(_resolve_type(t), None if q is None else
                               QConfigHandler(q)) for t, q in object_types]
        self.name_handlers = [(n[len('architecture.'):] if n.startswith(
            'architecture.') else n, None if q is None else
                               QConfigHandler(q)) for n, q in module_names]

    def torchao_quantizer(self) -> Any:
        """A :class:`RuleQuantizer` with per-node qconfigs."""
        from ._annotate import RuleQuantizer
        return RuleQuantizer(self._config_for, matmul=True)

    def _config_for(self, node: Any) -> Optional[QConfigHandler]:
        from ._annotate import in_names, module_path, module_type
        path = module_path(node)
        if in_names(path, self.keep_float):
            return None
        # longest matching module name wins
        named = [(len(n), h) for n, h in self.name_handlers
                 if in_names(path, [n])]
        if named:
            return max(named, key=lambda item: item[0])[1]
        kind = pydoc.locate(module_type(node)) if module_type(node) else None
        for cls, handler in self.type_handlers:
            if isinstance(kind, type) and issubclass(kind, cls):
                return handler
        return self.global_handler
