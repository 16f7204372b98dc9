# Copyright (c) OpenMMLab. All rights reserved.
"""DMCP: differentiable Markov channel pruning."""
import random
from typing import Any, Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine import MessageHub
from mmengine.model import BaseModel, MMSeparateDistributedDataParallel
from mmengine.optim import OptimWrapper
from torch import Tensor

from mmrazor.registry import MODEL_WRAPPERS, MODELS, in_mmrazor_scope

from ...mutators.dmcp_channel_mutator import DMCPChannelMutator
from .._sandwich import add_prefix, build_inplace_distiller
from ..base import BaseAlgorithm, build_component
from ..nas._diff_utils import optim_wrappers

# DMCP takes several optimizer steps per iteration in its own train_step;
# this wrapper calls it (the original's DMCPDDP copied it instead).
MODEL_WRAPPERS.register_module(
    name='DMCPDDP', module=MMSeparateDistributedDataParallel)

STRATEGIES = ('max', 'min', 'arch_random', 'scheduled_random')
FLOPS_LOSSES = ('log_l1', 'l1', 'l2', 'inverted_log_l1')


@MODELS.register_module()
class DMCP(BaseAlgorithm):
    """DMCP (Guo et al., "DMCP: Differentiable Markov Channel Pruning for
    Neural Networks", CVPR 2020, https://arxiv.org/abs/2005.03354).

    The channels of every unit form a Markov chain of groups whose
    transition probabilities are architecture parameters
    (:class:`~mmrazor.models.mutators.DMCPChannelMutator`). One
    :meth:`train_step` (iteration ``t`` of the run):

    1. for each entry of ``strategy``, a subnet is set and trained with the
       ``'architecture'`` optimizer: ``'max'`` (the labels; its head is
       recorded as the teacher), ``'min'``, ``'arch_random'`` (a uniform
       random width, or once the architecture trains a walk of the
       chains) and ``'scheduled_random'`` (a walk with a probability that
       grows by 0.9999 per step, else uniform). Those after the first learn
       from the labels and, from ``distillation_times`` on, also from the
       largest subnet's head (in-place distillation);
    2. from ``arch_start_train`` on, every ``arch_train_freq`` iterations:
       the largest subnet with each channel's output scaled by its keep
       probability gives the task loss of the parameters (the paper's
       Eq. 7), then the FLOPs loss of the expected widths (Eq. 9) makes
       the expected FLOPs approach ``target_flops``; both step the
       ``'mutator'`` optimizer only.

    The largest subnet is set at the end of each step, for validation.
    :class:`~mmrazor.engine.hooks.DMCPSubnetHook` samples the subnets to
    retrain at the end of the run.

    Args:
        distiller (dict): A ``ConfigurableDistiller`` config whose teacher
            and student recorders name the same layer (e.g. ``head.fc``).
        architecture (dict | BaseModel): The network to prune.
        mutator_cfg (dict | DMCPChannelMutator): The mutator. Defaults to
            ``dict(type='DMCPChannelMutator')``.
        data_preprocessor (dict | nn.Module, optional): Batch preprocessor.
        strategy (list[str]): Subnets trained per step, in order, from
            :data:`STRATEGIES`; must start with ``'max'`` when it has
            others. Defaults to ``['max', 'min', 'arch_random']``.
        init_cfg (dict, optional): Initialisation config.
        arch_start_train (int): First iteration of architecture training.
            Defaults to 10000.
        arch_train_freq (int): Its period in iterations. Defaults to 500.
        distillation_times (int): First iteration of in-place
            distillation. Defaults to 20000.
        target_flops (float): MFLOPs (multiply-accumulates of the convs and
            linear layers at the mutator's demo input) to reach.
            Defaults to 150.
        flops_loss_type (str): One of :data:`FLOPS_LOSSES`, in MFLOPs:
            ``'log_l1'`` (the original's default: ``log(T - E)`` below
            ``0.95 T``, 0 up to ``T``, ``log(E - 0.95 T)`` above),
            ``'l1'``, ``'l2'`` or ``'inverted_log_l1'``
            (``log(|E - T| + 1e-5)``). Defaults to ``'log_l1'``.
        flop_loss_weight (float): Weight of the FLOPs loss. Defaults to 1.
    """

    def __init__(self,
                 distiller: Dict,
                 architecture: Union[BaseModel, Dict],
                 mutator_cfg: Union[Dict, DMCPChannelMutator] = dict(
                     type='DMCPChannelMutator',
                     channel_unit_cfg=dict(type='DMCPChannelUnit')),
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 strategy: List[str] = ['max', 'min', 'arch_random'],
                 init_cfg: Optional[Dict] = None,
                 arch_start_train: int = 10000,
                 arch_train_freq: int = 500,
                 distillation_times: int = 20000,
                 target_flops: float = 150,
                 flops_loss_type: str = 'log_l1',
                 flop_loss_weight: float = 1.0) -> None:
        super().__init__(architecture, data_preprocessor, init_cfg)
        name = type(self).__name__
        unknown = [s for s in strategy if s not in STRATEGIES]
        if not strategy or unknown:
            raise ValueError(f'{name}: strategy {list(strategy)} must be a '
                             f'non-empty list of {list(STRATEGIES)}')
        if len(strategy) > 1 and strategy[0] != 'max':
            raise ValueError(f'{name}: strategy must start with \'max\' (the'
                             ' teacher of the others), got '
                             f'{list(strategy)}')
        if flops_loss_type not in FLOPS_LOSSES:
            raise ValueError(f'{name}: flops_loss_type={flops_loss_type!r} '
                             f'is not one of {list(FLOPS_LOSSES)}')
        if not target_flops > 0:
            raise ValueError(
                f'{name}: target_flops must be > 0, got {target_flops!r}')
        for field, value in (('arch_start_train', arch_start_train),
                             ('arch_train_freq', arch_train_freq),
                             ('distillation_times', distillation_times)):
            if isinstance(value, bool) or not isinstance(value, int) or \
                    value < (1 if field == 'arch_train_freq' else 0):
                raise ValueError(f'{name}: {field} must be a non-negative '
                                 f'int (>= 1 for the period), got {value!r}')
        if isinstance(mutator_cfg, dict):
            mutator_cfg = in_mmrazor_scope(mutator_cfg)
        self.mutator = build_component(mutator_cfg, DMCPChannelMutator,
                                       'mutator_cfg', name)
        self.mutator.prepare_from_supernet(self.architecture)
        if not self.mutator.units:
            raise ValueError(f'{name}: the mutator found no prunable channel '
                             f'unit; excluded: {self.mutator.excluded[:3]}')
        self.distiller = build_inplace_distiller(distiller,
                                                 self.architecture)
        self.strategy = list(strategy)
        self.arch_start_train = arch_start_train
        self.arch_train_freq = arch_train_freq
        self.distillation_times = distillation_times
        self.target_flops = float(target_flops)
        self.flops_loss_type = flops_loss_type
        self.flop_loss_weight = float(flop_loss_weight)
        self.cur_sample_prob = 1.0
        self.arch_train = False
        self.mutator.sample_subnet('max')

    @property
    def _iter(self) -> int:
        """The runner's iteration (mmengine's ``RuntimeInfoHook`` keeps it
        in the message hub; 0 outside a run)."""
        return int(MessageHub.get_current_instance().get_info('iter', 0))

    def set_subnet(self, mode: str, arch_train: Optional[bool] = None
                   ) -> None:
        """Set the subnet ('max', 'min', 'random', 'direct', 'expected')."""
        self.mutator.sample_subnet(
            mode, self.arch_train if arch_train is None else arch_train)

    # ------------------------------------------------------------ training
    def train_step(self, data: Union[Dict, tuple, list],
                   optim_wrapper: Any) -> Dict[str, Tensor]:
        """Train the subnets of ``strategy``, then (sometimes) the
        architecture parameters; see the class docstring.

        Args:
            data (dict): A batch.
            optim_wrapper (OptimWrapperDict): ``architecture`` and
                ``mutator`` wrappers.

        Returns:
            dict: ``max_subnet1.*``, ``min_subnet1.*``,
            ``random_subnet1.*`` / ``direct_subnet1.*`` losses and, on
            architecture steps, ``arch.*`` and ``flops.loss``.
        """
        weight_optim, arch_optim = optim_wrappers(self, optim_wrapper)
        iteration = self._iter
        if not self.arch_train and iteration > self.arch_start_train:
            self.arch_train = True
        data = self.data_preprocessor(data, True)
        inputs, samples = data['inputs'], data.get('data_samples')
        logs: Dict[str, Tensor] = {}
        counts: Dict[str, int] = {}
        for kind in self.strategy:
            mode = self._mode(kind)
            counts[mode] = counts.get(mode, 0) + 1
            prefix = f'{mode}_subnet{counts[mode]}'
            logs.update(add_prefix(
                self._subnet_step(mode, inputs, samples, weight_optim,
                                  iteration), prefix))
        self.distiller.teacher_recorders.reset_data()
        if self.arch_train and iteration % self.arch_train_freq == 0:
            logs.update(self._arch_step(inputs, samples, arch_optim,
                                        weight_optim))
        self.mutator.sample_subnet('max')
        return logs

    def _mode(self, kind: str) -> str:
        if kind in ('max', 'min'):
            return kind
        if kind == 'arch_random':
            return 'direct' if self.arch_train else 'random'
        direct = self.arch_train and random.uniform(0, 1) > \
            self.cur_sample_prob
        self.cur_sample_prob *= 0.9999
        return 'direct' if direct else 'random'

    def _subnet_step(self, mode: str, inputs: Tensor, samples: Any,
                     optim: OptimWrapper, iteration: int) -> Dict[str, Tensor]:
        self.mutator.sample_subnet(mode)
        self.remember_buffers()
        recorders = self.distiller.teacher_recorders if mode == 'max' \
            else self.distiller.student_recorders
        with optim.optim_context(self), recorders:
            losses = dict(self.architecture(inputs, samples, mode='loss'))
            if mode != 'max' and iteration > self.distillation_times:
                losses.update(self.distiller.compute_distill_losses())
        loss, _ = self.parse_losses(losses)
        optim.update_params(loss)
        if mode != 'max':
            self.distiller.student_recorders.reset_data()
        return {k: v.detach() if isinstance(v, Tensor) else v
                for k, v in losses.items()}

    def _arch_step(self, inputs: Tensor, samples: Any,
                   arch_optim: OptimWrapper,
                   weight_optim: OptimWrapper) -> Dict[str, Tensor]:
        """The task loss of the scaled largest subnet, then the FLOPs loss
        of the expected widths, each stepping the parameters only."""
        training = self.training
        self.eval()  # running BN statistics, as the original
        try:
            self.mutator.sample_subnet('max', arch_train=True)
            with arch_optim.optim_context(self):
                arch_losses = self.architecture(inputs, samples, mode='loss')
            loss, _ = self.parse_losses(arch_losses)
            arch_optim.update_params(loss)
            weight_optim.zero_grad()  # the weights are not trained here
            self.mutator.sample_subnet('max', arch_train=False)
            expected = self.mutator.expected_flops()
            flops_loss = self.flops_loss(expected) * self.flop_loss_weight
            arch_optim.update_params(flops_loss)
        finally:
            self.train(training)
        logs = add_prefix({k: v.detach() for k, v in arch_losses.items()},
                          'arch')
        logs['flops.loss'] = flops_loss.detach()
        logs['flops.expected_mflops'] = expected.detach()
        return logs

    def flops_loss(self, expected: Tensor) -> Tensor:
        """The FLOPs loss of expected MFLOPs ``expected`` (see
        ``flops_loss_type``)."""
        target = self.target_flops
        error = expected - target
        if self.flops_loss_type == 'l2':
            return error**2
        if self.flops_loss_type == 'l1':
            return error.abs()
        if self.flops_loss_type == 'inverted_log_l1':
            return torch.log(error.abs() + 1e-5)
        lower = 0.95 * target
        if expected < lower:
            return torch.log(target - expected)
        if expected < target:
            return expected * 0
        return torch.log(expected - lower)

    def calc_current_flops(self) -> float:
        """MFLOPs of the subnet currently set (the original's name; it
        returned FLOPs)."""
        return self.mutator.current_flops()
