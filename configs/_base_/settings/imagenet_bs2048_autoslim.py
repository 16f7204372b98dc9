# ImageNet data and schedule of AutoSlim: the SPOS settings at 8 GPUs x 256.
_base_ = ['./imagenet_bs1024_spos.py']

train_dataloader = dict(batch_size=256)
val_dataloader = dict(batch_size=256)
test_dataloader = dict(batch_size=256)
