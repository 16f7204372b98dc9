# Copyright (c) OpenMMLab. All rights reserved.
"""The third-party warning filter hides exactly the dependencies' noise.

Through the CLI: a fresh ``python -W default`` process that imports mmrazor,
then mmcls and mmengine's runner, prints none of the three warnings every
run used to print, while a warning of the same category with another
message (as mmrazor's own) still shows.
"""
import logging
import subprocess
import sys
import textwrap

from mmrazor.third_party_warnings import (
    THIRD_PARTY_LOG_LINES,
    quiet_third_party_logs,
)

from .test_examples.conftest import ROOT, python_env

NOISE = ('MultiScaleDeformableAttention', 'pkg_resources is deprecated',
         '"FileClient" will be deprecated')


def test_import_hides_dependency_warnings_only():
    script = textwrap.dedent("""
        import warnings

        import mmrazor  # noqa: F401
        import mmcls.models  # noqa: F401
        from mmengine.runner import Runner  # noqa: F401
        warnings.warn('pkg_resources is fine: a UserWarning of our own')
        warnings.warn('mmrazor: a warning of our own', DeprecationWarning)
    """)
    proc = subprocess.run([sys.executable, '-W', 'default', '-c', script],
                          cwd=str(ROOT), env=python_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for noise in NOISE:
        assert noise not in proc.stderr
    assert 'pkg_resources is fine: a UserWarning of our own' in proc.stderr
    assert 'mmrazor: a warning of our own' in proc.stderr


def test_log_filter_drops_mmengine_deprecation_lines_only():
    logger = logging.getLogger('mmrazor_test_third_party_logs')
    quiet_third_party_logs(logger)
    quiet_third_party_logs(logger)  # idempotent
    assert len(logger.filters) == 1
    (log_filter, ) = logger.filters

    def kept(message: str) -> bool:
        return log_filter.filter(
            logging.LogRecord('x', logging.WARNING, '', 0, message, None,
                              None))

    for line in THIRD_PARTY_LOG_LINES:
        assert not kept(line + ' Please use io functions')
    assert kept('Epoch(train) [1][10/10] loss: 0.5')
    assert kept('mmrazor: "FileClient" will be deprecated in future')
