# WRN-40-2 on CIFAR-10: WRN-16-2's settings, deeper and wider.
_base_ = ['wrn16-w2_b16x8_cifar10.py']
model = dict(
    backbone=dict(depth=40, widen_factor=2), head=dict(in_channels=128))
