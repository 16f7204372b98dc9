# Evolution search of the digits supernet under a FLOPs budget. Pass the
# trained supernet with `load_from` (tools/demo.py does).
_base_ = ['./spos_shufflenet_supernet_digits.py']

# The demo space has one choice per layer (3 search groups, 64 subnets),
# costing 1.545 to 1.803 MFLOPs at 32x32 (median 1.65); a 1.62 MFLOPs budget
# keeps 18 of them. Three generations of 8 evaluate most of those.
train_cfg = dict(
    _delete_=True,
    type='mmrazor.EvolutionSearchLoop',
    dataloader=_base_.val_dataloader,
    evaluator=_base_.val_evaluator,
    max_epochs=3,
    num_candidates=8,
    top_k=3,
    num_mutation=4,
    num_crossover=4,
    mutate_prob=0.4,
    calibrate_sample_num=640,
    constraints_range=dict(flops=(0., 1.62)),
    estimator_cfg=dict(
        type='mmrazor.ResourceEstimator', input_shape=(1, 3, 32, 32)),
    score_key='accuracy/top1')

# The search trains nothing: no checkpoints.
default_hooks = dict(
    checkpoint=dict(
        _delete_=True, type='CheckpointHook', interval=-1, save_last=False))
