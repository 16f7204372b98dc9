_base_ = ['./spos_mobilenet_supernet_8xb128_in1k.py']

# Retrain one subnet of the SPOS MobileNet space alone. The yaml is an
# example (mb_k3e3 everywhere); replace it with the subnet your own search
# exported (best_fix_subnet.yaml).
model = dict(
    _delete_=True,
    type='mmrazor.sub_model',
    cfg=_base_.supernet,
    fix_subnet='{{fileDirname}}/SPOS_MOBILENET_SUBNET.yaml',
    # To start from a trained supernet instead of scratch:
    # init_cfg=dict(type='Pretrained', checkpoint='supernet.pth',
    #               prefix='architecture.'),
)

find_unused_parameters = False
