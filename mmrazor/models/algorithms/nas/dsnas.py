# Copyright (c) OpenMMLab. All rights reserved.
"""DSNAS: one-hot sampled search whose weights need no retraining."""
from typing import Dict, List, Optional, Union

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.logging import MessageHub
from mmengine.model import BaseModel, MMSeparateDistributedDataParallel
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from mmrazor.registry import MODEL_WRAPPERS, MODELS, in_mmrazor_scope
from mmrazor.structures import choices_to_subnet
from mmrazor.utils.model_wrappers import unwrap_model

from ...mutators import NasMutator
from ..base import BaseAlgorithm, build_component
from ._diff_utils import (
    all_reduce_mean,
    optim_wrappers,
    prefixed,
)
from ._flops_penalty import ExpectedFlopsPenalty

# The original's configs name this wrapper; it hands train_step to DSNAS,
# which averages its gradients over the ranks itself.
MODEL_WRAPPERS.register_module(
    name='DSNASDDP', module=MMSeparateDistributedDataParallel)


@MODELS.register_module()
class DSNAS(BaseAlgorithm):
    """DSNAS: sample one op per block, update weights and architecture from
    the same loss, fix the architecture and keep training (no retraining).

    Hu et al., "DSNAS: Direct Neural Architecture Search without Parameter
    Retraining", CVPR 2020 (https://arxiv.org/abs/2002.09128).

    The supernet's :class:`~mmrazor.models.mutables.OneHotMutableOP` blocks
    each run one op ``s`` sampled from ``softmax(alpha)``, scaled by the
    one-hot ``Z_s = 1``. One :meth:`train_step`:

    1. Forward and backward the training loss; the weights step (their
       gradient is the loss gradient only: the architecture parameters are
       not in the graph).
    2. In search epochs (``pretrain_epochs <= epoch < finetune_epochs``),
       the architecture gradient of each block is the DSNAS estimator
       ``dL/dZ_s * d log p_alpha(s) / dalpha = dL/dZ_s * (onehot(s) -
       softmax(alpha))``, summed over blocks sharing a parameter and
       averaged over ranks; with ``flops_constraints``, the gradient of the
       FLOPs penalty is added; the ``mutator`` optimizer steps.
    3. At ``finetune_epochs`` the parameters are broadcast from rank 0 and
       every block is fixed to its most probable op. A block also fixes
       itself earlier once its ``fix_threshold`` margin is reached.

    Args:
        architecture (dict | BaseModel): The supernet.
        mutator (dict | NasMutator): Defaults to ``dict(type='NasMutator')``.
        pretrain_epochs (int): Epochs of weight training (uniform-ish
            sampling) before the architecture learns. Defaults to 0.
        finetune_epochs (int): Epoch at which the architecture is fixed.
            Defaults to 80.
        flops_constraints (float, optional): With a value, the architecture
            also descends ``flops_loss_coef * E[FLOPs]`` (the expected FLOPs
            of the sampled subnet, from a per-choice cost table; see
            :class:`~._flops_penalty.ExpectedFlopsPenalty`) while
            ``E[FLOPs] >= flops_constraints``, in the estimator's units
            (MFLOPs at 224x224 by default). Defaults to None: no penalty
            (the original always applied its term, at 300 MFLOPs).
        estimator_cfg (dict, optional): The ``ResourceEstimator`` config of
            the cost table (``input_shape``, ``units``). Defaults to None.
        flops_loss_coef (float): Weight of the FLOPs penalty (the original's
            fixed ``1e-2``). Defaults to 1e-2.
        norm_training (bool): Keep BN in training mode during evaluation.
            Defaults to False.
        data_preprocessor (dict | nn.Module, optional): Batch preprocessor.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Union[NasMutator, Dict] = dict(type='NasMutator'),
                 pretrain_epochs: int = 0,
                 finetune_epochs: int = 80,
                 flops_constraints: Optional[float] = None,
                 estimator_cfg: Optional[Dict] = None,
                 flops_loss_coef: float = 1e-2,
                 norm_training: bool = False,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(architecture, data_preprocessor, init_cfg)
        if not 0 <= pretrain_epochs < finetune_epochs:
            raise ValueError(
                'DSNAS: the search runs from `pretrain_epochs` to '
                '`finetune_epochs`, so 0 <= pretrain_epochs < '
                f'finetune_epochs is needed, but got {pretrain_epochs} and '
                f'{finetune_epochs}')
        if isinstance(mutator, dict):
            mutator = in_mmrazor_scope(mutator)
        self.mutator = build_component(mutator, NasMutator, 'mutator',
                                       'DSNAS')
        self.mutator.prepare_from_supernet(self.architecture)
        if not len(self.mutator.arch_params):
            raise ValueError(
                'DSNAS: the architecture has no OneHotMutableOP blocks, so '
                'there is nothing to search')
        self.pretrain_epochs = pretrain_epochs
        self.finetune_epochs = finetune_epochs
        self.flops_constraints = flops_constraints
        self.flops_loss_coef = flops_loss_coef
        #: The FLOPs penalty, or None (``flops_constraints=None``).
        self.flops_penalty: Optional[ExpectedFlopsPenalty] = None
        if flops_constraints is not None:
            self.flops_penalty = ExpectedFlopsPenalty.build(
                self.architecture, self.mutator, estimator_cfg,
                flops_constraints, flops_loss_coef)
        self.norm_training = norm_training
        self.is_supernet = True

    @property
    def nas_mutator(self) -> NasMutator:
        """The mutator, also when a DDP wrapper (``DartsDDP`` /
        ``DSNASDDP``) has wrapped it."""
        return unwrap_model(self.mutator)

    def derive_subnet(self) -> Dict:
        """``{group: {'chosen': op}}``: the most probable (or fixed) op of
        every block, the layout of the original's DSNAS subnet file."""
        return choices_to_subnet(self.nas_mutator.derive_choices(exclude=()))

    def export_subnet(self) -> Dict:
        """What ``DumpSubnetHook`` writes: :meth:`derive_subnet`."""
        return self.derive_subnet()

    def fix_subnet(self) -> None:
        """Broadcast the parameters from rank 0, then fix every block to
        its most probable op."""
        if dist.is_available() and dist.is_initialized():
            for param in self.mutator.parameters():
                dist.broadcast(param.data, src=0)
        for group in self.nas_mutator.search_groups.values():
            for mutable in group:
                if not mutable.is_fixed:
                    mutable.fix_chosen(mutable.derive_choice())
        self.is_supernet = False

    def train_step(self, data: Union[Dict, tuple, list],
                   optim_wrapper: Union[OptimWrapperDict, OptimWrapper]
                   ) -> Dict[str, Tensor]:
        """One DSNAS step (class docstring).

        Args:
            data (dict): A batch.
            optim_wrapper (OptimWrapperDict): ``architecture`` and
                ``mutator`` wrappers.

        Returns:
            dict: Log values, prefixed ``supernet.`` (and ``mutator.``
            with the mean credit in search epochs, and with a FLOPs penalty
            ``expected_flops`` and ``flops_penalty_on``).
        """
        weight_optim, arch_optim = optim_wrappers(self, optim_wrapper)
        epoch = MessageHub.get_current_instance().get_info('epoch') or 0
        if epoch >= self.finetune_epochs and self.is_supernet:
            self.fix_subnet()
        batch = self.data_preprocessor(data, True)
        with weight_optim.optim_context(self):
            losses = self(batch['inputs'], batch['data_samples'], mode='loss')
        loss, logs = self.parse_losses(losses)
        weight_optim.update_params(loss)
        logs = prefixed(logs, 'supernet')
        if self.is_supernet and \
                self.pretrain_epochs <= epoch < self.finetune_epochs:
            grads, credit = self.arch_grads()
            grads = all_reduce_mean(grads)
            logs['mutator.credit'] = credit
            if self.flops_penalty is not None:
                # a function of the (synchronised) parameters: the same on
                # every rank
                extra, expected, applied = self.flops_penalty.grads(
                    self.nas_mutator)
                grads = [g + e for g, e in zip(grads, extra)]
                logs['mutator.expected_flops'] = torch.tensor(expected)
                logs['mutator.flops_penalty_on'] = torch.tensor(
                    float(applied))
            for param, grad in zip(self.mutator.parameters(), grads):
                param.grad = grad
            arch_optim.step()
            arch_optim.zero_grad()
        return logs

    def arch_grads(self) -> tuple:
        """The DSNAS architecture gradient of every parameter from the last
        backward pass, and the mean credit ``dL/dZ_s`` (for the logs)."""
        grads: List[Tensor] = []
        credits = []
        for key, group in self.nas_mutator.search_groups.items():
            try:
                param = self.nas_mutator.arch_param(key)
            except KeyError:  # a group without a parameter
                continue
            grad = torch.zeros_like(param)
            probs = torch.softmax(param.detach(), -1)
            for mutable in group:
                z = mutable.arch_weights
                if mutable.is_fixed or z is None or z.grad is None:
                    continue
                credit = z.grad[mutable.sampled_index]
                onehot = torch.zeros_like(probs)
                onehot[mutable.sampled_index] = 1
                grad += credit * (onehot - probs)
                credits.append(credit)
                z.grad = None
            grads.append(grad)
        # order: the mutator's parameters follow its search groups
        mean = torch.stack(credits).mean() if credits else torch.zeros(())
        return grads, mean.detach()

    def train(self, mode: bool = True) -> 'DSNAS':
        """Set the mode; with ``norm_training``, BN stays in training mode."""
        super().train(mode)
        if self.norm_training and not mode:
            for module in self.architecture.modules():
                if isinstance(module, _BatchNorm):
                    module.training = True
        return self
