# Copyright (c) OpenMMLab. All rights reserved.
"""A test hook: each rank writes the search records it holds."""
import json
import os.path as osp

from mmengine.dist import get_rank
from mmengine.hooks import Hook

from mmrazor.registry import HOOKS


@HOOKS.register_module(force=True)
class RankRecordsDumpHook(Hook):
    """Write ``records_rank{r}.json`` into the work dir after the search."""

    def after_train(self, runner) -> None:
        loop = runner.train_loop
        with open(osp.join(runner.work_dir,
                           f'records_rank{get_rank()}.json'), 'w') as f:
            json.dump(dict(records=loop.records, top_k=loop.top_k_keys), f,
                      sort_keys=True)
