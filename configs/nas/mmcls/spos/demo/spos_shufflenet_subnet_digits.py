# Retrain one subnet of the digits SPOS supernet alone, from scratch.
_base_ = ['./spos_shufflenet_supernet_digits.py']

# The subnet to retrain: replace the yaml with the one your search exported
# (best_fix_subnet.yaml). The default picks shuffle_3x3 in every layer; its
# entries name the per-layer aliases of the supernet's search groups.
model = dict(
    _delete_=True,
    type='mmrazor.sub_model',
    cfg=_base_.supernet,
    fix_subnet='{{fileDirname}}/SPOS_DIGITS_SUBNET.yaml',
    # To start from the trained supernet instead of scratch:
    # init_cfg=dict(type='Pretrained', checkpoint='supernet.pth',
    #               prefix='architecture.'),
)

find_unused_parameters = False

# A single net: validate every epoch, keeping the best checkpoint.
train_cfg = dict(val_interval=1)
default_hooks = dict(checkpoint=dict(save_best='auto'))
# A plain validation: the subnet has no search space to sample from.
val_cfg = dict(_delete_=True)
