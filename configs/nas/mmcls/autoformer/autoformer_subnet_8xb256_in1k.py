# Evaluate (or retrain) one subnet of the Autoformer supernet as a static
# model: AUTOFORMER_SUBNET_B.yaml is MMRazor 1.0's searched subnet of the
# Autoformer-B space (54.3 M parameters; 82.47% top-1 in its model zoo).
# Replace it with the subnet your search exported.
_base_ = 'autoformer_supernet_32xb256_in1k.py'

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='sub_model',
    cfg=_base_.supernet,
    fix_subnet='{{fileDirname}}/AUTOFORMER_SUBNET_B.yaml',
    # Initialise from a trained supernet checkpoint (an algorithm's, hence
    # the prefix):
    # init_cfg=dict(type='Pretrained', checkpoint='supernet.pth',
    #               prefix='architecture.'),
)

# The supernet config holds the preprocessor; a top-level one would be
# passed to `sub_model`, which takes none.
data_preprocessor = None
find_unused_parameters = False
