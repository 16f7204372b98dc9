# Copyright (c) OpenMMLab. All rights reserved.
"""Small quantization fixtures: a tiny ResNet classifier and qconfigs."""
import copy
from typing import Dict


def qconfig(a_qdtype: str = 'quint8',
            bit: int = 8,
            per_channel: bool = True,
            lsq: bool = False,
            a_symmetric: bool = True) -> Dict:
    """A ``global_qconfig`` in the original MMRazor's language.

    Args:
        a_qdtype (str): Activation dtype, 'quint8' or 'qint8'.
        bit (int): Bit width of weights and activations.
        per_channel (bool): Per-channel weight scales.
        lsq (bool): LSQ observers and learnable fake quantizers.
        a_symmetric (bool): Symmetric activation grid.

    Returns:
        dict: The qconfig.
    """
    if lsq:
        w_obs = 'LSQPerChannelObserver' if per_channel else 'LSQObserver'
        a_obs, fq = 'LSQObserver', 'LearnableFakeQuantize'
    else:
        w_obs = ('PerChannelMinMaxObserver'
                 if per_channel else 'MinMaxObserver')
        a_obs, fq = 'MovingAverageMinMaxObserver', 'FakeQuantize'
    a_qscheme = dict(qdtype=a_qdtype, bit=bit, is_symmetry=a_symmetric)
    if not lsq:
        a_qscheme['averaging_constant'] = 0.1
    return dict(
        w_observer=dict(type=f'mmrazor.{w_obs}'),
        a_observer=dict(type=f'mmrazor.{a_obs}'),
        w_fake_quant=dict(type=f'mmrazor.{fq}'),
        a_fake_quant=dict(type=f'mmrazor.{fq}'),
        w_qscheme=dict(
            qdtype='qint8', bit=bit, is_symmetry=True,
            is_symmetric_range=True),
        a_qscheme=a_qscheme)


#: A ResNet-18 layout with 8 stem/base channels: residual adds,
#: downsample convs, a linear head; 10 classes, about 0.2M parameters.
TINY_RESNET = dict(
    type='mmcls.ImageClassifier',
    data_preprocessor=dict(
        type='mmcls.ClsDataPreprocessor',
        num_classes=10,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    # zero_init_residual off: zero BN weights make QAT's conv-bn folding
    # divide by zero on a randomly initialised model
    backbone=dict(
        type='mmcls.ResNet',
        depth=18,
        stem_channels=8,
        base_channels=8,
        zero_init_residual=False),
    neck=dict(type='mmcls.GlobalAveragePooling'),
    head=dict(
        type='mmcls.LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='mmcls.CrossEntropyLoss')))

#: The smallest classifier with every kind of quantized op: two convs with
#: batch norms and ReLU, a max pool, global pooling and a linear head
#: (10 classes, 510 parameters); it exports in about a second.
TINY_CONVNET = dict(
    type='mmcls.ImageClassifier',
    data_preprocessor=dict(
        type='mmcls.ClsDataPreprocessor',
        num_classes=10,
        mean=[128.] * 3,
        std=[64.] * 3),
    backbone=dict(type='mmrazor.SimpleConvNet', channels=(4, 8)),
    neck=dict(type='mmcls.GlobalAveragePooling'),
    head=dict(
        type='mmcls.LinearClsHead',
        num_classes=10,
        in_channels=8,
        loss=dict(type='mmcls.CrossEntropyLoss')))

#: The quantizer each backend's defaults suit.
BACKEND_QCONFIGS = {
    'TorchNativeQuantizer': dict(a_symmetric=False),
    'OpenVINOQuantizer': dict(),
    'TensorRTQuantizer': dict(a_qdtype='qint8'),
    'AcademicQuantizer': dict(),
}


def quantizer_cfg(name: str, **kwargs) -> Dict:
    """A quantizer config of ``name`` with its backend's qconfig."""
    q = qconfig(**{**BACKEND_QCONFIGS[name], **kwargs})
    if name == 'AcademicQuantizer':
        return dict(type=f'mmrazor.{name}', qconfig_mapping=dict(_global_=q))
    return dict(type=f'mmrazor.{name}', global_qconfig=q)


def tiny_quant_cfg(quantizer: str = 'OpenVINOQuantizer',
                   size: int = 32,
                   architecture: str = 'resnet',
                   **kwargs) -> Dict:
    """An ``MMArchitectureQuant`` config around :data:`TINY_RESNET`
    (``architecture='resnet'``) or :data:`TINY_CONVNET` (``'convnet'``).
    """
    archs = dict(resnet=TINY_RESNET, convnet=TINY_CONVNET)
    if architecture not in archs:
        raise ValueError(f'tiny_quant_cfg: architecture={architecture!r}; '
                         f'allowed: {sorted(archs)}')
    return dict(
        type='mmrazor.MMArchitectureQuant',
        architecture=copy.deepcopy(archs[architecture]),
        quantizer=quantizer_cfg(quantizer, **kwargs),
        input_shapes=(1, 3, size, size))
