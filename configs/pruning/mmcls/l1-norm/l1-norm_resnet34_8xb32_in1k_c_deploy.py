# The pruned ResNet-34 of l1-norm_resnet34_8xb32_in1k_c.py as a plain
# model, for testing and deployment: GroupFisherDeploySubModel rebuilds it
# from the unpruned architecture and the structure (the ratios of the prune
# config). Load the weights exported by
# tools/pruning/get_static_model_from_algorithm.py (load_from, or the
# checkpoint argument of tools/test.py).
# divisor=1: the counts must be those the weights were exported with.
_base_ = ['./l1-norm_resnet34_8xb32_in1k_c.py']

fix_subnet = _base_.target_pruning_ratio
divisor = 1

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='GroupFisherDeploySubModel',
    architecture=_base_.model.architecture,
    fix_subnet=fix_subnet,
    divisor=divisor,
    parse_cfg=dict(type='ChannelAnalyzer', demo_input=(1, 3, 224, 224)),
)

val_cfg = dict(_delete_=True)
