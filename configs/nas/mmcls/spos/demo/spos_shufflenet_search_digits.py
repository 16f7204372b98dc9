# Evolution search of the digits supernet under a FLOPs budget. Pass the
# trained supernet with `load_from` (tools/demo.py does).
_base_ = ['./spos_shufflenet_supernet_digits.py']

# Random subnets of this space cost 1.50 to 1.87 MFLOPs at 32x32 (median
# 1.66); the budget keeps about the cheapest third.
train_cfg = dict(
    _delete_=True,
    type='mmrazor.EvolutionSearchLoop',
    dataloader=_base_.val_dataloader,
    evaluator=_base_.val_evaluator,
    max_epochs=5,
    num_candidates=20,
    top_k=5,
    num_mutation=10,
    num_crossover=10,
    mutate_prob=0.2,
    calibrate_sample_num=640,
    constraints_range=dict(flops=(0., 1.6)),
    estimator_cfg=dict(
        type='mmrazor.ResourceEstimator', input_shape=(1, 3, 32, 32)),
    score_key='accuracy/top1')

# The search trains nothing: no checkpoints.
default_hooks = dict(
    checkpoint=dict(_delete_=True, type='CheckpointHook', interval=-1))
