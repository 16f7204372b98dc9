_base_ = ['./spos_mobilenet_supernet_8xb128_in1k.py']

# Search the trained supernet (pass it with `load_from` or
# `--cfg-options load_from=...`) for the best subnet under 465 MFLOPs,
# with BN in training mode (batch statistics) during evaluation.
model = dict(norm_training=True)

train_cfg = dict(
    _delete_=True,
    type='mmrazor.EvolutionSearchLoop',
    dataloader=_base_.val_dataloader,
    evaluator=_base_.val_evaluator,
    max_epochs=20,
    num_candidates=50,
    top_k=10,
    num_mutation=25,
    num_crossover=25,
    mutate_prob=0.1,
    constraints_range=dict(flops=(0., 465.)),
    estimator_cfg=dict(
        type='mmrazor.ResourceEstimator', input_shape=(1, 3, 224, 224)),
    score_key='accuracy/top1')

# The search trains nothing: no checkpoint every epoch.
default_hooks = dict(
    checkpoint=dict(
        _delete_=True, type='CheckpointHook', interval=-1, save_last=False))
