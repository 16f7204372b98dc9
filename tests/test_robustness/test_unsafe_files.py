# Copyright (c) OpenMMLab. All rights reserved.
"""Data files from users are read as plain json/yaml, never as objects."""
import pytest
from mmengine.runner import Runner

from mmrazor.structures import load_subnet_dict
from mmrazor.utils.dict_file import load_dict, read_data_file

from ..test_engine.conftest import search_cfg


def _python_tag_yaml(tmp_path, marker):
    path = tmp_path / 'candidates.yaml'
    path.write_text(
        f"- !!python/object/apply:os.system ['echo pwned > {marker}']\n")
    return path


def test_search_init_candidates_never_run_python_tags(tmp_path):
    marker = tmp_path / 'pwned'
    path = _python_tag_yaml(tmp_path, marker)
    runner = Runner.from_cfg(
        search_cfg(tmp_path / 'work', init_candidates=str(path)))
    loop = runner.build_train_loop(runner._train_loop)
    with pytest.raises(ValueError, match='`init_candidates` file .*yaml'):
        loop._initial_population()
    assert not marker.exists()


def test_search_init_candidates_pickle_refused(tmp_path):
    path = tmp_path / 'candidates.pkl'
    path.write_bytes(b'\x80\x04\x95\x00')
    with pytest.raises(ValueError, match='candidates.pkl.*not valid yaml'):
        read_data_file(path, 'init_candidates')


@pytest.mark.parametrize('text,pattern', [
    ('a:\n  chosen: 1\na:\n  chosen: 2\n', "duplicate key 'a'"),
    ('a: [1, 2\n', 'not valid yaml'),
])
def test_subnet_file_errors_name_the_file(tmp_path, text, pattern):
    path = tmp_path / 'subnet.yaml'
    path.write_text(text)
    with pytest.raises(ValueError, match=f'subnet.yaml.*{pattern}'):
        load_subnet_dict(str(path))


def test_binary_yaml_named(tmp_path):
    path = tmp_path / 'units.yaml'
    path.write_bytes(bytes(range(256)))
    with pytest.raises(ValueError, match='`units` file .*units.yaml'):
        load_dict(str(path), 'units')


def test_empty_and_truncated_json_named(tmp_path):
    path = tmp_path / 'deploy.json'
    path.write_text('')
    with pytest.raises(ValueError, match='deploy.json.*not valid json'):
        load_dict(str(path), 'divisor_cfg')
    path.write_text('{"a": ')
    with pytest.raises(ValueError, match='deploy.json.*not valid json'):
        load_dict(str(path), 'divisor_cfg')
