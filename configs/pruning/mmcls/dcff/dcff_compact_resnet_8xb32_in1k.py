# The compact ResNet-50 of dcff_resnet_8xb32_in1k.py as a plain model, for
# testing and deployment: GroupFisherDeploySubModel rebuilds it from the
# unpruned architecture and the ratios of the DCFF config. Load the fused
# weights exported by tools/pruning/get_static_model_from_algorithm.py
# (load_from, or the checkpoint argument of tools/test.py).
_base_ = ['./dcff_resnet_8xb32_in1k.py']

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='GroupFisherDeploySubModel',
    architecture=_base_.model.architecture,
    fix_subnet=_base_.target_pruning_ratio,
    parse_cfg=dict(type='ChannelAnalyzer', demo_input=(1, 3, 224, 224)),
)

val_cfg = dict(_delete_=True)
