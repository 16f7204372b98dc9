# Retrain one subnet of the digits SPOS supernet alone, from scratch.
_base_ = ['./spos_shufflenet_supernet_digits.py']

# The subnet to retrain: replace the yaml with the one your search exported
# (best_fix_subnet.yaml). The default is the all-shuffle_3x3 subnet.
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
