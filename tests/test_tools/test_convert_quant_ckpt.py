# Copyright (c) OpenMMLab. All rights reserved.
"""``tools/model_converters/convert_quant_ckpt.py``: a training checkpoint
of a calibrated two-conv quantized classifier (with an optimizer state and
mmengine's message hub) to a plain quantized state dict, to float weights
for mmcls and to an int8 ``.pt2`` program; and what it refuses."""
import copy
import importlib.util

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub

# skipped without torchao (imported quietly through mmrazor)
pytest.importorskip('mmrazor.models.fake_quants.learnable_fake_quantize')

from mmrazor.registry import MODELS  # noqa: E402
from mmrazor.testing.quantization import tiny_quant_cfg  # noqa: E402

from .conftest import TOOLS  # noqa: E402

SIZE = 16


def _cfg():
    """Two convs without batch norms: converting a graph with batch norms
    costs torchao 96 pattern exports (15-30 s), whatever its size."""
    cfg = tiny_quant_cfg(size=SIZE, architecture='convnet')
    cfg['architecture']['backbone']['norm_cfg'] = None
    return cfg


@pytest.fixture(scope='module')
def converter():
    path = TOOLS / 'model_converters' / 'convert_quant_ckpt.py'
    spec = importlib.util.spec_from_file_location('convert_quant', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """(model, config path, checkpoint path, uncalibrated checkpoint)."""
    tmp = tmp_path_factory.mktemp('quant_ckpt')
    torch.manual_seed(0)
    cfg = _cfg()
    model = MODELS.build(cfg)
    fresh = copy.deepcopy(model.state_dict())
    model.eval()
    with torch.no_grad():
        model(torch.randn(8, 3, SIZE, SIZE))
    for m in model.quant_modules():
        m.disable_observer()
    config = tmp / 'tiny_quant.py'
    Config(dict(model=cfg)).dump(str(config))
    hub = MessageHub.get_instance('convert_quant_test')
    hub.update_scalar('train/loss', 1.5)
    optim = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ckpt = tmp / 'epoch_1.pth'
    torch.save(dict(meta=dict(epoch=1), state_dict=model.state_dict(),
                    optimizer=optim.state_dict(),
                    message_hub=hub.state_dict()), ckpt)
    raw = tmp / 'uncalibrated.pth'
    torch.save(dict(state_dict=fresh), raw)
    return model, config, ckpt, raw


def test_quantized_and_float_state_dicts(converter, trained, tmp_path):
    model, _, ckpt, _ = trained
    out = tmp_path / 'quant.pth'
    assert converter.main([str(ckpt), str(out)]) == 0
    state = torch.load(out, weights_only=True)['state_dict']
    assert state.keys() == model.state_dict().keys()
    fresh = MODELS.build(_cfg())
    fresh.load_state_dict(state)  # strict
    fresh.eval()
    x = torch.randn(2, 3, SIZE, SIZE)
    with torch.no_grad():
        assert torch.equal(fresh(x), model(x))

    out = tmp_path / 'float.pth'
    assert converter.main([str(ckpt), str(out), '--float']) == 0
    state = torch.load(out, weights_only=True)['state_dict']
    arch = MODELS.build(_cfg()['architecture'])
    arch.load_state_dict(state)  # strict: exactly the mmcls model's keys
    assert torch.equal(state['head.fc.weight'],
                       model.architecture.head.fc.weight)
    # nothing is overwritten without --overwrite
    assert converter.main([str(ckpt), str(out), '--float']) == 1
    assert converter.main([str(ckpt), str(out), '--float',
                           '--overwrite']) == 0


def test_int8_program(converter, trained, tmp_path):
    model, config, ckpt, _ = trained
    out = tmp_path / 'int8.pt2'
    assert converter.main([str(ckpt), str(out), '--config',
                           str(config)]) == 0
    program = torch.export.load(str(out)).module()
    x = torch.randn(3, 3, SIZE, SIZE)  # another batch size
    with torch.no_grad():
        assert torch.allclose(program(x), model.get_deploy_model()(x),
                              atol=1e-6)


def test_refusals(converter, trained, tmp_path, capsys):
    _, config, ckpt, raw = trained
    cases = [
        ([str(ckpt), str(tmp_path / 'x.onnx')], 'needs --config'),
        ([str(ckpt), str(tmp_path / 'x.bin')],
         "suffix '.bin'; allowed: ['.pth', '.pt2', '.onnx']"),
        ([str(ckpt), str(tmp_path / 'x.pt2'), '--float'],
         '--float writes a .pth'),
        ([str(raw), str(tmp_path / 'x.pt2'), '--config', str(config)],
         'fake quantizers of the checkpoint never saw data'),
    ]
    plain = tmp_path / 'plain.pth'
    torch.save(dict(state_dict={'backbone.w': torch.zeros(1)}), plain)
    cases.append(([str(plain), str(tmp_path / 'y.pth')],
                  "top-level names: ['backbone']"))
    for argv, message in cases:
        assert converter.main(argv) == 1, argv
        assert message in capsys.readouterr().err, argv
