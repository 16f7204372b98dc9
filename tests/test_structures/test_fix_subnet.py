# Copyright (c) OpenMMLab. All rights reserved.
import pytest
import torch
import yaml

from mmrazor.models import NasMutator
from mmrazor.registry import MODELS
from mmrazor.structures import (
    export_fix_subnet,
    load_fix_subnet,
    load_subnet_dict,
    save_subnet_file,
)

from ..conftest import SPOS_SUBNET


@pytest.fixture
def supernet(spos_arch_setting):
    return MODELS.build(
        dict(type='SearchableShuffleNetV2', arch_setting=spos_arch_setting))


def test_model_zoo_subnet_loads(supernet):
    """The published SPOS_SUBNET.yaml applies to a classifier's backbone."""
    subnet = load_subnet_dict(SPOS_SUBNET)
    assert len(subnet) == 20
    load_fix_subnet(supernet, SPOS_SUBNET, prefix='backbone.')
    assert supernet.layers[0][0].is_fixed
    assert supernet.layers[0][0].current_choice == 'shuffle_7x7'
    assert supernet.layers[3][3].choices == ['shuffle_xception']
    exported = export_fix_subnet(supernet)
    assert exported == {
        k[len('backbone.'):]: v
        for k, v in subnet.items()
    }


def test_export_load_round_trip(supernet, spos_arch_setting, tmp_path):
    mutator = NasMutator()
    mutator.prepare_from_supernet(supernet)
    mutator.set_choices(mutator.sample_choices())
    path = save_subnet_file(
        export_fix_subnet(supernet), tmp_path / 'subnet.yaml')
    with open(path) as f:
        assert yaml.safe_load(f) == export_fix_subnet(supernet)
    other = MODELS.build(
        dict(type='SearchableShuffleNetV2', arch_setting=spos_arch_setting))
    load_fix_subnet(other, path)
    assert export_fix_subnet(other) == export_fix_subnet(supernet)
    with_meta = export_fix_subnet(supernet, with_meta=True)
    assert with_meta['layers.0.0']['meta']['all_choices'][0] == 'shuffle_3x3'


def test_prefix_is_a_prefix_not_a_character_set(supernet):
    """'architecture.' must not eat the leading 'a'/'r'/... of names."""
    subnet = {
        f'architecture.{k}': v
        for k, v in load_subnet_dict(SPOS_SUBNET).items()
    }
    load_fix_subnet(supernet, subnet, prefix='architecture.backbone.')
    assert supernet.layers[1][0].current_choice == 'shuffle_xception'
    # A name that does not start with the prefix is left unchanged, even
    # when its first characters occur in the prefix ('arch' in 'archi...').
    model = torch.nn.Module()
    model.archblock = MODELS.build(
        dict(type='OneShotMutableOP', candidates=dict(a=dict(
            type='Identity', in_channels=4, out_channels=4, stride=1))))
    load_fix_subnet(model, {'archblock': {'chosen': 'a'}},
                    prefix='architecture.')
    assert model.archblock.is_fixed


def test_unknown_mutable_name(supernet):
    subnet = load_subnet_dict(SPOS_SUBNET)
    with pytest.raises(KeyError) as err:
        load_fix_subnet(supernet, subnet)  # names carry 'backbone.'
    assert "'backbone.layers.0.0'" in str(err.value)
    assert "prefix=" in str(err.value)


def test_choice_outside_candidates(supernet):
    subnet = load_subnet_dict(SPOS_SUBNET)
    subnet['backbone.layers.2.3'] = {'chosen': 'shuffle_9x9'}
    with pytest.raises(ValueError) as err:
        load_fix_subnet(supernet, subnet, prefix='backbone.')
    msg = str(err.value)
    assert "'shuffle_9x9'" in msg and "'layers.2.3'" in msg
    assert 'shuffle_xception' in msg
    # Nothing was fixed by the failed call.
    assert not any(m.is_fixed for m in supernet.modules()
                   if hasattr(m, 'is_fixed'))


