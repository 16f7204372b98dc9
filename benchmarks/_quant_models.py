# Copyright (c) OpenMMLab. All rights reserved.
"""Float models and data of the quantization benchmarks.

mmcls ImageNet classifiers with random weights whose batch norms get
realistic running statistics (cumulative averages over batches of the
data they will see, in train mode), at 224x224, fed either

- ``noise``: i.i.d. standard normal pixels (already "normalised"), or
- ``photos``: random square crops (scale 160-420 px, resized to 224,
  random flips) of scikit-learn's two sample photographs
  (``load_sample_images``: ``china.jpg``, ``flower.jpg``), normalised
  with the ImageNet mean and std: natural-image statistics without a
  download.
"""
import copy
from typing import Callable, Dict, List, Sequence

import torch

MODELS = {
    'resnet18': 'mmcls::resnet/resnet18_8xb32_in1k.py',
    'resnet50': 'mmcls::resnet/resnet50_8xb32_in1k.py',
    'mbv2': 'mmcls::mobilenet_v2/mobilenet-v2_8xb32_in1k.py',
}
SIZE = 224
MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
_PHOTOS: List[torch.Tensor] = []


def noise(n: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` images of standard normal pixels."""
    return torch.randn(n, 3, SIZE, SIZE, generator=gen)


def photos(n: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` normalised random crops of scikit-learn's sample photos."""
    if not _PHOTOS:
        import numpy as np
        from sklearn.datasets import load_sample_images
        _PHOTOS.extend(
            torch.from_numpy(np.array(img)).permute(2, 0, 1).float()
            for img in load_sample_images().images)

    def draw(low: int, high: int) -> int:
        return int(torch.randint(low, high, (1, ), generator=gen))

    out = []
    for _ in range(n):
        img = _PHOTOS[draw(0, len(_PHOTOS))]
        side = draw(160, 421)
        top = draw(0, img.shape[1] - side + 1)
        left = draw(0, img.shape[2] - side + 1)
        crop = torch.nn.functional.interpolate(
            img[None, :, top:top + side, left:left + side],
            size=(SIZE, SIZE), mode='bilinear', align_corners=False)
        out.append(crop.flip(-1) if draw(0, 2) else crop)
    return (torch.cat(out) - MEAN) / STD


DATA: Dict[str, Callable[[int, torch.Generator], torch.Tensor]] = dict(
    noise=noise, photos=photos)


def batches(data: str, count: int, batch: int, seed: int) -> List:
    """``count`` batches of ``batch`` images of ``data``."""
    gen = torch.Generator().manual_seed(seed)
    return [DATA[data](batch, gen) for _ in range(count)]


def build_float(name: str, data: str = 'noise', init: str = 'default',
                bn_batches: int = 8, seed: int = 0) -> torch.nn.Module:
    """The classifier with BN statistics from ``data``, in eval mode.

    Args:
        name (str): A key of :data:`MODELS`.
        data (str): ``'noise'`` or ``'photos'``.
        init (str): ``'default'``: the modules' PyTorch initialisation
            (the linear head gets a uniform bias); ``'mmcls'``: the config's
            ``init_weights`` (Kaiming-normal convs, a N(0, 0.01) head without
            bias).
        bn_batches (int): Batches of 8 for the BN statistics.
        seed (int): Seed of the weights and of the BN batches.
    """
    from mmengine.hub import get_config
    from mmengine.registry import DefaultScope

    from mmrazor.registry import MODELS as REGISTRY
    if init not in ('default', 'mmcls'):
        raise ValueError(f"init={init!r}; allowed: 'default', 'mmcls'")
    cfg = get_config(MODELS[name]).model
    if cfg.backbone.type == 'ResNet':
        # zero BN weights would make every residual branch 0 (and QAT's
        # conv + bn folding divide by 0)
        cfg.backbone.zero_init_residual = False
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmcls'):
        model = REGISTRY.build(cfg)
    if init == 'mmcls':
        model.init_weights()
    norms = [m for m in model.modules()
             if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.momentum = None  # cumulative average
    model.train()
    with torch.no_grad():
        for x in batches(data, bn_batches, 8, seed + 100):
            model(x, mode='tensor')
    for m in norms:
        # back to a constant (a cumulative average divides by the batch
        # count, which torch.export cannot trace)
        m.momentum = 0.1
    return model.eval()


def qconfig(a_observer: str = 'MovingAverageMinMaxObserver',
            a_qdtype: str = 'quint8', a_symmetric: bool = False) -> Dict:
    """x86's scheme in the config language (uint8 affine activations by
    default), with the activation observer ``a_observer``."""
    from mmrazor.testing.quantization import qconfig as make
    q = make(a_qdtype=a_qdtype, a_symmetric=a_symmetric)
    q['a_observer'] = dict(type=f'mmrazor.{a_observer}')
    if a_observer != 'MovingAverageMinMaxObserver':
        q['a_qscheme'].pop('averaging_constant', None)
    return q


def mmrazor_ptq(arch: torch.nn.Module, calib: Sequence[torch.Tensor],
                quantizer: str = 'TorchNativeQuantizer',
                global_qconfig: Dict = None,
                keep_float: Sequence[str] = ()) -> torch.nn.Module:
    """Export, prepare and calibrate through ``MMArchitectureQuant``
    (observers off afterwards); the architecture is copied."""
    from mmrazor.registry import MODELS as REGISTRY
    q = global_qconfig or qconfig()
    qcfg = dict(type=f'mmrazor.{quantizer}', keep_float=list(keep_float))
    if quantizer == 'AcademicQuantizer':
        qcfg['qconfig_mapping'] = dict(_global_=q)
    else:
        qcfg['global_qconfig'] = q
    model = REGISTRY.build(
        dict(
            type='mmrazor.MMArchitectureQuant',
            architecture=copy.deepcopy(arch),
            quantizer=qcfg,
            input_shapes=(1, 3, SIZE, SIZE)))
    model.eval()
    with torch.no_grad():
        for x in calib:
            model(x)
    for m in model.quant_modules():
        m.disable_observer()
    return model
