# Copyright (c) OpenMMLab. All rights reserved.
"""The user-side example in ``examples/custom_backbone`` trains with SPOS."""
import math
import textwrap

from mmengine.config import Config

from mmrazor.testing import use_fake_data

from .conftest import RESULT_MARK, ROOT

EXAMPLE_CFG = ROOT / 'examples' / 'custom_backbone' / 'tiny_spos_config.py'
EXAMPLE_MODULE = 'examples.custom_backbone.my_backbones'


def make_fake_data_config(tmp_path) -> str:
    """Write the example config, rewritten to train on fake data."""
    # Do not import the example's module here: the subprocess must get it
    # from the config's custom_imports alone.
    cfg = Config.fromfile(str(EXAMPLE_CFG), import_custom_modules=False)
    assert cfg.custom_imports == dict(
        imports=[EXAMPLE_MODULE], allow_failed_imports=False)
    cfg = use_fake_data(
        cfg, str(tmp_path / 'work_dir'), image_size=32, batch_size=4)
    num_classes = cfg.model.architecture.head.num_classes
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.num_classes = num_classes
    # FakeClsDataset is registered when mmrazor.testing is imported.
    cfg.custom_imports.imports.append('mmrazor.testing')
    path = tmp_path / 'tiny_spos_fake_data.py'
    cfg.dump(str(path))
    return str(path)


def test_example_config_trains_two_iterations(tmp_path, run_python):
    cfg_path = make_fake_data_config(tmp_path)
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
            loss=runner.message_hub.get_scalar('train/loss').current())
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
    assert (tmp_path / 'work_dir' / 'iter_2.pth').is_file()
