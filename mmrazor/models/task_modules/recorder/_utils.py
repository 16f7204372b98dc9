# Copyright (c) OpenMMLab. All rights reserved.
"""Plumbing shared by recorders and deliveries.

* :func:`resolve_path` turns an import path such as
  ``'mmcls.models.ClsHead.loss'`` into the object that owns the attribute and
  the attribute name, with errors that name the path and close matches.
* :class:`Patch` replaces that attribute by a wrapper and puts the original
  back on :meth:`Patch.restore`.
* :func:`build_component` builds a recorder or delivery from a config whose
  ``type`` is its exact registered name in ``TASK_UTILS``.
* :class:`ComponentGroup` is the base of the recorder and delivery managers:
  named members built from configs, entered together, left in reverse
  order.
"""
import contextlib
import importlib
import inspect
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
    Tuple,
    Union,
)

from mmrazor.registry import TASK_UTILS
from mmrazor.utils.validators import close_matches


def _missing_attr_error(field: str, path: str, owner: Any,
                        name: str) -> AttributeError:
    public = [n for n in dir(owner) if not n.startswith('__')]
    close = close_matches(name, public, cutoff=0.5)
    return AttributeError(
        f'{field}={path!r}: {getattr(owner, "__name__", owner)!r} has no '
        f'attribute {name!r}; close matches: {close}.')


def resolve_path(path: str, field: str = 'source') -> Tuple[Any, str]:
    """Resolve ``'package.module[.Class].name'`` to ``(owner, 'name')``.

    The longest importable prefix of the path is imported as a module; the
    remaining parts are looked up as attributes.

    Args:
        path (str): Import path of a function or a method.
        field (str): Name of the argument that holds ``path``, used in error
            messages. Defaults to 'source'.

    Returns:
        tuple: The object that holds the attribute (a module or a class) and
        the attribute name.
    """
    if not isinstance(path, str) or '.' not in path.strip('.'):
        raise ValueError(
            f'{field} must be an import path such as '
            f"'torch.nn.functional.relu' or 'mmcls.models.ClsHead.loss', "
            f'got {path!r}.')
    parts = path.split('.')
    module = None
    for stop in range(len(parts) - 1, 0, -1):
        module_name = '.'.join(parts[:stop])
        try:
            module = importlib.import_module(module_name)
            break
        except ModuleNotFoundError as e:
            # Only a missing prefix means "try a shorter one"; a module that
            # exists but fails to import its own dependency is a real error.
            if e.name is None or not module_name.startswith(e.name):
                raise
    if module is None:
        raise ImportError(f'{field}={path!r}: no prefix of this path is an '
                          f'importable module (tried down to {parts[0]!r}).')
    owner: Any = module
    for name in parts[stop:-1]:
        if not hasattr(owner, name):
            raise _missing_attr_error(field, path, owner, name)
        owner = getattr(owner, name)
    if not hasattr(owner, parts[-1]):
        raise _missing_attr_error(field, path, owner, parts[-1])
    return owner, parts[-1]


#: ``id(installed wrapper) -> Patch`` of every patch not yet unwound.
_PATCHES: Dict[int, 'Patch'] = {}


class Patch:
    """Replace ``owner.name`` by a wrapper of it, reversibly.

    Patches of one attribute stack. Restoring the top one also unwinds any
    already-restored ones right below it, so the original comes back
    whatever order the patches are restored in; a restored patch that is
    still covered stays in place as a pass-through until then.

    A ``staticmethod`` or ``classmethod`` is unwrapped before
    ``make_wrapper`` sees it and wrapped again afterwards. An attribute that
    ``owner`` only inherits is set on ``owner`` and deleted on restore.

    Args:
        owner (Any): The module or class that holds the attribute.
        name (str): The attribute name.
        make_wrapper (Callable): ``make_wrapper(func) -> wrapper``.
    """

    def __init__(self, owner: Any, name: str,
                 make_wrapper: Callable[[Callable], Callable]) -> None:
        self.owner = owner
        self.name = name
        self._had_own = name in vars(owner)
        self._raw = inspect.getattr_static(owner, name)
        self.is_static = isinstance(self._raw, staticmethod)
        if isinstance(self._raw, (staticmethod, classmethod)):
            self.func = self._raw.__func__
            wrapper = make_wrapper(self.func)
            self._installed: Any = type(self._raw)(wrapper)
        else:
            self.func = self._raw
            self._installed = make_wrapper(self.func)
        setattr(owner, name, self._installed)
        _PATCHES[id(self._installed)] = self
        self.active = True

    def restore(self) -> bool:
        """Put the original attribute back.

        Returns:
            bool: False when another patch covers this one: the wrapper then
            stays until that one is restored, and its owner must make it a
            pass-through (recorders and deliveries check a flag first).
        """
        if not self.active:
            return True
        self.active = False
        if vars(self.owner).get(self.name) is not self._installed:
            return False
        patch = self
        while True:
            _PATCHES.pop(id(patch._installed), None)
            if patch._had_own:
                setattr(self.owner, self.name, patch._raw)
            else:
                delattr(self.owner, self.name)
            below = _PATCHES.get(id(patch._raw))
            if below is None or below.active or below.owner is not self.owner:
                return True
            patch = below


