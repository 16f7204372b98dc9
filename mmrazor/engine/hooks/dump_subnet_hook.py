# Copyright (c) OpenMMLab. All rights reserved.
"""Saves the subnet being trained next to the checkpoints."""
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mmrazor.registry import HOOKS
from mmrazor.structures import export_fix_subnet, save_subnet_file
from mmrazor.utils.model_wrappers import unwrap_model


@HOOKS.register_module()
class DumpSubnetHook(Hook):
    """Write the model's current subnet as a yaml file every ``interval``.

    The subnet is ``model.export_subnet()`` when the algorithm defines it
    (DARTS and DSNAS derive theirs from the architecture parameters), else
    the current choices of the architecture's mutables.

    The file is ``subnet_epoch_{n}.yaml`` (or ``subnet_iter_{n}.yaml``) in
    the work dir (or ``out_dir``), in the subnet format that
    ``load_fix_subnet`` and ``sub_model`` read. An existing file of the same
    name (from an earlier or resumed run) is kept: the new one gets the
    run's timestamp as a suffix.

    Args:
        interval (int): Save every ``interval`` epochs or iterations; -1
            saves only at the end of training. Defaults to -1.
        by_epoch (bool): Count epochs (else iterations). Defaults to True.
        out_dir (str, optional): Folder of the files. Defaults to the
            runner's work dir.
        save_last (bool): Also save at the end of training. Defaults to
            True.
    """

    priority = 'VERY_LOW'

    def __init__(self,
                 interval: int = -1,
                 by_epoch: bool = True,
                 out_dir: Optional[str] = None,
                 save_last: bool = True) -> None:
        self.interval = interval
        self.by_epoch = by_epoch
        self.out_dir = out_dir
        self.save_last = save_last
        self._last_saved: Optional[int] = None

    def after_train_epoch(self, runner) -> None:
        if self.by_epoch and self.interval > 0 and self.every_n_epochs(
                runner, self.interval):
            self._dump(runner, f'epoch_{runner.epoch + 1}')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if self.by_epoch or self.interval <= 0:
            return
        if self.every_n_train_iters(runner, self.interval):
            self._dump(runner, f'iter_{runner.iter + 1}')

    def after_train(self, runner) -> None:
        if not self.save_last:
            return
        step = runner.epoch if self.by_epoch else runner.iter
        if step != self._last_saved:
            unit = 'epoch' if self.by_epoch else 'iter'
            self._dump(runner, f'{unit}_{step}')

    def _dump(self, runner, tag: str) -> None:
        self._last_saved = int(tag.split('_')[-1])
        if not is_main_process():
            return
        model = unwrap_model(runner.model)
        arch = getattr(model, 'architecture', model)
        path = osp.join(self.out_dir or runner.work_dir,
                        f'subnet_{tag}.yaml')
        if osp.exists(path):
            # A resumed or repeated run: keep the earlier file.
            path = path[:-len('.yaml')] + f'_{runner.timestamp}.yaml'
        # an algorithm that derives its subnet (Darts, DSNAS) says how
        export = getattr(model, 'export_subnet', None)
        subnet = export() if export is not None else export_fix_subnet(arch)
        save_subnet_file(subnet, path)
        runner.logger.info(f'Subnet saved to {path}')
