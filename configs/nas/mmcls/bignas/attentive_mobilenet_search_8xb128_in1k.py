# Evolution search of a trained BigNAS supernet (pass it with `load_from` or
# `--cfg-options load_from=...`) for the best subnet under 300 MFLOPs. Every
# candidate recalibrates its BN statistics first (the supernet keeps none).
_base_ = ['./attentive_mobilenet_supernet_32xb64_in1k.py']

train_dataloader = dict(batch_size=128)
val_dataloader = dict(batch_size=128)

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
    calibrate_sample_num=4096,
    # the input size is searched: the resizer inside the model sets it,
    # whatever the size of the estimator's input
    constraints_range=dict(flops=(0., 300.)),
    estimator_cfg=dict(
        type='mmrazor.ResourceEstimator', input_shape=(1, 3, 224, 224)),
    score_key='accuracy/top1')

# The search trains nothing: no checkpoints.
default_hooks = dict(
    checkpoint=dict(
        _delete_=True, type='CheckpointHook', interval=-1, save_last=False))
