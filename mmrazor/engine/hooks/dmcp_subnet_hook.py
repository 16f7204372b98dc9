# Copyright (c) OpenMMLab. All rights reserved.
"""Sample the subnets of a trained DMCP model at the end of the run."""
import os
import os.path as osp
from typing import Dict

from mmengine.hooks import Hook
from mmengine.registry import HOOKS as MMENGINE_HOOKS

from mmrazor.registry import HOOKS
from mmrazor.utils.atomic_file import atomic_dump_json
from mmrazor.utils.model_wrappers import unwrap_model


@HOOKS.register_module()
class DMCPSubnetHook(Hook):
    """Write the subnets a trained ``DMCP`` model samples, to retrain them.

    After the run, ``subnet_sample_num`` walks of the Markov chains
    ('direct' sampling) whose FLOPs lie within 5% of the model's
    ``target_flops`` are written to
    ``work_dir/model_sample/subnet_<i>.json``, and the expected widths to
    ``expected_ch.json`` (the original wrote ``excepted_ch.json``). Each
    file is ``{unit name: channels}``, what ``sub_model(mode='mutator')``
    and ``GroupFisherDeploySubModel`` read. A folder left by an earlier run
    is kept: the next free ``model_sample_<n>`` is used.

    Like the original, the hook is also registered in mmengine's root
    ``HOOKS`` registry, so the original's settings, which name it without
    a scope inside an mmcls config (``dict(type='DMCPSubnetHook')``), find
    it.

    Args:
        subnet_sample_num (int): Direct samples written. Defaults to 10.
        max_attempts (int): Walks drawn per sample; when they run out, the
            direct sampling stops with a warning. Defaults to 1000.
    """

    priority = 'VERY_LOW'

    def __init__(self, subnet_sample_num: int = 10,
                 max_attempts: int = 1000) -> None:
        for field, value, low in (('subnet_sample_num', subnet_sample_num,
                                   0), ('max_attempts', max_attempts, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or \
                    value < low:
                raise ValueError(f'DMCPSubnetHook: {field} must be an int '
                                 f'>= {low}, got {value!r}')
        self.subnet_sample_num = subnet_sample_num
        self.max_attempts = max_attempts

    @staticmethod
    def _structure(model) -> Dict[str, int]:
        return {u.name: int(u.activated_channels)
                for u in model.mutator.units}

    def after_run(self, runner) -> None:
        """Sample and write the subnets (main process only)."""
        if runner.rank != 0:
            return
        model = unwrap_model(runner.model)
        if not hasattr(model, 'mutator') or not hasattr(
                model.mutator, 'sample_subnet'):
            raise TypeError('DMCPSubnetHook needs a DMCP model, got '
                            f'{type(model).__name__}')
        root = osp.join(runner.work_dir, 'model_sample')
        n = 1
        while osp.exists(root):
            root = osp.join(runner.work_dir, f'model_sample_{n}')
            n += 1
        os.makedirs(root)
        target = model.target_flops
        for i in range(self.subnet_sample_num):
            for _ in range(self.max_attempts):
                model.set_subnet('direct', arch_train=False)
                flops = model.calc_current_flops()
                if 0.95 * target <= flops <= 1.05 * target:
                    break
            else:
                runner.logger.warning(
                    f'DMCPSubnetHook: no walk within 5% of {target} MFLOPs '
                    f'in {self.max_attempts} draws (last {flops:.1f}); no '
                    f'more direct samples are drawn ({i} written)')
                break
            path = osp.join(root, f'subnet_{i + 1}.json')
            atomic_dump_json(self._structure(model), path, indent=1)
            runner.logger.info(f'Direct sample {i + 1}: {flops:.1f} MFLOPs '
                               f'-> {path}')
        model.set_subnet('expected', arch_train=False)
        path = osp.join(root, 'expected_ch.json')
        atomic_dump_json(self._structure(model), path, indent=1)
        runner.logger.info(
            f'Expected widths: {model.calc_current_flops():.1f} MFLOPs '
            f'-> {path}')
        model.set_subnet('max', arch_train=False)


# the original registered it in mmengine's root registry (see the class)
MMENGINE_HOOKS.register_module(name='DMCPSubnetHook', module=DMCPSubnetHook)
