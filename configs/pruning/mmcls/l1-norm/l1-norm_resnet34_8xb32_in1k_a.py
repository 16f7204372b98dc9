# L1-norm filter pruning (Li et al., "Pruning Filters for Efficient
# ConvNets", ICLR 2017) of the mmcls ImageNet ResNet-34, variant A.
#
# ItePruneAlgorithm prunes each unit named below (units found by the
# ChannelAnalyzer; dump them with mutator.config_template()) to the filters
# of largest L1 norm before the first iteration (step_freq=1, prune_times=1),
# then the run fine-tunes the pruned network for the whole schedule of the
# base config. Units tied to the shortcuts are kept whole. ItePruneValLoop
# reports FLOPs and params and writes fix_subnet.json and
# fix_subnet_weight.pth into the work dir at each validation.
# Published (original MMRazor): 73.61 top-1 (73.62 unpruned), 3.10 GFLOPs
# (3.68 unpruned).
_base_ = ['mmcls::resnet/resnet34_8xb32_in1k.py']

un_prune = 1.0
stage_ratio_1 = 0.7
stage_ratio_2 = 0.7
stage_ratio_3 = 0.7
stage_ratio_4 = un_prune

target_pruning_ratio = {
    # stage 1
    'backbone.conv1_(0, 64)_64': un_prune,  # shortcut
    'backbone.layer1.0.conv1_(0, 64)_64': stage_ratio_1,
    'backbone.layer1.1.conv1_(0, 64)_64': stage_ratio_1,
    'backbone.layer1.2.conv1_(0, 64)_64': un_prune,
    # stage 2
    'backbone.layer2.0.conv1_(0, 128)_128': un_prune,
    'backbone.layer2.0.conv2_(0, 128)_128': un_prune,  # shortcut
    'backbone.layer2.1.conv1_(0, 128)_128': stage_ratio_2,
    'backbone.layer2.2.conv1_(0, 128)_128': stage_ratio_2,
    'backbone.layer2.3.conv1_(0, 128)_128': un_prune,
    # stage 3
    'backbone.layer3.0.conv1_(0, 256)_256': un_prune,
    'backbone.layer3.0.conv2_(0, 256)_256': un_prune,  # shortcut
    'backbone.layer3.1.conv1_(0, 256)_256': stage_ratio_3,
    'backbone.layer3.2.conv1_(0, 256)_256': stage_ratio_3,
    'backbone.layer3.3.conv1_(0, 256)_256': stage_ratio_3,
    'backbone.layer3.4.conv1_(0, 256)_256': stage_ratio_3,
    'backbone.layer3.5.conv1_(0, 256)_256': un_prune,
    # stage 4
    'backbone.layer4.0.conv1_(0, 512)_512': stage_ratio_4,
    'backbone.layer4.0.conv2_(0, 512)_512': un_prune,  # shortcut
    'backbone.layer4.1.conv1_(0, 512)_512': stage_ratio_4,
    'backbone.layer4.2.conv1_(0, 512)_512': stage_ratio_4,
}

architecture = _base_.model
architecture['_scope_'] = 'mmcls'
architecture.init_cfg = dict(
    type='Pretrained',
    checkpoint='https://download.openmmlab.com/mmclassification/v0/resnet/'
    'resnet34_8xb32_in1k_20210831-f257d4e6.pth')

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='ItePruneAlgorithm',
    architecture=architecture,
    mutator_cfg=dict(
        type='ChannelMutator',
        channel_unit_cfg=dict(
            type='L1MutableChannelUnit',
            default_args=dict(choice_mode='ratio')),
        parse_cfg=dict(type='ChannelAnalyzer', demo_input=(1, 3, 224, 224))),
    target_pruning_ratio=target_pruning_ratio,
    step_freq=1,
    prune_times=1,
)

val_cfg = dict(type='mmrazor.ItePruneValLoop')
