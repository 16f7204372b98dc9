# Copyright (c) OpenMMLab. All rights reserved.
import pytest
import torch

from mmrazor.models.architectures import DAFLGenerator, ZSKTGenerator
from mmrazor.registry import MODELS

GENERATORS = (DAFLGenerator, ZSKTGenerator)


@pytest.mark.parametrize('cls', GENERATORS)
@pytest.mark.parametrize('img_size,scale_factor', [(32, 2), (28, 2),
                                                   (36, 3)])
def test_generator_samples_noise_with_batch_size(cls, img_size,
                                                 scale_factor):
    gen = cls(img_size=img_size, latent_dim=8, hidden_channels=6,
              scale_factor=scale_factor)
    img = gen(batch_size=3)
    assert img.shape == (3, 3, img_size, img_size)
    assert torch.isfinite(img).all()


@pytest.mark.parametrize('cls', GENERATORS)
def test_generator_maps_given_noise_and_backprops(cls):
    gen = cls(img_size=16, latent_dim=5, hidden_channels=4)
    noise = torch.randn(2, 5)
    gen.eval()
    img = gen(noise)
    assert img.shape == (2, 3, 16, 16)
    assert torch.equal(img, gen(noise))  # deterministic for given noise
    gen.train()
    gen(noise).sum().backward()
    assert gen.linear.weight.grad is not None


@pytest.mark.parametrize('cls', GENERATORS)
def test_generator_built_from_registry(cls):
    gen = MODELS.build(dict(type=cls.__name__, img_size=32, latent_dim=10,
                            hidden_channels=8))
    assert isinstance(gen, cls)
    assert (gen.img_size, gen.latent_dim, gen.init_size) == (32, 10, 8)


@pytest.mark.parametrize('cls', GENERATORS)
def test_generator_rejects_bad_noise_and_sizes(cls):
    gen = cls(img_size=16, latent_dim=5, hidden_channels=4)
    with pytest.raises(ValueError, match=r'\(N, 5\).*\(2, 4\)'):
        gen(torch.randn(2, 4))
    with pytest.raises(ValueError, match='batch_size'):
        gen()
    with pytest.raises(ValueError, match='divisible'):
        cls(img_size=30, latent_dim=5, hidden_channels=4)
    with pytest.raises(ValueError, match='latent_dim'):
        cls(img_size=16, latent_dim=0, hidden_channels=4)


def test_dafl_generator_output_is_normalised_per_channel():
    gen = DAFLGenerator(img_size=8, latent_dim=4, hidden_channels=4)
    img = gen(batch_size=16)  # train mode: last BN (no affine) normalises
    mean = img.mean(dim=(0, 2, 3))
    assert torch.allclose(mean, torch.zeros(3), atol=1e-4)
