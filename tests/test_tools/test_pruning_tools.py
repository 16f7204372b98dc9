# Copyright (c) OpenMMLab. All rights reserved.
"""``tools/pruning/get_static_model_from_algorithm.py``: checkpoint to a
plain pruned model, its structure and a deploy config."""
import importlib.util
import json

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmrazor.models.utils import export_pruned_model
from mmrazor.registry import MODELS

from ..test_models.test_algorithms._prune_toy import (
    CONV1,
    CONV2,
    PARSE_CFG,
    batch,
    optim_wrapper,
    tiny_classifier,
)
from .conftest import TOOLS, run_tool

TOOL = TOOLS / 'pruning' / 'get_static_model_from_algorithm.py'


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('mmrazor_tools_prune_export',
                                                  TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def pruned(tmp_path, tool):
    """A GroupFisher config, and a checkpoint after 3 pruned channels."""
    config = tmp_path / 'group_fisher_tiny.py'
    Config(
        dict(
            default_scope='mmcls',
            model=dict(
                _scope_='mmrazor',
                type='GroupFisherAlgorithm',
                architecture=dict(tiny_classifier(), init_cfg=dict(
                    type='Pretrained', checkpoint='no_such_file.pth')),
                interval=1,
                max_prunes=3,
                input_shape=(1, 3, 16, 16),
                mutator=dict(
                    type='GroupFisherChannelMutator',
                    parse_cfg=PARSE_CFG,
                    channel_unit_cfg=dict(
                        type='GroupFisherChannelUnit',
                        default_args=dict(mutate_linear=True)))),
            model_wrapper_cfg=dict(type='mmrazor.GroupFisherDDP'),
        )).dump(str(config))
    torch.manual_seed(0)
    algo = tool.build_algorithm(Config.fromfile(str(config)))
    wrapper = optim_wrapper(algo)
    for i in range(4):
        algo.train_step(batch(seed=i), wrapper)
    assert algo.num_pruned == 3
    checkpoint = tmp_path / 'iter_4.pth'
    torch.save({'state_dict': algo.state_dict(), 'meta': {'iter': 4}},
               checkpoint)
    return config, checkpoint, algo.eval()


def test_export(pruned, tool, tmp_path, capsys):
    config, checkpoint, algo = pruned
    out = tmp_path / 'out'
    assert tool.main([str(config), str(checkpoint), '-o', str(out),
                      '--input-shape', '1', '3', '16', '16']) == 0
    printed = capsys.readouterr().out
    assert 'flops:' in printed and 'params:' in printed
    assert 'latency' not in printed
    structure = json.loads((out / 'iter_4_pruned.json').read_text())
    assert structure == algo.pruning_structure
    assert sum(structure.values()) == 8 + 16 - 3
    state = torch.load(out / 'iter_4_pruned.pth', weights_only=True)
    static, _ = export_pruned_model(algo)
    assert state.keys() == static.state_dict().keys()

    deploy_cfg = Config.fromfile(str(out / 'iter_4_pruned_deploy.py'))
    assert deploy_cfg.load_from == str(out / 'iter_4_pruned.pth')
    assert 'model_wrapper_cfg' not in deploy_cfg
    init_default_scope('mmcls')
    deploy = MODELS.build(deploy_cfg.model).eval()
    deploy.load_state_dict(state)
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        diff = deploy(x, mode='tensor') - algo(x, mode='tensor')
    assert diff.abs().max() <= 1e-5

    # nothing is overwritten
    assert tool.main([str(config), str(checkpoint), '-o', str(out)]) == 1
    assert 'refusing to overwrite' in capsys.readouterr().err


def test_errors(pruned, tool, tmp_path, capsys):
    config, checkpoint, algo = pruned
    out = tmp_path / 'out'
    assert tool.main([str(config), str(tmp_path / 'missing.pth'), '-o',
                      str(out)]) == 1
    assert 'missing.pth' in capsys.readouterr().err
    plain = tmp_path / 'plain.pth'  # an architecture checkpoint
    torch.save(algo.architecture.state_dict(), plain)
    assert tool.main([str(config), str(plain), '-o', str(out)]) == 1
    assert 'does not fit' in capsys.readouterr().err
    no_structure = tmp_path / 'no_structure.pth'
    state = algo.state_dict()
    state.pop('_extra_state')
    torch.save({'state_dict': state}, no_structure)
    assert tool.main([str(config), str(no_structure), '-o', str(out)]) == 1
    assert 'no pruning structure' in capsys.readouterr().err
    assert not out.exists()


def test_command_line(pruned, tmp_path):
    config, checkpoint, _ = pruned
    out = tmp_path / 'cli'
    proc = run_tool([TOOL, config, checkpoint, '-o', out, '--input-shape',
                     '1', '3', '16', '16', '--latency', '3'])
    assert 'saved weights' in proc.stdout
    assert 'latency:' in proc.stdout
    assert (out / 'iter_4_pruned.pth').is_file()
    assert CONV1 in proc.stdout and CONV2 in proc.stdout
