# Copyright (c) OpenMMLab. All rights reserved.
"""Search loop settings a user can get wrong are named in the error."""
import pytest
from mmengine.runner import Runner

from ..test_engine.conftest import fake_loader, search_cfg


def build_loop(tmp_path, **loop_kwargs):
    runner = Runner.from_cfg(search_cfg(tmp_path, **loop_kwargs))
    return runner.build_train_loop(runner._train_loop)


@pytest.mark.parametrize('kwargs,pattern', [
    (dict(num_candidates=0), '`num_candidates` must be an int >= 1, but '
     'got 0'),
    (dict(max_epochs=0), '`max_epochs` must be an int >= 1, but got 0'),
    (dict(max_sample_attempts=-1), '`max_sample_attempts`'),
    (dict(top_k=7), r'`top_k` must be an int in \[1, 6\]'),
])
def test_bad_search_settings(tmp_path, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        build_loop(tmp_path, **kwargs)


def test_empty_search_dataset(tmp_path):
    loader = fake_loader(num_samples=0)
    with pytest.raises(ValueError, match='yields no batch'):
        build_loop(tmp_path, dataloader=loader)
