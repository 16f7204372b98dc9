# Copyright (c) OpenMMLab. All rights reserved.
"""The DMCP supernet config runs and writes its structures; the subnet
config retrains one of them."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

import mmrazor.testing  # noqa: F401  (registers FakeClsDataset)
from mmrazor.testing.smoke import smoke_config

from ..conftest import CONFIG_DIR

DMCP_DIR = osp.join(CONFIG_DIR, 'pruning', 'mmcls', 'dmcp')


@pytest.fixture
def plain_config_text(monkeypatch):
    monkeypatch.setattr(Config, 'pretty_text',
                        property(lambda self: repr(self.to_dict())))


def test_supernet_then_subnet_from_its_structure(tmp_path,
                                                plain_config_text):
    cfg, mode = smoke_config(
        osp.join(DMCP_DIR, 'dmcp_mbv2_supernet_32xb64.py'),
        str(tmp_path / 'supernet'))
    supernet = Runner.from_cfg(cfg)
    getattr(supernet, mode)()
    structure = tmp_path / 'supernet' / 'model_sample' / 'expected_ch.json'
    assert structure.is_file()  # DMCPSubnetHook, at the end of the run

    cfg = Config.fromfile(osp.join(DMCP_DIR, 'dmcp_mbv2_subnet_32xb64.py'))
    cfg.model.fix_subnet = str(structure)
    cfg, mode = smoke_config(cfg, str(tmp_path / 'subnet'))
    subnet = Runner.from_cfg(cfg)
    getattr(subnet, mode)()
    assert subnet.iter == 2
    assert not any(hasattr(m, 'mutable_attrs')
                   for m in subnet.model.modules())
