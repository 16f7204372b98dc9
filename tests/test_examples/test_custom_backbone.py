# Copyright (c) OpenMMLab. All rights reserved.
"""The user-side example in ``examples/custom_backbone`` trains with SPOS,
offline, on the digits data it names (a tiny share of it here)."""
import math
import textwrap

from mmengine.config import Config

from .conftest import RESULT_MARK, ROOT

EXAMPLE_CFG = ROOT / 'examples' / 'custom_backbone' / 'tiny_spos_config.py'
EXAMPLE_MODULE = 'examples.custom_backbone.my_backbones'


def make_tiny_config(tmp_path) -> str:
    """Write the example config, cut to one epoch of two iterations."""
    # Do not import the example's module here: the subprocess must get it
    # from the config's custom_imports alone.
    cfg = Config.fromfile(str(EXAMPLE_CFG), import_custom_modules=False)
    assert cfg.custom_imports == dict(
        imports=[EXAMPLE_MODULE], allow_failed_imports=False)
    assert cfg.train_dataloader.dataset.type == 'mmrazor.DigitsDataset'
    assert cfg.val_cfg.type == 'mmrazor.SubnetValLoop'
    cfg.work_dir = str(tmp_path / 'work_dir')
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 1
    cfg.train_dataloader.batch_size = 8
    cfg.train_dataloader.dataset.indices = 16
    cfg.val_dataloader.dataset.indices = 16
    cfg.val_cfg.calibrate_sample_num = 16
    path = tmp_path / 'tiny_spos_digits.py'
    cfg.dump(str(path))
    return str(path)


def test_example_config_trains_two_iterations(tmp_path, run_python):
    cfg_path = make_tiny_config(tmp_path)
    script = textwrap.dedent(f"""
        import json
        import sys

        from mmengine.config import Config
        from mmengine.runner import Runner

        module = {EXAMPLE_MODULE!r}
        before = sorted(m for m in (module, 'mmrazor') if m in sys.modules)
        cfg = Config.fromfile({cfg_path!r})
        runner = Runner.from_cfg(cfg)
        runner.train()

        backbone = runner.model.architecture.backbone
        block = backbone.layers[0][0]
        result = dict(
            before=before,
            imported=module in sys.modules,
            algorithm=type(runner.model).__name__,
            backbone=type(backbone).__module__ + '.' +
            type(backbone).__name__,
            candidates={{name: type(op).__name__
                        for name, op in block._candidates.items()}},
            iters=runner.iter,
            loss=runner.message_hub.get_scalar('train/loss').current(),
            val=sorted(k for k in runner.message_hub.log_scalars
                       if k.startswith('val/')))
        print({RESULT_MARK!r} + json.dumps(result))
    """)
    result = run_python(script)

    assert result['before'] == []
    assert result['imported']
    assert result['algorithm'] == 'SPOS'
    assert result['backbone'] == f'{EXAMPLE_MODULE}.TinySearchableNet'
    assert result['candidates'] == dict(
        shuffle_3x3='ShuffleBlock',
        shuffle_xception='ShuffleXception',
        sep_conv_5x5='TinySepConv',
        skip='Identity')
    assert result['iters'] == 2
    assert math.isfinite(result['loss'])
    assert 'val/random_subnet_1.accuracy/top1' in result['val']
    assert (tmp_path / 'work_dir' / 'epoch_1.pth').is_file()