def registered_names(base: type) -> List[str]:
    """Names in ``TASK_UTILS`` (scope mmrazor) of subclasses of ``base``."""
    TASK_UTILS.import_from_location()
    return sorted(name for name, cls in TASK_UTILS.module_dict.items()
                  if isinstance(cls, type) and issubclass(cls, base))


def build_component(cfg: Union[Dict, Any], base: type, field: str, key: str,
                    suffix: str) -> Any:
    """Build ``cfg`` through ``TASK_UTILS`` and check it is a ``base``.

    Args:
        cfg (dict | base): A config whose ``type`` is the registered name,
            the original MMRazor's short name (the registered name without
            ``suffix``, e.g. ``'ModuleOutputs'``) or the class, or an
            already built object.
        base (type): The class the result must be an instance of.
        field (str): The argument that holds the configs, for messages.
        key (str): The name of this entry in ``field``.
        suffix (str): The suffix the original MMRazor appended to a short
            ``type`` (``'Recorder'``, ``'Delivery'``).

    Returns:
        base: The built object.
    """
    if isinstance(cfg, base):
        return cfg
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(
            f'{field}[{key!r}] must be a dict with a "type" key or a '
            f'{base.__name__} instance, got {cfg!r}.')
    cfg = dict(cfg)
    type_ = cfg['type']
    cls = TASK_UTILS.get(type_) if isinstance(type_, str) else type_
    if isinstance(type_, str) and not (isinstance(cls, type)
                                       and issubclass(cls, base)):
        cls = TASK_UTILS.get(type_ + suffix)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ValueError(
            f'{field}[{key!r}]: type={type_!r} is not a registered '
            f'{base.__name__} in TASK_UTILS; registered: '
            f'{registered_names(base)} (or these without {suffix!r}).')
    cfg['type'] = cls
    return TASK_UTILS.build(cfg)


class ComponentGroup:
    """A named set of recorders or deliveries, driven together.

    The base of the recorder and delivery managers: it builds each member
    from its config (:func:`build_component`), looks members up by name,
    drops their data, and is a context manager that enters every member in
    order and leaves them in reverse order. If one fails to enter, those
    already entered are left (with the error) before it propagates; leaving
    leaves each, last first, even when one of them raises. Groups nest: each
    ``with`` keeps its own stack.

    Args:
        cfgs (dict, optional): ``{name: cfg or built member}``.
        base (type): The class every member is an instance of.
        field (str): The argument that holds the configs, for messages.
        kind (str): What a member is called in messages (``'recorder'``);
            capitalised, the suffix the original MMRazor appended to
            ``type`` (see :func:`build_component`).
    """

    def __init__(self, cfgs: Optional[Dict[str, Any]], base: type,
                 field: str, kind: str) -> None:
        self.kind = kind
        self._components: Dict[str, Any] = {
            name: build_component(cfg, base, field, name, kind.capitalize())
            for name, cfg in (cfgs or {}).items()
        }

    def _get(self, name: str) -> Any:
        if name not in self._components:
            raise KeyError(
                f'{type(self).__name__} has no {self.kind} named {name!r}; '
                f'available: {sorted(self._components)}.')
        return self._components[name]

    def reset_data(self) -> None:
        """Drop the data every member holds."""
        for component in self._components.values():
            component.reset_data()

    def __enter__(self) -> Any:
        with contextlib.ExitStack() as stack:
            for component in self._components.values():
                stack.enter_context(component)
            self.__dict__.setdefault('_context_stacks', []).append(
                stack.pop_all())
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> bool:
        stack = self.__dict__['_context_stacks'].pop()
        return stack.__exit__(exc_type, exc_value, traceback)
