# Copyright (c) OpenMMLab. All rights reserved.
"""CPU distributed runs fail in minutes when a peer hangs, and the search
guide says what a missing ``resume_from`` does."""
import re
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from ..test_engine.conftest import search_cfg

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / 'configs').rglob('*.py'))
# Where users read how to run with gloo: docs, launchers, train tool help.
TEXTS = sorted((ROOT / 'docs' / 'en').rglob('*.md')) + [
    ROOT / 'tools' / 'dist_train.sh', ROOT / 'tools' / 'dist_test.sh',
    ROOT / 'tools' / 'train.py', ROOT / 'tools' / 'runner_utils.py'
]
MAX_TIMEOUT = 600  # seconds: "minutes, not 30"


def gloo_configs():
    return [p for p in CONFIGS if re.search(r"backend=['\"]gloo",
                                            p.read_text())]


@pytest.mark.parametrize('path', gloo_configs(),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_gloo_configs_set_a_timeout(path):
    dist_cfg = Config.fromfile(str(path)).env_cfg.dist_cfg
    assert dist_cfg.backend == 'gloo'
    assert 0 < dist_cfg.get('timeout', 1800) <= MAX_TIMEOUT


def test_gloo_configs_found():
    assert len(gloo_configs()) >= 4


@pytest.mark.parametrize('path', TEXTS,
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_gloo_commands_set_a_timeout(path):
    # Each `dist_cfg.backend=gloo` option is followed (in the same command,
    # message or sentence) by `dist_cfg.timeout=`.
    text = path.read_text()
    for match in re.finditer(r'env_cfg\.dist_cfg\.backend=gloo', text):
        after = text[match.end():match.end() + 120]
        assert 'env_cfg.dist_cfg.timeout=' in after, (
            f'{path.relative_to(ROOT)}: {text[match.start():][:160]!r}')


def test_missing_resume_from_is_the_documented_error(tmp_path):
    missing = 'work_dirs/search/search_stat.json'
    cfg = search_cfg(tmp_path, resume_from=missing)
    with pytest.raises(FileNotFoundError) as error:
        Runner.from_cfg(cfg).train()
    guide = (ROOT / 'docs/en/user_guides/search.md').read_text()
    assert f'FileNotFoundError: {error.value}' in guide
    assert 'starts from the beginning,\nwithout a warning' not in guide
