# PTQ of the digits demo's float model (tools/demo_quant.py) for PyTorch's
# x86 int8 backend: mmcls ResNet_CIFAR-18 at width 16 (0.70 M params),
# symmetric int8 weights per channel, uint8 activations per tensor,
# calibrated on 16 batches of 64 training images (no augmentation), then
# evaluated on the 360 val images. Run:
#   python tools/ptq.py \
#       configs/quantization/demo/ptq_x86_resnet18_cifar16_digits.py \
#       --cfg-options model.float_checkpoint=FLOAT.pth
_base_ = ['../../distill/mmcls/kd/digits/resnet18_cifar16_teacher_digits.py']

# the train split with the test pipeline (calibration sees no augmentation)
calibrate_dataloader = dict(
    batch_size=64,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type=_base_.dataset_type,
        split='train',
        image_size=_base_.image_size,
        pipeline=_base_.test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))

test_cfg = dict(
    type='mmrazor.PTQLoop',
    calibrate_dataloader=calibrate_dataloader,
    calibrate_steps=16)

# x86's scheme (TorchNativeQuantizer): uint8 affine activations
global_qconfig = dict(
    w_observer=dict(type='mmrazor.PerChannelMinMaxObserver'),
    a_observer=dict(type='mmrazor.MovingAverageMinMaxObserver'),
    w_fake_quant=dict(type='mmrazor.FakeQuantize'),
    a_fake_quant=dict(type='mmrazor.FakeQuantize'),
    w_qscheme=dict(
        qdtype='qint8', bit=8, is_symmetry=True, is_symmetric_range=True),
    a_qscheme=dict(
        qdtype='quint8', bit=8, is_symmetry=False, averaging_constant=0.1))

model = dict(
    _delete_=True,
    type='mmrazor.MMArchitectureQuant',
    data_preprocessor=_base_.preprocess_cfg,
    architecture=_base_.model,
    # the float weights: tools/demo_quant.py trains them
    float_checkpoint=None,
    input_shapes=(1, 3, _base_.image_size, _base_.image_size),
    quantizer=dict(
        type='mmrazor.TorchNativeQuantizer', global_qconfig=global_qconfig))
model['data_preprocessor']['type'] = 'mmcls.ClsDataPreprocessor'
# the float checkpoint (or QAT's load_from) overwrites every weight; without
# zero-initialised batch norms nothing warns about QAT's conv + bn folding
model['architecture']['backbone']['zero_init_residual'] = False
