# Retrain one genotype of the digits DARTS space from scratch on all 1437
# training images (tools/demo_darts.py sets fix_subnet to the searched or a
# random genotype, and the epochs).
_base_ = ['./darts_supernet_digits.py']

retrain_epochs = 15

# The retrained net: the search backbone with affine BN everywhere.
subnet_backbone = _base_.nas_backbone
subnet_backbone.norm_cfg = dict(type='BN', affine=True)
for _op in subnet_backbone.mutable_cfg.candidates.values():
    if 'norm_cfg' in _op:
        _op.norm_cfg = dict(type='BN', affine=True)
supernet = _base_.supernet
supernet.backbone = subnet_backbone

model = dict(
    _delete_=True,
    type='mmrazor.sub_model',
    cfg=supernet,
    # Replace with the yaml the search dumped (subnet_epoch_N.yaml).
    fix_subnet='DARTS_DIGITS_SUBNET.yaml')

train_dataloader = dict(dataset=dict(indices=None))
train_cfg = dict(
    _delete_=True,
    type='EpochBasedTrainLoop',
    max_epochs=retrain_epochs,
    val_interval=1)
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=3e-4),
    clip_grad=dict(max_norm=5, norm_type=2))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=retrain_epochs,
        eta_min=0.0,
        by_epoch=True,
        begin=0,
        end=retrain_epochs,
        convert_to_iter_based=True)
]
custom_hooks = []
