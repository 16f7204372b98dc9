# Copyright (c) OpenMMLab. All rights reserved.
"""A NaN or inf loss stops every algorithm before the optimizer step, or
skips the batch without changing a weight, a buffer or the optimizer."""
import copy
from pathlib import Path

import pytest
import torch
from mmcls.structures import ClsDataSample
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from mmrazor.models import SPOS
from mmrazor.registry import MODELS
from mmrazor.utils.nonfinite import nonfinite_terms

from ._prune_toy import PARSE_CFG, tiny_classifier
from .test_distill.test_distill_algorithms import kd


def batch(poison=None, n=2, size=32, seed=0):
    """Float images (a poisoned pixel in the second one), as a dataloader
    of float data would give them."""
    gen = torch.Generator().manual_seed(seed)
    images = [torch.rand(3, size, size, generator=gen) * 255
              for _ in range(n)]
    if poison is not None:
        images[1][0, 0, 0] = poison
    return dict(inputs=images,
                data_samples=[ClsDataSample().set_gt_label(i % 4)
                              for i in range(n)])


def optim(model):
    """SGD with momentum and weight decay: a step with zero gradients
    would still change weights and the momentum buffers."""
    return OptimWrapper(torch.optim.SGD(
        model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2))


def spos(tiny_supernet_cfg):
    return MODELS.build(dict(type='SPOS', architecture=tiny_supernet_cfg))


def group_fisher():
    return MODELS.build(dict(
        type='GroupFisherAlgorithm', architecture=tiny_classifier(),
        mutator=dict(type='GroupFisherChannelMutator',
                     channel_unit_cfg=dict(type='GroupFisherChannelUnit'),
                     parse_cfg=PARSE_CFG),
        input_shape=(1, 3, 16, 16), interval=1))


ALGORITHMS = {
    'SPOS': (spos, 32, ['loss']),
    'SingleTeacherDistill': (lambda cfg: kd(), 32,
                             ['student.loss', 'loss_kl']),
    'GroupFisherAlgorithm': (lambda cfg: group_fisher(), 16, ['loss']),
}


@pytest.mark.parametrize('name', sorted(ALGORITHMS))
@pytest.mark.parametrize('poison', [float('nan'), float('inf')])
def test_raises_before_the_step(name, poison, tiny_supernet_cfg):
    build, size, terms = ALGORITHMS[name]
    torch.manual_seed(0)
    algo = build(tiny_supernet_cfg)
    wrapper = optim(algo)
    algo.train_step(batch(size=size), wrapper)  # momentum buffers exist
    params = copy.deepcopy(dict(algo.named_parameters()))
    with pytest.raises(FloatingPointError) as error:
        algo.train_step(batch(poison, size=size, seed=1), wrapper)
    message = str(error.value)
    assert message.startswith('Non-finite loss at ')
    for term in terms:
        assert f'{term}=' in message
    assert "action='skip'" in message
    for key, value in algo.named_parameters():
        assert torch.equal(value, params[key]), key


@pytest.mark.parametrize('name', sorted(ALGORITHMS))
def test_skip_changes_nothing(name, tiny_supernet_cfg):
    build, size, _ = ALGORITHMS[name]
    torch.manual_seed(0)
    algo = build(tiny_supernet_cfg)
    algo.nonfinite_loss = 'skip'
    wrapper = optim(algo)
    algo.train_step(batch(size=size), wrapper)
    state = copy.deepcopy(algo.state_dict())  # weights and BN statistics
    optim_state = copy.deepcopy(wrapper.state_dict())
    with pytest.warns(UserWarning, match='Non-finite loss at .* skipped'):
        log_vars = algo.train_step(batch(float('nan'), size=size, seed=1),
                                   wrapper)
    assert not torch.isfinite(log_vars['loss'])  # the logs show it
    after = algo.state_dict()
    for key in state:
        # Group Fisher prunes at the start of a step from the previous
        # (finite) batch's Fisher information; the units' masks record it
        if isinstance(state[key], torch.Tensor) and \
                not key.endswith('mutable_channel.mask'):
            assert torch.equal(after[key], state[key]), key
    after_optim = wrapper.state_dict()['state']
    for idx, param_state in optim_state['state'].items():
        assert torch.equal(after_optim[idx]['momentum_buffer'],
                           param_state['momentum_buffer'])
    # The next finite batch trains as usual.
    algo.train_step(batch(size=size, seed=2), wrapper)
    assert any(not torch.equal(v, state[k])
               for k, v in algo.state_dict().items()
               if isinstance(v, torch.Tensor) and v.is_floating_point())


def test_training_guide_quotes_the_error():
    algo = kd()
    hub = MessageHub.get_instance('test_training_guide_quotes_the_error')
    hub.update_info('iter', 1)  # 0-based, as mmengine's runtime info
    hub.update_info('epoch', 0)
    with pytest.raises(FloatingPointError) as error:
        algo.train_step(batch(float('nan')), optim(algo))
    guide = Path(__file__).parents[3] / 'docs/en/user_guides/training.md'
    assert f'FloatingPointError: {error.value}' in guide.read_text()


def test_bad_action(tiny_supernet_cfg):
    algo = spos(tiny_supernet_cfg)
    algo.nonfinite_loss = 'ignore'
    with pytest.raises(ValueError, match=r"\['raise', 'skip'\].*'ignore'"):
        algo.train_step(batch(float('nan')), optim(algo))
    assert isinstance(algo, SPOS)


def test_nonfinite_terms():
    t, nan, inf = torch.tensor, float('nan'), float('inf')
    # only summed ('loss') keys count
    assert nonfinite_terms({'loss': t(1.), 'accuracy': t(nan)}) == {}
    # the terms are named, not the total they spoil
    bad = nonfinite_terms({'loss': t(nan), 'loss_a': t(1.),
                           'loss_b': t(inf)})
    assert bad == {'loss_b': inf}
    # the total alone when the terms are finite (their sum overflowed)
    bad = nonfinite_terms({'loss': t(inf), 'loss_a': t(3e38),
                           'loss_b': t(3e38)})
    assert bad == {'loss': inf}
