# WRN-16-2 trained alone on CIFAR-10 (batch 16 x 8 GPUs).
_base_ = [
    'mmcls::_base_/datasets/cifar10_bs16.py',
    '../../../_base_/vanilla_models/wrn16_2_cifar10.py',
    'mmcls::_base_/schedules/cifar10_bs128.py',
    'mmcls::_base_/default_runtime.py',
]
test_evaluator = dict(topk=(1, 5))
