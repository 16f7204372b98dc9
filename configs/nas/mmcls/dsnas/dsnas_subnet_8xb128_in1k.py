# The DSNAS subnet of the paper (the original's subnet file) as a static
# ShuffleNetV2 classifier.
_base_ = ['./dsnas_supernet_8xb128_in1k.py']

model = dict(
    _delete_=True,
    type='mmrazor.sub_model',
    cfg=_base_.supernet,
    # Replace the yaml with the subnet your search dumped.
    fix_subnet='{{fileDirname}}/DSNAS_SUBNET_IMAGENET_PAPER_ALIAS.yaml')

optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='SGD', lr=0.5, momentum=0.9, weight_decay=4e-5),
    paramwise_cfg=dict(bias_decay_mult=0.0, norm_decay_mult=0.0))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=240, by_epoch=True,
         convert_to_iter_based=True)
]
model_wrapper_cfg = None
find_unused_parameters = False
