# Copyright (c) OpenMMLab. All rights reserved.
"""An mmcls config uses mmrazor's backbone through ``custom_imports`` only.

This is the config that ``docs/en/advanced_guides/customize_architectures.md``
shows (section "Use the backbone in a config"), with the ``_base_`` path made
absolute so that the file can live in a temporary folder.
"""
import textwrap

from .conftest import RESULT_MARK, ROOT

SEARCH_SPACE = ROOT / 'configs' / '_base_' / 'nas_backbones' / \
    'spos_shufflenet_supernet.py'

CLASSIFIER_CFG = f"""\
default_scope = 'mmcls'
custom_imports = dict(imports=['mmrazor.models'], allow_failed_imports=False)

_base_ = [{str(SEARCH_SPACE)!r}]

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='mmrazor.SearchableShuffleNetV2',
        arch_setting=_base_.arch_setting,
        widen_factor=1.0),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=1024))
"""


def test_mmcls_classifier_with_searchable_backbone(tmp_path, run_python):
    cfg_path = tmp_path / 'spos_backbone_classifier.py'
    cfg_path.write_text(CLASSIFIER_CFG)
    script = textwrap.dedent(f"""
        import json
        import sys

        import torch
        from mmcls.registry import MODELS
        from mmcls.utils import register_all_modules
        from mmengine.config import Config
        from mmengine.utils import import_modules_from_strings

        cfg = Config.fromfile({str(cfg_path)!r}, import_custom_modules=False)
        before = 'mmrazor' in sys.modules
        register_all_modules()
        import_modules_from_strings(**cfg.custom_imports)

        model = MODELS.build(cfg.model)
        model.eval()
        with torch.no_grad():
            feats = model.backbone(torch.rand(2, 3, 224, 224))
            scores = model.head(model.neck(feats))
        result = dict(
            before=before,
            classifier=type(model).__module__,
            backbone=type(model.backbone).__module__,
            feats=[list(f.shape) for f in feats],
            scores=list(scores.shape))
        print({RESULT_MARK!r} + json.dumps(result))
    """)
    result = run_python(script, cwd=tmp_path)

    assert result['before'] is False
    assert result['classifier'].startswith('mmcls.')
    assert result['backbone'] == ('mmrazor.models.architectures.backbones.'
                                  'searchable_shufflenet_v2')
    assert result['feats'] == [[2, 1024, 7, 7]]
    assert result['scores'] == [2, 1000]
