# Evaluate (or fine-tune) one subnet of the BigNAS supernet as a static
# model. Replace the yaml with the subnet your search exported
# (best_fix_subnet.yaml); ATTENTIVE_SUBNET_A0.yaml is the smallest subnet,
# AttentiveNAS-A0 (about 212 MFLOPs at 192x192). The original MMRazor's
# ATTENTIVE_SUBNET_A*.yaml files load as they are.
_base_ = ['./attentive_mobilenet_supernet_32xb64_in1k.py']

train_dataloader = dict(batch_size=256)
val_dataloader = dict(batch_size=256)
test_dataloader = dict(batch_size=256)

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='sub_model',
    cfg=_base_.supernet,
    fix_subnet='{{fileDirname}}/ATTENTIVE_SUBNET_A0.yaml',
    # Initialise from a trained supernet checkpoint (an algorithm's, hence
    # the prefix):
    # init_cfg=dict(type='Pretrained', checkpoint='supernet.pth',
    #               prefix='architecture.'),
)

# The supernet config holds the preprocessor; a top-level one would be
# passed to `sub_model`, which takes none.
data_preprocessor = None

# A static subnet: plain DDP, a plain validation after recalibrating its BN
# statistics (the supernet kept none; to fine-tune, give the BN layers a
# momentum, e.g. 0.1, in the backbone's norm_cfg).
model_wrapper_cfg = None
find_unused_parameters = False
val_cfg = dict(_delete_=True, type='mmrazor.SubnetValLoop',
               calibrate_sample_num=4096)
test_cfg = dict(_delete_=True, type='mmrazor.SubnetValLoop',
                calibrate_sample_num=4096)
default_hooks = dict(checkpoint=dict(save_best='auto'))
