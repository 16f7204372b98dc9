# Copyright (c) OpenMMLab. All rights reserved.
import copy

import pytest
import torch
from mmcls.structures import ClsDataSample
from mmengine.optim import OptimWrapper
from torch.nn.modules.batchnorm import _BatchNorm

from mmrazor.models import SPOS, NasMutator
from mmrazor.registry import MODELS


def batch(n=4, size=32, num_classes=10):
    return dict(
        inputs=[torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
                for _ in range(n)],
        data_samples=[ClsDataSample().set_gt_label(i % num_classes)
                      for i in range(n)])


def test_build_from_cfg_and_from_model(tiny_supernet_cfg):
    algo = MODELS.build(dict(type='SPOS', architecture=tiny_supernet_cfg))
    assert isinstance(algo, SPOS)
    assert isinstance(algo.mutator, NasMutator)
    assert len(algo.mutator.search_groups) == 4
    assert algo.data_preprocessor is algo.architecture.data_preprocessor
    built = MODELS.build(tiny_supernet_cfg)
    algo2 = SPOS(architecture=built, mutator=NasMutator())
    assert algo2.architecture is built


def test_bad_components(tiny_supernet_cfg):
    with pytest.raises(TypeError, match='`architecture` must be'):
        SPOS(architecture=torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match='`mutator` must be'):
        SPOS(architecture=tiny_supernet_cfg, mutator=torch.nn.Identity())


def test_train_step_samples_a_single_path(tiny_supernet_cfg):
    torch.manual_seed(0)
    algo = SPOS(architecture=tiny_supernet_cfg)
    optim = OptimWrapper(torch.optim.SGD(algo.parameters(), lr=0.1))
    seen = []
    for _ in range(4):
        before = copy.deepcopy(algo.architecture.state_dict())
        log = algo.train_step(batch(), optim)
        assert 'loss' in log
        subnet = algo.mutator.current_choices
        seen.append(tuple(subnet.values()))
        after = algo.architecture.state_dict()
        # Only the sampled candidate of each block changed.
        for name, choice in subnet.items():
            for cand in algo.mutator.choices[name]:
                # the first conv of the candidate's branch2 (a plain conv
                # or the depthwise conv of a depthwise separable conv)
                key = next(k for k in before
                           if k.startswith(f'{name}._candidates.{cand}.'
                                           'branch2.0.')
                           and k.endswith('conv.weight'))
                changed = not torch.equal(before[key], after[key])
                assert changed == (cand == choice), (name, cand)
    assert len(set(seen)) > 1


def test_predict_uses_current_subnet(tiny_supernet_cfg):
    algo = SPOS(architecture=tiny_supernet_cfg).eval()
    subnet = algo.mutator.sample_choices()
    algo.set_subnet(subnet)
    data = algo.data_preprocessor(batch(2), False)
    out = algo(data['inputs'], data['data_samples'], mode='predict')
    assert len(out) == 2 and out[0].pred_label.score.shape == (10, )
    logits = algo(data['inputs'], mode='tensor')
    assert logits.shape == (2, 10)
    with pytest.raises(ValueError, match="'loss', 'tensor' or 'predict'"):
        algo(data['inputs'], mode='bad')


def test_norm_training(tiny_supernet_cfg):
    algo = SPOS(architecture=tiny_supernet_cfg, norm_training=True)
    algo.eval()
    norms = [m for m in algo.modules() if isinstance(m, _BatchNorm)]
    assert norms and all(m.training for m in norms)
    algo = SPOS(architecture=tiny_supernet_cfg).eval()
    assert not any(m.training for m in algo.modules()
                   if isinstance(m, _BatchNorm))


def test_typeless_data_preprocessor_from_runner(tiny_supernet_cfg):
    """A config's top-level data_preprocessor (no type) reaches SPOS."""
    algo = SPOS(
        architecture=tiny_supernet_cfg,
        data_preprocessor=dict(mean=[1., 2., 3.], std=[4., 5., 6.]))
    assert type(algo.data_preprocessor).__name__ == 'ClsDataPreprocessor'
    assert algo.architecture.data_preprocessor is algo.data_preprocessor
    assert algo.data_preprocessor.mean.flatten().tolist() == [1., 2., 3.]
