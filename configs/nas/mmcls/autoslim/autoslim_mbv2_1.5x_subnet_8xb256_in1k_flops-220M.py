# AutoSlim prunes channels: its configs moved to
# configs/pruning/mmcls/autoslim/. This file keeps the original MMRazor's
# path working.
_base_ = [
    '../../../pruning/mmcls/autoslim/'
    'autoslim_mbv2_1.5x_subnet_8xb256_in1k_flops-220M.py'
]