def test_missing_entries(supernet):
    subnet = load_subnet_dict(SPOS_SUBNET)
    subnet.pop('backbone.layers.3.3')
    with pytest.raises(KeyError, match="'layers.3.3'"):
        load_fix_subnet(supernet, subnet, prefix='backbone.')


@pytest.mark.parametrize('content, match', [
    ({'a': 'shuffle_3x3'}, "'chosen' key"),
    (['a'], 'must map mutable names'),
])
def test_bad_file_format(tmp_path, content, match):
    path = tmp_path / 'bad.yaml'
    path.write_text(yaml.safe_dump(content))
    with pytest.raises(ValueError, match=match):
        load_subnet_dict(str(path))


def test_missing_file():
    with pytest.raises(FileNotFoundError, match='nope.yaml'):
        load_subnet_dict('nope.yaml')


def test_save_does_not_overwrite(tmp_path):
    path = tmp_path / 'subnet.yaml'
    save_subnet_file({'a': {'chosen': 1}}, path)
    with pytest.raises(FileExistsError, match='overwrite=True'):
        save_subnet_file({'a': {'chosen': 2}}, path)
    assert load_subnet_dict(str(path)) == {'a': {'chosen': 1}}
    save_subnet_file({'a': {'chosen': 2}}, path, overwrite=True)
    assert load_subnet_dict(str(path)) == {'a': {'chosen': 2}}


def test_yaml_is_safe(tmp_path):
    path = tmp_path / 'evil.yaml'
    path.write_text('a: !!python/object/apply:os.system ["echo hi"]\n')
    with pytest.raises(ValueError, match='evil.yaml.*python/object'):
        load_subnet_dict(str(path))


def test_alias_entries():
    from mmrazor.models import OneShotMutableValue
    model = torch.nn.Sequential(
        OneShotMutableValue([1, 2], alias='depth'),
        OneShotMutableValue([1, 2], alias='depth'))
    load_fix_subnet(model, {'depth': {'chosen': 1}})
    assert [m.current_choice for m in model] == [1, 1]


def test_reloading_into_a_fixed_model(supernet):
    load_fix_subnet(supernet, SPOS_SUBNET, prefix='backbone.')
    # The same subnet again is accepted; another choice is refused.
    load_fix_subnet(supernet, SPOS_SUBNET, prefix='backbone.')
    subnet = load_subnet_dict(SPOS_SUBNET)
    subnet['backbone.layers.0.0'] = {'chosen': 'shuffle_3x3'}
    with pytest.raises(ValueError, match="already fixed to 'shuffle_7x7'"):
        load_fix_subnet(supernet, subnet, prefix='backbone.')


def test_prefix_collision(supernet):
    subnet = {'a.layers.0.0': {'chosen': 'shuffle_3x3'},
              'layers.0.0': {'chosen': 'shuffle_5x5'}}
    with pytest.raises(ValueError, match="become 'layers.0.0'"):
        load_fix_subnet(supernet, subnet, prefix='a.')


def test_extra_prefix_as_the_original(spos_arch_setting):
    """``extra_prefix`` names what the file's names have and the model's
    lack, as in the original's DetNAS config (``sub_model(...,
    extra_prefix='backbone.')`` on a backbone built alone)."""
    from mmrazor.models.utils import sub_model
    backbone = sub_model(
        dict(type='mmrazor.SearchableShuffleNetV2',
             arch_setting=spos_arch_setting),
        fix_subnet=SPOS_SUBNET, extra_prefix='backbone.')
    assert not any(hasattr(m, 'is_fixed') and not m.is_fixed
                   for m in backbone.modules())
    supernet = MODELS.build(
        dict(type='SearchableShuffleNetV2', arch_setting=spos_arch_setting))
    load_fix_subnet(supernet, SPOS_SUBNET, extra_prefix='backbone.')
    assert supernet.layers[0][0].current_choice == 'shuffle_7x7'
