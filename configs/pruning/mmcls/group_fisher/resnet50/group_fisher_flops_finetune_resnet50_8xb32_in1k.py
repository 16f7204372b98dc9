# Fine-tuning of the resnet50 pruned by
# group_fisher_flops_prune_resnet50_8xb32_in1k.py: GroupFisherSubModel builds
# the pruning algorithm, loads `pruned_path` (a checkpoint of the prune run,
# which holds the structure) and trains the exported static model at
# `finetune_lr`.
_base_ = './group_fisher_flops_prune_resnet50_8xb32_in1k.py'
pruned_path = 'work_dirs/group_fisher_flops_prune_resnet50_8xb32_in1k/epoch_100.pth'  # noqa: E501
finetune_lr = 0.1

algorithm = _base_.model
algorithm.init_cfg = dict(type='Pretrained', checkpoint=pruned_path)

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='GroupFisherSubModel',
    algorithm=algorithm,
)

optim_wrapper = dict(optimizer=dict(lr=finetune_lr))

# a plain model now: no pruning wrapper, the usual validation
model_wrapper_cfg = None
val_cfg = dict(_delete_=True)
