# Copyright (c) OpenMMLab. All rights reserved.
"""Save the random generators in checkpoints, so that resuming is exact."""
import random
import warnings
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook

from mmrazor.registry import HOOKS

#: The checkpoint key of the saved states.
CHECKPOINT_KEY = 'random_state'


def capture_random_state() -> Dict[str, Any]:
    """The states of Python's, NumPy's and torch's global generators.

    Made of tuples, ints, floats and tensors only, so that a checkpoint
    holding it loads with torch's weights-only unpickler.
    """
    _, key, pos, has_gauss, gauss = np.random.get_state(legacy=True)
    cuda = None
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        cuda = torch.cuda.get_rng_state_all()
    return dict(
        python=random.getstate(),
        numpy=dict(key=torch.from_numpy(key.astype(np.int64)), pos=int(pos),
                   has_gauss=int(has_gauss), gauss=float(gauss)),
        torch=torch.get_rng_state(),
        cuda=cuda)


def restore_random_state(state: Dict[str, Any]) -> None:
    """Set the generators to ``state`` (from :func:`capture_random_state`).

    CUDA states are restored when as many devices are visible as were
    saved.
    """
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    numpy = state['numpy']
    np.random.set_state(('MT19937', numpy['key'].cpu().numpy().astype(
        np.uint32), numpy['pos'], numpy['has_gauss'], numpy['gauss']))
    torch.set_rng_state(state['torch'].cpu())
    cuda = state.get('cuda')
    if cuda and torch.cuda.is_available() and \
            torch.cuda.device_count() == len(cuda):
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Make a resumed training continue exactly as an uninterrupted one.

    mmengine's ``--resume`` restores weights, optimizer, schedulers and
    counters, but not the random generators: the resumed run draws other
    random numbers (other SPOS subnets, dropout masks, augmentations) than
    the uninterrupted run would have, and ends with other weights. This
    hook saves, in every checkpoint, the state of Python's ``random``
    (which the NAS mutators draw from), NumPy's and torch's generators (and
    CUDA's), per rank, and the train sampler's seed, and puts them back
    when training resumes.

    ``tools/train.py`` adds it to every config (see
    :func:`mmrazor.engine.add_default_hooks`).

    Epoch-based training resumes bit for bit: at the end of each epoch the
    hook takes the states, writes them into the epoch's checkpoint, and at
    the start of the next epoch restores them, in the uninterrupted run as
    in the resumed one. Whatever runs in between (validation, other hooks)
    therefore does not change the random numbers of training, and both runs
    start the next epoch from the same states. Under DDP the states of all
    ranks are gathered (once per epoch) and each rank gets its own back.

    Not covered:

    - data-loading workers with ``persistent_workers=True`` keep their own
      generators across epochs, which a resumed run starts afresh: the
      augmentations then differ (a warning says so when resuming);
    - checkpoints saved by iteration: the states of rank 0 at the save are
      restored before the first iteration after resuming, which matches an
      uninterrupted run only if nothing between the save and that
      iteration (validation, loading the next batch in the main process)
      drew random numbers.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        # (epoch, iter, boundary, state of this rank, sampler seed,
        # from_checkpoint): restored at the next boundary if the runner is
        # then at (epoch, iter).
        self._pending: Optional[tuple] = None
        self._epoch_states: Optional[List[Dict[str, Any]]] = None

    # ------------------------------------------------------------ saving
    def after_train_epoch(self, runner) -> None:
        """Take the states of the end of the epoch (all ranks)."""
        state = capture_random_state()
        self._epoch_states = all_gather_object(state) if \
            get_world_size() > 1 else [state]
        self._pending = (runner.epoch + 1, runner.iter, 'epoch', state,
                         _sampler_seed(runner), False)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Write the states into ``checkpoint`` (rank 0 saves)."""
        meta = checkpoint.get('meta', {})
        epoch, it = meta.get('epoch'), meta.get('iter')
        pending = self._pending
        if pending is not None and pending[:3] == (epoch, it, 'epoch'):
            boundary, states = 'epoch', self._epoch_states
        else:
            boundary, states = 'iter', [capture_random_state()]
        checkpoint[CHECKPOINT_KEY] = dict(
            epoch=epoch, iter=it, boundary=boundary, states=states,
            sampler_seed=_sampler_seed(runner))

    # ---------------------------------------------------------- restoring
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep the saved states; they apply if training resumes there."""
        saved = checkpoint.get(CHECKPOINT_KEY)
        if not isinstance(saved, dict) or not saved.get('states'):
            return
        states = saved['states']
        rank, world_size = get_rank(), get_world_size()
        if len(states) != world_size and len(states) > 1:
            warnings.warn(
                f'RandomStateHook: the checkpoint holds the random states of '
                f'{len(states)} ranks and this run has {world_size}; every '
                'rank restores those of rank 0, so the resumed run is not '
                'the same as an uninterrupted one.', stacklevel=2)
        state = states[rank] if len(states) == world_size else states[0]
        self._pending = (saved['epoch'], saved['iter'], saved['boundary'],
                         state, saved.get('sampler_seed'), True)

    def before_train_epoch(self, runner) -> None:
        """Restore the states taken at the end of the previous epoch."""
        self._restore(runner, 'epoch')

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        """Restore the states of a checkpoint saved by iteration."""
        if self._pending is not None:
            self._restore(runner, 'iter')

    def _restore(self, runner, boundary: str) -> None:
        pending = self._pending
        if pending is None or pending[2] != boundary:
            return
        self._pending = None
        epoch, it, _, state, sampler_seed, from_checkpoint = pending
        if (runner.epoch, runner.iter) != (epoch, it):
            return  # loaded by `load_from`, not resumed there
        restore_random_state(state)
        if not from_checkpoint:
            return
        sampler = getattr(runner.train_dataloader, 'sampler', None)
        if sampler_seed is not None and hasattr(sampler, 'seed'):
            sampler.seed = sampler_seed
        loader = runner.train_dataloader
        if getattr(loader, 'persistent_workers', False) and \
                getattr(loader, 'num_workers', 0) > 0:
            warnings.warn(
                'RandomStateHook: the train dataloader has persistent '
                'workers, whose random generators (augmentations) are not '
                'in checkpoints; the resumed run draws other augmentations '
                'than an uninterrupted one. Set '
                'train_dataloader.persistent_workers=False in both runs to '
                'resume exactly.', stacklevel=2)


def _sampler_seed(runner) -> Optional[int]:
    """The seed of the train sampler (mmengine's DefaultSampler has one)."""
    seed = getattr(getattr(runner.train_dataloader, 'sampler', None), 'seed',
                   None)
    return seed if isinstance(seed, int) else None
