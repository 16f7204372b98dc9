# Copyright (c) OpenMMLab. All rights reserved.
"""DARTS: bi-level search of architecture parameters and weights."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
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
    grads_or_zeros,
    kept_buffers,
    optim_wrappers,
    prefixed,
)

# Configs of the original MMRazor name this wrapper. It only hands
# ``train_step`` to the algorithm, which averages every gradient it computes
# over the ranks itself (its steps use ``torch.autograd.grad``, which DDP's
# hooks do not see).
MODEL_WRAPPERS.register_module(
    name='DartsDDP', module=MMSeparateDistributedDataParallel)


@MODELS.register_module()
class Darts(BaseAlgorithm):
    """DARTS: learn architecture parameters by gradient descent on a
    validation loss, alternating with weight steps on a training loss.

    Liu et al., "DARTS: Differentiable Architecture Search", ICLR 2019
    (https://arxiv.org/abs/1806.09055).

    One :meth:`train_step` gets ``(weight batch, architecture batch)`` (see
    :class:`~mmrazor.engine.runner.DartsEpochBasedTrainLoop`) and an
    ``OptimWrapperDict`` with ``architecture`` (weights) and ``mutator``
    (architecture parameters) wrappers:

    1. Architecture step. First order (``unroll=False``): the gradient of
       the validation loss L_val(w, alpha) with respect to alpha. Second
       order (``unroll=True``), the paper's eq. 7-8:

       - virtual step ``w' = w - xi * (mu * m + dL_train/dw + lambda * w)``
         with each weight's SGD learning rate ``xi``, momentum ``mu`` (and
         buffer ``m``) and weight decay ``lambda``;
       - ``dalpha = dL_val(w', alpha)/dalpha`` and ``v = xi * dL_val/dw'``;
       - the Hessian-vector product by central differences at ``w +- eps *
         v``, ``eps = 0.01 / ||v||``: ``h = (dL_train(w+)/dalpha -
         dL_train(w-)/dalpha) / (2 eps)``, both passes with the same random
         state (drop path);
       - ``alpha.grad = dalpha - h``; ``w`` is restored.

       Gradients are taken with ``torch.autograd.grad``: no weight
       ``.grad`` is written, so nothing of this step leaks into the weight
       update, and BN running statistics are restored afterwards.
    2. Weight step on the training batch, with the architecture parameters
       frozen: the weight update uses the training-batch gradient only.

    With ``arch_warmup_epochs=n`` (or ``arch_warmup_iters=n``) the first
    ``n`` epochs (iterations) make only the weight step (the architecture
    batch is unused), as P-DARTS and PC-DARTS warm the weights up: a search
    whose convolutions are still untrained favours parameter-free ops (Zela
    et al., "Understanding and Robustifying Differentiable Architecture
    Search", ICLR 2020). The DARTS train loops tell the algorithm their
    epoch and iteration before each step (:meth:`set_train_progress`), so
    a resumed search does not warm up again and the warm-up does not
    depend on the number of ranks; outside them, iterations are this
    algorithm's own count of train steps.

    Under distributed training every gradient is averaged over the ranks
    here (``model_wrapper_cfg=dict(type='mmrazor.DartsDDP')``, an alias of
    mmengine's ``MMSeparateDistributedDataParallel``).

    Args:
        architecture (dict | BaseModel): The supernet (e.g. an mmcls
            ``ImageClassifier`` on ``DartsBackbone``).
        mutator (dict | NasMutator): Creates the architecture parameters.
            Defaults to ``dict(type='NasMutator')``.
        unroll (bool): Second order (True) or first order (False). Defaults
            to False.
        norm_training (bool): Keep BN in training mode during evaluation.
            Defaults to False.
        exclude (sequence[str]): Ops a derived subnet may not pick (the
            paper leaves out ``zero``). Defaults to ``('zero',)``.
        arch_warmup_iters (int): Iterations of weight steps only before the
            architecture learns. Defaults to 0 (the paper and the original
            MMRazor).
        arch_warmup_epochs (int): The same in epochs of
            ``DartsEpochBasedTrainLoop``; give one of the two. Defaults
            to 0.
        data_preprocessor (dict | nn.Module, optional): Batch preprocessor.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Union[NasMutator, Dict] = dict(type='NasMutator'),
                 unroll: bool = False,
                 norm_training: bool = False,
                 exclude: Sequence[str] = ('zero', ),
                 arch_warmup_iters: int = 0,
                 arch_warmup_epochs: int = 0,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(architecture, data_preprocessor, init_cfg)
        if isinstance(mutator, dict):
            mutator = in_mmrazor_scope(mutator)
        self.mutator = build_component(mutator, NasMutator, 'mutator',
                                       'Darts')
        self.mutator.prepare_from_supernet(self.architecture)
        if not len(self.mutator.arch_params):
            raise ValueError(
                'Darts: the architecture has no differentiable mutables, so '
                'there is nothing to search; build it with DiffMutableOP '
                'edges (e.g. DartsBackbone with the darts_supernet config)')
        self.unroll = unroll
        self.norm_training = norm_training
        self.exclude = tuple(exclude)
        for name, value in (('arch_warmup_iters', arch_warmup_iters),
                            ('arch_warmup_epochs', arch_warmup_epochs)):
            if isinstance(value, bool) or not isinstance(value, int) \
                    or value < 0:
                raise ValueError(
                    f'Darts: {name} must be an int >= 0 (weight steps only '
                    f'before the architecture learns), got {value!r}')
        if arch_warmup_iters and arch_warmup_epochs:
            raise ValueError(
                'Darts: give arch_warmup_iters or arch_warmup_epochs, not '
                f'both (got {arch_warmup_iters} and {arch_warmup_epochs})')
        self.arch_warmup_iters = arch_warmup_iters
        self.arch_warmup_epochs = arch_warmup_epochs
        self._steps = 0
        self._progress: Optional[Tuple[Optional[int], int]] = None

    @property
    def nas_mutator(self) -> NasMutator:
        """The mutator, also when a DDP wrapper (``DartsDDP`` /
        ``DSNASDDP``) has wrapped it."""
        return unwrap_model(self.mutator)

    # -- subnet ------------------------------------------------------------
    def derive_subnet(self) -> Dict:
        """The subnet the architecture parameters point at, in the original
        files' layout: ``{alias: {'chosen': [names]}}`` (see
        :meth:`NasMutator.derive_choices`)."""
        choices = self.nas_mutator.derive_choices(self.exclude)
        return choices_to_subnet({
            key: value if isinstance(value, list) else [value]
            for key, value in choices.items()
        })

    def export_subnet(self) -> Dict:
        """What ``DumpSubnetHook`` writes: :meth:`derive_subnet`."""
        return self.derive_subnet()

    # -- training ----------------------------------------------------------
    def train_step(self, data: Union[Sequence, Dict],
                   optim_wrapper: Union[OptimWrapperDict, OptimWrapper]
                   ) -> Dict[str, Tensor]:
        """One architecture step, then one weight step (class docstring).

        Args:
            data (tuple): ``(weight batch, architecture batch)``.
            optim_wrapper (OptimWrapperDict): ``architecture`` and
                ``mutator`` wrappers.

        Returns:
            dict: Log values, prefixed ``mutator.`` and ``supernet.``.
        """
        weight_optim, arch_optim = optim_wrappers(self, optim_wrapper)
        if not isinstance(data, (list, tuple)) or len(data) != 2:
            raise TypeError(
                'Darts.train_step needs (weight batch, architecture batch), '
                f'but got a {type(data).__name__}; train it with '
                "train_cfg=dict(type='mmrazor.DartsEpochBasedTrainLoop', "
                'mutator_dataloader=...)')
        train_data = self.data_preprocessor(data[0], True)
        warming_up = self._warming_up()
        self._steps += 1
        if warming_up:
            return prefixed(self.weight_step(train_data, weight_optim),
                            'supernet')
        val_data = self.data_preprocessor(data[1], True)
        with kept_buffers(self.architecture):
            if self.unroll:
                arch_grads, arch_logs = self.unrolled_arch_grads(
                    train_data, val_data, weight_optim)
            else:
                arch_grads, arch_logs = self.first_order_arch_grads(val_data)
        alphas = list(self.mutator.parameters())
        for alpha, grad in zip(alphas, all_reduce_mean(arch_grads)):
            alpha.grad = grad
        arch_optim.step()
        arch_optim.zero_grad()
        weight_logs = self.weight_step(train_data, weight_optim)
        return {**prefixed(arch_logs, 'mutator'),
                **prefixed(weight_logs, 'supernet')}

    def set_train_progress(self, epoch: Optional[int],
                           iteration: int) -> None:
        """Called by the DARTS train loops before each step: the loop's
        epoch (None in iteration-based training) and iteration, 0-based."""
        self._progress = (epoch, iteration)

    def _warming_up(self) -> bool:
        epoch, iteration = self._progress or (None, self._steps)
        if self.arch_warmup_epochs:
            if epoch is None:
                raise RuntimeError(
                    'Darts: arch_warmup_epochs counts the epochs of '
                    "train_cfg=dict(type='mmrazor.DartsEpochBasedTrainLoop'"
                    ', ...); this run has none: use arch_warmup_iters')
            return epoch < self.arch_warmup_epochs
        return iteration < self.arch_warmup_iters

    def weight_step(self, data: Dict, optim_wrapper: OptimWrapper
                    ) -> Dict[str, Tensor]:
        """Update the weights from the training batch only (architecture
        parameters frozen)."""
        alphas = list(self.mutator.parameters())
        weights = self._weights()
        for alpha in alphas:
            alpha.requires_grad_(False)
        try:
            with optim_wrapper.optim_context(self):
                loss, logs = self._loss(data)
            grads = grads_or_zeros(loss, weights, zeros=False)
        finally:
            for alpha in alphas:
                alpha.requires_grad_(True)
        # unused weights keep no gradient, as after a plain backward
        for weight, grad in zip(weights, all_reduce_mean(grads)):
            weight.grad = grad
        optim_wrapper.step()
        optim_wrapper.zero_grad()
        return logs

    def first_order_arch_grads(
            self, val_data: Dict) -> Tuple[List[Tensor], Dict[str, Tensor]]:
        """``dL_val(w, alpha)/dalpha``, and the log values."""
        loss, logs = self._loss(val_data)
        return grads_or_zeros(loss, list(self.mutator.parameters())), logs

    def unrolled_arch_grads(
            self, train_data: Dict, val_data: Dict,
            weight_optim: OptimWrapper
    ) -> Tuple[List[Tensor], Dict[str, Tensor]]:
        """The second-order architecture gradient (class docstring).

        Args:
            train_data (dict): The preprocessed weight batch.
            val_data (dict): The preprocessed architecture batch.
            weight_optim (OptimWrapper): The weights' SGD wrapper, whose
                learning rate, momentum and weight decay define the virtual
                step.

        Returns:
            tuple[list[Tensor], dict]: One gradient per architecture
            parameter, and the log values of the validation loss.
        """
        weights = self._weights()
        alphas = list(self.mutator.parameters())
        backup = [w.detach().clone() for w in weights]
        xis = self._virtual_step(train_data, weights, weight_optim)
        loss, logs = self._loss(val_data)
        grads = all_reduce_mean(grads_or_zeros(loss, alphas + weights))
        d_alpha, d_weight = grads[:len(alphas)], grads[len(alphas):]
        direction = [xi * g for xi, g in zip(xis, d_weight)]
        norm = torch.cat([d.reshape(-1) for d in direction]).norm()
        if float(norm) == 0:
            # no weight reaches the validation loss: first order is exact
            self._set_weights(weights, backup)
            return d_alpha, logs
        eps = 0.01 / norm
        rng = torch.get_rng_state()
        sides = []
        for sign in (1., -1.):
            torch.set_rng_state(rng)
            with torch.no_grad():
                for w, b, d in zip(weights, backup, direction):
                    w.copy_(b + sign * eps * d)
            train_loss, _ = self._loss(train_data)
            sides.append(all_reduce_mean(grads_or_zeros(train_loss, alphas)))
        self._set_weights(weights, backup)
        return [
            da - (gp - gm) / (2 * eps)
            for da, gp, gm in zip(d_alpha, sides[0], sides[1])
        ], logs

    def _virtual_step(self, train_data: Dict, weights: List[nn.Parameter],
                      optim_wrapper: OptimWrapper) -> List[float]:
        """Move the weights to ``w'`` in place; return each one's ``xi``."""
        loss, _ = self._loss(train_data)
        grads = all_reduce_mean(grads_or_zeros(loss, weights))
        optimizer = optim_wrapper.optimizer
        groups = {
            id(p): group
            for group in optimizer.param_groups for p in group['params']
        }
        xis = []
        with torch.no_grad():
            for w, g in zip(weights, grads):
                group = groups.get(id(w))
                if group is None:  # a weight the optimizer does not step
                    xis.append(0.)
                    continue
                xi = group['lr']
                step = g + group.get('weight_decay', 0.) * w
                buf = optimizer.state.get(w, {}).get('momentum_buffer')
                if buf is not None:
                    step = step + group.get('momentum', 0.) * buf
                w.sub_(xi * step)
                xis.append(xi)
        return xis

    def _loss(self, data: Dict) -> Tuple[Tensor, Dict[str, Tensor]]:
        losses = self(data['inputs'], data['data_samples'], mode='loss')
        return self.parse_losses(losses)

    def _weights(self) -> List[nn.Parameter]:
        return [p for p in self.architecture.parameters() if p.requires_grad]

    @staticmethod
    def _set_weights(weights: List[nn.Parameter],
                     values: List[Tensor]) -> None:
        with torch.no_grad():
            for w, v in zip(weights, values):
                w.copy_(v)

    def train(self, mode: bool = True) -> 'Darts':
        """Set the mode; with ``norm_training``, BN stays in training mode."""
        super().train(mode)
        if self.norm_training and not mode:
            for module in self.architecture.modules():
                if isinstance(module, _BatchNorm):
                    module.training = True
        return self
