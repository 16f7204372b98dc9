_base_ = ['./spos_shufflenet_supernet_8xb128_in1k.py']

# Retrain the searched subnet alone. Replace the yaml with the subnet your
# own search exported (best_fix_subnet.yaml).
model = dict(
    _delete_=True,
    type='mmrazor.sub_model',
    cfg=_base_.supernet,
    fix_subnet='{{fileDirname}}/SPOS_SUBNET.yaml',
    # To start from a trained supernet instead of scratch:
    # init_cfg=dict(type='Pretrained', checkpoint='supernet.pth',
    #               prefix='architecture.'),
)

find_unused_parameters = False
