# Copyright (c) OpenMMLab. All rights reserved.
"""Validation of a pruning run, with the cost of the current structure."""
import os.path as osp
from typing import Dict, List, Optional, Union

import torch
from mmengine.dist import is_main_process
from mmengine.evaluator import Evaluator
from mmengine.runner import ValLoop
from torch.utils.data import DataLoader

from mmrazor.models.task_modules.estimators import build_estimator
from mmrazor.models.utils import export_pruned_model
from mmrazor.registry import LOOPS
from mmrazor.utils.atomic_file import atomic_dump_json, atomic_torch_save
from mmrazor.utils.model_wrappers import unwrap_model

SUBNET_FILE = 'fix_subnet.json'
WEIGHT_FILE = 'fix_subnet_weight.pth'


@LOOPS.register_module()
class ItePruneValLoop(ValLoop):
    """Validate a pruned model, report its FLOPs and parameters, save it.

    After the usual validation, the architecture at its current structure
    (``model.architecture`` for an algorithm, else the model) is measured
    with a ``ResourceEstimator``: ``flops`` and ``params`` join the metrics
    (logged as ``val/flops``, ``val/params``, in the estimator's units). For
    a pruning algorithm (an ``architecture`` and a channel ``mutator``), the
    main process also writes into the work dir, replacing the previous
    validation's files:

    - ``fix_subnet.json``: the structure ``{unit name: kept channels}``,
      the ``fix_subnet`` of a ``GroupFisherDeploySubModel`` config;
    - ``fix_subnet_weight.pth``: the state dict of the exported static
      model (:func:`mmrazor.models.utils.export_pruned_model`), which loads
      into that deploy model (and with ``torch.load(weights_only=True)``).

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Validation data.
        evaluator (Evaluator | dict | list): Validation metrics.
        fp16 (bool): Whether to validate with automatic mixed precision.
            Defaults to False.
        estimator_cfg (dict, optional): ``ResourceEstimator`` config.
            Defaults to None: 224x224 inputs, MFLOPs and M params, counted by
            a real forward.
        save_subnet (bool): Whether to write the two files. Defaults to
            True.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False,
                 estimator_cfg: Optional[Dict] = None,
                 save_subnet: bool = True) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        # masks shared by several layers do not survive the meta device
        self.estimator = build_estimator(
            estimator_cfg, flops_params_cfg=dict(use_meta=False))
        self.save_subnet = bool(save_subnet)

    def run(self) -> Dict[str, float]:
        """Validate, measure and save; return the metrics."""
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        model = unwrap_model(self.runner.model)
        architecture = getattr(model, 'architecture', model)
        resources = self.estimator.estimate(architecture)
        metrics.update(resources)
        message = (f'ItePruneValLoop: FLOPs {resources["flops"]}, params '
                   f'{resources["params"]}')
        if self.save_subnet and hasattr(model, 'mutator') and \
                is_main_process():
            message += '; ' + self._save(model)
        self.runner.logger.info(message)
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics

    def _save(self, model: torch.nn.Module) -> str:
        static, structure = export_pruned_model(model)
        work_dir = self.runner.work_dir
        atomic_dump_json(structure, osp.join(work_dir, SUBNET_FILE), indent=4)
        atomic_torch_save(static.state_dict(), osp.join(work_dir, WEIGHT_FILE))
        return f'{SUBNET_FILE} and {WEIGHT_FILE} saved in {work_dir}'
