# L1-norm pruning of ResNet-34, variant C: only the stage-3 shortcut unit,
# to 0.8. The units tied to a shortcut are pruned with one shared decision
# here, where the paper prunes those layers separately.
# Published (original MMRazor): 73.89 top-1, 3.40 GFLOPs.
_base_ = ['./l1-norm_resnet34_8xb32_in1k_a.py']

un_prune = 1.0

target_pruning_ratio = {
    # stage 1
    'backbone.conv1_(0, 64)_64': un_prune,  # shortcut
    'backbone.layer1.0.conv1_(0, 64)_64': un_prune,
    'backbone.layer1.1.conv1_(0, 64)_64': un_prune,
    'backbone.layer1.2.conv1_(0, 64)_64': un_prune,
    # stage 2
    'backbone.layer2.0.conv1_(0, 128)_128': un_prune,
    'backbone.layer2.0.conv2_(0, 128)_128': un_prune,  # shortcut
    'backbone.layer2.1.conv1_(0, 128)_128': un_prune,
    'backbone.layer2.2.conv1_(0, 128)_128': un_prune,
    'backbone.layer2.3.conv1_(0, 128)_128': un_prune,
    # stage 3
    'backbone.layer3.0.conv1_(0, 256)_256': un_prune,
    'backbone.layer3.0.conv2_(0, 256)_256': 0.8,  # shortcut
    'backbone.layer3.1.conv1_(0, 256)_256': un_prune,
    'backbone.layer3.2.conv1_(0, 256)_256': un_prune,
    'backbone.layer3.3.conv1_(0, 256)_256': un_prune,
    'backbone.layer3.4.conv1_(0, 256)_256': un_prune,
    'backbone.layer3.5.conv1_(0, 256)_256': un_prune,
    # stage 4
    'backbone.layer4.0.conv1_(0, 512)_512': un_prune,
    'backbone.layer4.0.conv2_(0, 512)_512': un_prune,  # shortcut
    'backbone.layer4.1.conv1_(0, 512)_512': un_prune,
    'backbone.layer4.2.conv1_(0, 512)_512': un_prune,
}

model = dict(target_pruning_ratio=target_pruning_ratio)
