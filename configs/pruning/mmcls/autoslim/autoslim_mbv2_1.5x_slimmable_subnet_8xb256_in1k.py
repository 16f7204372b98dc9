# AutoSlim stage 3: retrain the searched widths from scratch as one
# slimmable network (shared weights, a batch norm per width).
_base_ = [
    '../../../_base_/settings/imagenet_bs2048_autoslim_pil.py',
    'mmcls::_base_/models/mobilenet_v2_1x.py',
    'mmcls::_base_/default_runtime.py',
]

supernet = _base_.model
supernet.backbone.widen_factor = 1.5
supernet.head.in_channels = 1920

data_preprocessor = dict(
    type='ImgDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
)

# The three subnets of the greedy search (files in this folder).
channel_cfg_paths = [
    '{{ fileDirname }}/MBV2_530M.yaml',
    '{{ fileDirname }}/MBV2_320M.yaml',
    '{{ fileDirname }}/MBV2_220M.yaml',
]

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='SlimmableNetwork',
    architecture=supernet,
    data_preprocessor=data_preprocessor,
    channel_cfg_paths=channel_cfg_paths,
    mutator=dict(
        type='SlimmableChannelMutator',
        channel_unit_cfg=dict(type='SlimmableChannelUnit'),
        parse_cfg=dict(
            type='ChannelAnalyzer',
            demo_input=(1, 3, 224, 224),
            tracer_type='BackwardTracer')))

model_wrapper_cfg = dict(
    type='MMDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=True)

val_cfg = dict(type='mmrazor.SlimmableValLoop')
