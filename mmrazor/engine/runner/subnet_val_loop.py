# Copyright (c) OpenMMLab. All rights reserved.
"""Validation of chosen subnets of a supernet."""
import random
from typing import Any, Dict, List, Optional, Sequence, Union

from mmengine.evaluator import Evaluator
from mmengine.runner import ValLoop
from torch import nn
from torch.utils.data import DataLoader

from mmrazor.models.task_modules.estimators import build_estimator
from mmrazor.registry import LOOPS
from mmrazor.utils.model_wrappers import unwrap_model

from .scorer import SubnetScorer

KINDS = ('current', 'min', 'max', 'random')


@LOOPS.register_module()
class SubnetValLoop(ValLoop):
    """Validate one or more subnets of a supernet (or a fixed model).

    For each kind in ``subnets``: ``'current'`` validates the model as it
    is (a fixed subnet, or the supernet's current path); ``'min'`` /
    ``'max'`` set the smallest / largest subnet (ordered mutables only);
    ``'random'`` draws ``num_random`` subnets (seeded, so every validation
    sees the same ones). Before each evaluation the BN statistics can be
    recalibrated on ``calibrate_sample_num`` training images. The metrics
    of each subnet are reported with a prefix (``'max_subnet.'``,
    ``'random_subnet_0.'``...; none for ``'current'``), next to its
    resources when ``estimator_cfg`` is given.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Validation data.
        evaluator (Evaluator | dict | list): Validation metrics.
        fp16 (bool): Whether to run with automatic mixed precision.
            Defaults to False.
        subnets (Sequence[str]): Kinds of subnets to validate. Defaults to
            ``('current', )``.
        num_random (int): Random subnets per validation. Defaults to 1.
        calibrate_sample_num (int): Training images for BN recalibration;
            0 or less disables it. Defaults to 0.
        estimator_cfg (dict, optional): ResourceEstimator config; when
            given, FLOPs and params of each subnet are reported. Defaults
            to None.
        seed (int): Seed of the random subnets. Defaults to 0.
        evaluate_fixed_subnet (bool): MMRazor 1.0's flag: True validates
            the model as it is, as ``subnets=('current', )`` does (its
            configs of static subnets set it). Defaults to False.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False,
                 subnets: Sequence[str] = ('current', ),
                 num_random: int = 1,
                 calibrate_sample_num: int = 0,
                 estimator_cfg: Optional[Dict] = None,
                 seed: int = 0,
                 evaluate_fixed_subnet: bool = False) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        if evaluate_fixed_subnet:
            subnets = ('current', )
        unknown = [k for k in subnets if k not in KINDS]
        if unknown or not subnets:
            raise ValueError(
                f'SubnetValLoop: `subnets` must list kinds from {list(KINDS)}'
                f', but got {list(subnets)}')
        self.subnets = tuple(subnets)
        self.num_random = num_random
        self.seed = seed
        self.estimator = (
            build_estimator(estimator_cfg)
            if estimator_cfg is not None else None)
        self.scorer = SubnetScorer(
            runner, self.dataloader, self.evaluator,
            calibrate_sample_num=calibrate_sample_num, seed=seed)

    def _subnets(self) -> List[tuple]:
        model = unwrap_model(self.runner.model)
        mutator = getattr(model, 'mutator', None)
        plan = []
        for kind in self.subnets:
            if kind == 'current' or mutator is None:
                plan.append(('', None))
            elif kind in ('min', 'max'):
                plan.append((f'{kind}_subnet.', mutator.sample_choices(kind)))
            else:
                rng = random.Random(self.seed)
                for i in range(self.num_random):
                    choices = {
                        k: rng.choice(v)
                        for k, v in mutator.choices.items()
                    }
                    plan.append((f'random_subnet_{i}.', choices))
        return plan

    @staticmethod
    def _activate(model: nn.Module, choices: Any) -> None:
        """Make the subnet of ``choices`` (what :meth:`_subnets` planned)
        the model's."""
        model.mutator.set_choices(choices)

    def run(self) -> Dict[str, float]:
        """Validate each subnet and return all metrics, prefixed."""
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        model = unwrap_model(self.runner.model)
        all_metrics: Dict[str, float] = {}
        for prefix, choices in self._subnets():
            if choices is not None:
                self._activate(model, choices)
            metrics = self._evaluate_subnet()
            if self.estimator is not None:
                arch = getattr(model, 'architecture', model)
                metrics.update(self.estimator.estimate(arch))
            all_metrics.update({prefix + k: v for k, v in metrics.items()})
        self.runner.call_hook('after_val_epoch', metrics=all_metrics)
        self.runner.call_hook('after_val')
        return all_metrics

    @property
    def calibrate_sample_num(self) -> int:
        """Training images for BN recalibration (0: none)."""
        return self.scorer.calibrate_sample_num

    def _evaluate_subnet(self) -> Dict[str, float]:
        # every subnet's recalibration starts from the same seed
        return self.scorer.evaluate(self.run_iter, calibrate_seed=self.seed)


@LOOPS.register_module()
class SlimmableValLoop(SubnetValLoop):
    """Validate every subnet of a ``SlimmableNetwork``.

    Metrics are prefixed ``subnet_{i}.`` in the order of the algorithm's
    ``channel_cfg_paths``; with ``deploy_index`` set, only that subnet is
    validated, without prefix. Arguments are those of
    :class:`SubnetValLoop` (``subnets`` is ignored).
    """

    def _subnets(self) -> List[tuple]:
        model = unwrap_model(self.runner.model)
        if getattr(model, 'deploy_index', -1) >= 0:
            return [('', model.deploy_index)]
        return [(f'subnet_{i}.', i) for i in range(len(model.subnets))]

    @staticmethod
    def _activate(model: nn.Module, choices: Any) -> None:
        """Subnet ``choices`` (an index) with its own batch norms."""
        model.set_subnet(choices)


@LOOPS.register_module()
class AutoSlimValLoop(SubnetValLoop):
    """:class:`SubnetValLoop` validating the largest and smallest widths.

    The loop the original AutoSlim configs name; arguments are those of
    :class:`SubnetValLoop`, with ``subnets=('max', 'min')`` by default.
    """

    def __init__(self, runner, dataloader, evaluator, **kwargs) -> None:
        kwargs.setdefault('subnets', ('max', 'min'))
        super().__init__(runner, dataloader, evaluator, **kwargs)
