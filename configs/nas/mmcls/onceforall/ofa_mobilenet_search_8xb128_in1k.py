# Evolution search of a trained Once-for-All supernet (pass it with
# `load_from`) for the best subnet under 700 MFLOPs; every candidate
# recalibrates its BN statistics first. The values are the original's (a
# short search: raise max_epochs and num_candidates for a real one).
_base_ = ['./ofa_mobilenet_supernet_32xb64_in1k.py']

train_cfg = dict(
    _delete_=True,
    type='mmrazor.EvolutionSearchLoop',
    dataloader=_base_.val_dataloader,
    evaluator=_base_.val_evaluator,
    max_epochs=1,
    num_candidates=2,
    top_k=1,
    num_mutation=1,
    num_crossover=1,
    mutate_prob=0.1,
    calibrate_sample_num=4096,
    constraints_range=dict(flops=(0., 700.)),
    score_key='accuracy/top1')

# The search trains nothing: no schedule, no checkpoints.
custom_hooks = []
default_hooks = dict(
    checkpoint=dict(
        _delete_=True, type='CheckpointHook', interval=-1, save_last=False))
