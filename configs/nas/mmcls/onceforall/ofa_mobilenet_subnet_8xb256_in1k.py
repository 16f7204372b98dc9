# Evaluate (or fine-tune) one subnet of the Once-for-All supernet as a
# static model: OFA_SUBNET_NOTE8_LAT31.yaml is OFA's subnet for a 31 ms
# latency on a Note8 (72.8% top-1 after 25 epochs of fine-tuning in the
# OFA repository). Replace it with the subnet your search exported.
_base_ = 'ofa_mobilenet_supernet_32xb64_in1k.py'

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='sub_model',
    cfg=_base_.supernet,
    fix_subnet='{{fileDirname}}/OFA_SUBNET_NOTE8_LAT31.yaml',
    # Initialise from a trained subnet or, with init_weight_from_supernet,
    # a supernet checkpoint (an algorithm's, hence the prefix):
    # init_cfg=dict(type='Pretrained', checkpoint='supernet.pth',
    #               prefix='architecture.'),
)

# The supernet config holds the preprocessor; a top-level one would be
# passed to `sub_model`, which takes none.
data_preprocessor = None

# A static subnet: plain DDP, no schedule of the supernet.
model_wrapper_cfg = None
find_unused_parameters = False
custom_hooks = []

test_cfg = dict(evaluate_fixed_subnet=True)
