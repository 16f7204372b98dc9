# Retrain (or test) only the 530 MFLOPs subnet of the slimmable network.
_base_ = ['./autoslim_mbv2_1.5x_slimmable_subnet_8xb256_in1k.py']

model = dict(
    channel_cfg_paths='{{ fileDirname }}/MBV2_530M.yaml')
val_cfg = dict(_delete_=True)
