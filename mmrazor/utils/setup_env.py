# Copyright (c) OpenMMLab. All rights reserved.
"""Environment set-up helpers."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register all modules of mmrazor into its registries.

    Importing the packages is enough since every registry also knows its
    ``locations``; this function is for scripts that want everything
    registered up front.

    Args:
        init_default_scope (bool): Whether to set the default scope to
            ``'mmrazor'``, so that configs may name mmrazor components
            without the ``mmrazor.`` prefix. If the current default scope is
            another one, a new scope named ``mmrazor-<time>`` is created and
            made current. Defaults to True.
    """
    import mmrazor.datasets  # noqa: F401
    import mmrazor.engine  # noqa: F401
    import mmrazor.models  # noqa: F401
    import mmrazor.structures  # noqa: F401

    if not init_default_scope:
        return
    never_created = (
        DefaultScope.get_current_instance() is None
        or not DefaultScope.check_instance_created('mmrazor'))
    if never_created:
        DefaultScope.get_instance('mmrazor', scope_name='mmrazor')
        return
    current_scope = DefaultScope.get_current_instance()
    if current_scope.scope_name != 'mmrazor':
        warnings.warn('The current default scope '
                      f'"{current_scope.scope_name}" is not "mmrazor", '
                      '`register_all_modules` will force the current '
                      'default scope to be "mmrazor". If this is not '
                      'expected, please set `init_default_scope=False`.',
                      stacklevel=2)
        new_instance_name = f'mmrazor-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_instance_name, scope_name='mmrazor')
