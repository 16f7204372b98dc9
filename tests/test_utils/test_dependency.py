# Copyright (c) OpenMMLab. All rights reserved.
import pytest

from mmrazor import _dependency


def fake_versions(monkeypatch, **versions):
    def version(dist):
        if dist in versions:
            return versions[dist]
        raise _dependency.metadata.PackageNotFoundError(dist)

    monkeypatch.setattr(_dependency.metadata, 'version', version)


def test_supported_versions_pass(monkeypatch):
    fake_versions(
        monkeypatch, mmengine='0.10.7', **{'mmcv-lite': '2.0.1'},
        mmcls='1.0.0rc6')
    _dependency.check_dependencies()


def test_out_of_range_names_package_and_range(monkeypatch):
    fake_versions(
        monkeypatch, mmengine='0.10.7', mmcv='2.2.0', mmcls='1.0.0rc6')
    with pytest.raises(ImportError) as err:
        _dependency.check_dependencies()
    msg = str(err.value)
    assert 'mmcv==2.2.0' in msg and '>=2.0.0rc4,<2.1.0' in msg
    assert 'pip install' in msg


def test_missing_package(monkeypatch):
    fake_versions(monkeypatch, mmengine='0.10.7', mmcv='2.0.1')
    with pytest.raises(ImportError, match='mmcls .* is not installed'):
        _dependency.check_dependencies()
