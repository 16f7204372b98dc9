# Copyright (c) OpenMMLab. All rights reserved.
import pytest
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmrazor.engine import SelfDistillValLoop

from .test_distill_loop_and_hook import run_cfg


@pytest.fixture(autouse=True)
def plain_config_text(monkeypatch):
    """The runner logs its config as yapf-formatted text, which takes
    seconds; plain text does (nothing here reads it)."""
    monkeypatch.setattr(Config, 'pretty_text',
                        property(lambda self: repr(self.to_dict())))


def test_metrics_plain_and_with_the_student_prefix(tmp_path):
    cfg = run_cfg(tmp_path, max_epochs=1)
    cfg.val_cfg = dict(type='mmrazor.SelfDistillValLoop')
    runner = Runner.from_cfg(cfg)
    seen = {}
    runner.register_hook(_Spy(seen))
    runner.train()
    assert isinstance(runner.val_loop, SelfDistillValLoop)
    metrics = runner.val_loop.run()
    assert set(metrics) == {'accuracy/top1', 'student.accuracy/top1'}
    assert metrics['student.accuracy/top1'] == metrics['accuracy/top1']
    # hooks (checkpointing, logging) see both keys
    assert set(seen['metrics']) == set(metrics)
    # the student alone was validated: its accuracy, recomputed
    model = runner.model
    model.eval()
    correct = total = 0
    for batch in runner.val_dataloader:
        for sample in model.val_step(batch):
            correct += int(sample.pred_label.label == sample.gt_label.label)
            total += 1
    assert metrics['accuracy/top1'] == 100 * correct / total


class _Spy(Hook):
    priority = 'VERY_LOW'

    def __init__(self, seen):
        self.seen = seen

    def after_val_epoch(self, runner, metrics=None):
        self.seen['metrics'] = metrics
