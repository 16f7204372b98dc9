# Copyright (c) OpenMMLab. All rights reserved.
"""The original MMRazor's tools, run as scripts with their flags."""
import subprocess
import sys

import torch

from .conftest import ROOT, TOOLS, tool_env


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT,
                          env=tool_env(), capture_output=True, text=True,
                          timeout=120)


def test_kd_to_student_and_publish(tmp_path):
    ckpt = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': {'architecture.w': torch.ones(2),
                               'teacher.w': torch.zeros(2)},
                'meta': {'epoch': 1}, 'optimizer': {'lr': 0.1}}, ckpt)
    tool = TOOLS / 'model_converters' / 'convert_kd_ckpt_to_student.py'
    assert run(tool, ckpt).returncode == 0
    student = torch.load(tmp_path / 'epoch_1_student.pth',
                         weights_only=True)
    assert list(student['state_dict']) == ['w']
    again = run(tool, ckpt)
    assert again.returncode == 1 and 'exists' in again.stderr
    assert run(tool, ckpt, '--overwrite').returncode == 0
    out = tmp_path / 'pub'
    done = run(TOOLS / 'model_converters' / 'publish_model.py', ckpt,
               '--model-name', 'm', '--timestamp', 't', '--out-dir', out)
    assert done.returncode == 0, done.stderr
    [published] = list(out.glob('m_t-*.pth'))
    assert 'optimizer' not in torch.load(published, weights_only=True)


def test_print_config(tmp_path):
    cfg = tmp_path / 'c.py'
    cfg.write_text('a = dict(b=1)\n')
    done = run(TOOLS / 'misc' / 'print_config.py', cfg, '--cfg-options',
               'a.b=2')
    assert done.returncode == 0 and 'b=2' in done.stdout



def test_convert_supernet2subnet(supernet_run, tmp_path):
    from mmengine.config import Config

    from mmrazor.models.utils import export_static_model
    from mmrazor.registry import MODELS
    from mmrazor.structures import load_fix_subnet
    from mmrazor.utils.checkpoint import load_from_local

    from .conftest import SPOS_DIR
    tool = TOOLS / 'model_converters' / 'convert_supernet2subnet.py'
    subnet = SPOS_DIR / 'SPOS_SUBNET.yaml'
    out = tmp_path / 'subnet.pth'
    done = run(tool, supernet_run.config, supernet_run.checkpoint, subnet,
               '--out', out)
    assert done.returncode == 0, done.stderr
    state = torch.load(out, weights_only=True)['state_dict']
    assert all(k.startswith('architecture.') for k in state)

    # the supernet fixed to the subnet gives the outputs of the subnet
    # model holding only the converted weights
    cfg = Config.fromfile(str(supernet_run.config))
    algo = MODELS.build(cfg.model)
    algo.load_state_dict(
        load_from_local(str(supernet_run.checkpoint))['state_dict'])
    load_fix_subnet(algo.architecture, str(subnet))
    static = export_static_model(algo.architecture).eval()
    subnet_model = MODELS.build(
        dict(type='mmrazor.sub_model', cfg=cfg.model.architecture,
             fix_subnet=str(subnet))).eval()
    subnet_model.load_state_dict(
        {k[len('architecture.'):]: v for k, v in state.items()})
    # the same tensors (a 2-iteration supernet at lr 0.5 may hold inf/NaN
    # statistics on paths it barely trained: compared as equal)
    for key, value in static.state_dict().items():
        torch.testing.assert_close(state['architecture.' + key], value,
                                   rtol=0, atol=0, equal_nan=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(
            subnet_model(x, mode='tensor'), static(x, mode='tensor'),
            rtol=0, atol=1e-5, equal_nan=True)

    again = run(tool, supernet_run.config, supernet_run.checkpoint, subnet,
                '--out', out)
    assert again.returncode == 1 and 'exists' in again.stderr
    bad = tmp_path / 'bad.yaml'
    bad.write_text('backbone.nope:\n  chosen: shuffle_3x3\n')
    wrong = run(tool, supernet_run.config, supernet_run.checkpoint, bad,
                '--out', tmp_path / 'b.pth')
    assert wrong.returncode == 1 and 'backbone.nope' in wrong.stderr


def test_get_flops_counts_resnet34_and_its_pruned_deploy_model(tmp_path):
    l1 = ROOT / 'configs' / 'pruning' / 'mmcls' / 'l1-norm'
    tool = TOOLS / 'pruning' / 'get_flops.py'
    full = run(tool, l1 / 'l1-norm_resnet34_8xb32_in1k_a.py')
    assert full.returncode == 0, full.stderr
    # torchvision's / mmcls's ResNet-34: 21,797,672 parameters, 3.68 GFLOPs
    assert '3675.628 MFLOPs, 21.798 M parameters' in full.stdout
    pruned = run(tool, l1 / 'l1-norm_resnet34_8xb32_in1k_a_deploy.py',
                 '-H', '112', '-W', '112')
    assert pruned.returncode == 0, pruned.stderr
    assert 'input 1x3x112x112: 830.119 MFLOPs, 20.159 M parameters' \
        in pruned.stdout
    bad = run(tool, l1 / 'l1-norm_resnet34_8xb32_in1k_a.py', '-H', '0')
    assert bad.returncode == 2 and '-H must be a positive' in bad.stderr


def test_get_l1_prune_config_writes_a_config_that_prunes(tmp_path):
    import json

    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmrazor.testing import use_fake_data

    from ..test_configs.test_pruning_configs import shrink
    tool = TOOLS / 'pruning' / 'get_l1_prune_config.py'
    template = tmp_path / 'template.py'
    done = run(tool, 'mmcls::resnet/resnet18_8xb32_in1k.py', '-o', template)
    assert done.returncode == 0, done.stderr
    ratios = Config.fromfile(str(template)).model.target_pruning_ratio
    assert len(ratios) == 12 and set(ratios.values()) == {1.0}
    halved = ['backbone.layer1.0.conv1_(0, 64)_64',
              'backbone.layer2.0.conv1_(0, 128)_128']
    subnet = tmp_path / 'ratios.json'
    subnet.write_text(json.dumps({**ratios, **dict.fromkeys(halved, 0.5)}))
    out = tmp_path / 'prune.py'
    done = run(tool, 'mmcls::resnet/resnet18_8xb32_in1k.py', '--subnet',
               subnet, '-o', out)
    assert done.returncode == 0, done.stderr
    again = run(tool, 'mmcls::resnet/resnet18_8xb32_in1k.py', '-o', out)
    assert again.returncode == 1 and 'exists' in again.stderr
    subnet.write_text(json.dumps({halved[0]: 0.5}))
    partial = run(tool, 'mmcls::resnet/resnet18_8xb32_in1k.py', '--subnet',
                  subnet, '-o', tmp_path / 'p.py')
    assert partial.returncode == 1 and 'Missing' in partial.stderr

    cfg = Config.fromfile(str(out))
    shrink(cfg.model, 64)
    cfg = use_fake_data(cfg, str(tmp_path / 'work'), num_samples=4,
                        batch_size=2, max_iters=2, image_size=64,
                        num_classes=1000)
    cfg.log_level = 'WARNING'
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=-1, save_last=False)
    runner = Runner.from_cfg(cfg)
    runner.train()
    units = {u.name: u for u in runner.model.mutator.units}
    for name in halved:
        assert units[name].activated_channels == \
            units[name].num_channels // 2
