# Short QAT of the digits demo's model (tools/demo_quant.py): 2 epochs of
# SGD (lr 0.01, cosine to 0) on the fake-quantized graph, starting from the
# PTQ-calibrated model (load_from model_ptq.pth of
# ptq_x86_resnet18_cifar16_digits.py); observers update the scales in the
# first epoch only, batch norms freeze from the second. Run:
#   python tools/train.py \
#       configs/quantization/demo/qat_x86_resnet18_cifar16_digits.py \
#       --cfg-options load_from=work_dirs/ptq/model_ptq.pth
_base_ = ['./ptq_x86_resnet18_cifar16_digits.py']

max_epochs = 2

optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.01, momentum=0.9, nesterov=True,
        weight_decay=5e-4))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=0.0,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True)
]

train_cfg = dict(
    _delete_=True,
    type='mmrazor.QATEpochBasedLoop',
    max_epochs=max_epochs,
    val_interval=1,
    disable_observer_begin=2,
    freeze_bn_begin=2)
val_cfg = dict(_delete_=True, type='mmrazor.QATValLoop')
