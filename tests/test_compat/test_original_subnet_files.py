# Copyright (c) OpenMMLab. All rights reserved.
"""The original MMRazor's published subnet files load as they are.

The BigNAS A0-A6 files and the SPOS subnet sit in ``configs/`` as the
model zoo published them (byte-identical to the reference copies in
``../shared/reference/original_subnets`` when that folder is there)."""
import filecmp
import os.path as osp

import pytest
from mmengine.config import Config

from mmrazor.models import NasMutator
from mmrazor.registry import MODELS
from mmrazor.structures import (
    export_fix_subnet,
    load_fix_subnet,
    load_subnet_dict,
)

from ..conftest import CONFIG_DIR, REPO_ROOT, SPOS_SUBNET

BIGNAS_DIR = osp.join(CONFIG_DIR, 'nas', 'mmcls', 'bignas')
REFERENCE = osp.join(osp.dirname(REPO_ROOT), 'shared', 'reference',
                     'original_subnets')
BIGNAS_FILES = [f'ATTENTIVE_SUBNET_A{i}.yaml' for i in range(7)]


@pytest.mark.parametrize('name', BIGNAS_FILES)
def test_bignas_subnet_files_load(name):
    cfg = Config.fromfile(
        osp.join(BIGNAS_DIR, 'attentive_mobilenet_supernet_32xb64_in1k.py'))
    model = MODELS.build(cfg.supernet)
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    path = osp.join(BIGNAS_DIR, name)
    load_fix_subnet(model, path)
    assert all(m.is_fixed for m in mutator.mutables.values())
    # exported again, the subnet is the file's (the export names the
    # mutables by their module path: under ``backbone.mutables``, and the
    # input size as ``input_resizer.mutable_attrs.shape``)
    subnet = load_subnet_dict(path)
    exported = export_fix_subnet(model)
    renamed = {'input_resizer.mutable_attrs.shape': 'input_shape'}
    assert {renamed.get(k, k.replace('backbone.mutables.', 'backbone.')):
            v['chosen'] for k, v in exported.items()} == {
        k: v['chosen'] for k, v in subnet.items()}
    reference = osp.join(REFERENCE, 'bignas', name)
    if osp.isfile(reference):
        assert filecmp.cmp(path, reference, shallow=False)


def test_spos_subnet_file_is_the_published_one():
    reference = osp.join(REFERENCE, 'spos', 'SPOS_SUBNET.yaml')
    if not osp.isfile(reference):
        pytest.skip('no ../shared/reference copy here')
    # loading it is checked by the SPOS tests (327,544,320 FLOPs)
    assert filecmp.cmp(SPOS_SUBNET, reference, shallow=False)
