# Copyright (c) OpenMMLab. All rights reserved.
"""The rule table of the channel tracer: op key -> rule.

Ops missing from it go to :func:`._pointwise_rules.unsupported`, which
poisons the channels of their inputs.
"""
from typing import Callable, Dict

from . import _layout_rules as layout
from . import _module_rules as modules
from . import _pointwise_rules as pointwise
from . import _slice_rules as slicing
from ._ops import Op, RuleSet
from ._tracer import ChannelTracer

_GROUPS: Dict[Callable, str] = {
    pointwise.elementwise: (
        'add sub mul div rsub true_divide floor_divide remainder fmod pow '
        'float_power maximum minimum fmax fmin atan2 arctan2 hypot lerp '
        'addcmul addcdiv where masked_fill eq ne lt le gt ge greater less '
        'equal not_equal greater_equal less_equal logical_and logical_or '
        'logical_xor logical_not and or xor bitwise_and bitwise_or '
        'bitwise_xor bitwise_not shift copysign clamp clip clamp_min '
        'clamp_max heaviside xlogy copy relu relu6 leaky_relu elu selu celu '
        'gelu silu mish sigmoid tanh hardsigmoid hardswish hardtanh softplus '
        'softsign tanhshrink threshold rrelu logsigmoid hardshrink '
        'softshrink abs absolute neg negative pos positive exp exp2 expm1 '
        'log log2 log10 log1p sqrt rsqrt square sin cos tan asin acos atan '
        'sinh cosh asinh acosh atanh floor ceil round trunc frac fix sign '
        'sgn reciprocal erf erfc erfinv logit nan_to_num isnan isinf '
        'isfinite sinc deg2rad rad2deg lgamma digamma dropout dropout1d '
        'dropout2d dropout3d alpha_dropout feature_alpha_dropout bernoulli'),
    pointwise.same_as_first: (
        'to type type_as float double half bfloat16 int long bool cpu cuda '
        'contiguous clone detach data requires_grad fill zero normal '
        'uniform random exponential pin_memory zeros_like ones_like '
        'empty_like full_like rand_like randn_like randint_like deepcopy'),
    pointwise.keep_channels: (
        'max_pool1d max_pool2d max_pool3d max_pool1d_with_indices '
        'max_pool2d_with_indices max_pool3d_with_indices avg_pool1d '
        'avg_pool2d avg_pool3d adaptive_avg_pool1d adaptive_avg_pool2d '
        'adaptive_avg_pool3d adaptive_max_pool1d adaptive_max_pool2d '
        'adaptive_max_pool3d adaptive_max_pool1d_with_indices '
        'adaptive_max_pool2d_with_indices adaptive_max_pool3d_with_indices '
        'lp_pool1d lp_pool2d lp_pool3d fractional_max_pool2d '
        'fractional_max_pool3d interpolate upsample upsample_nearest '
        'upsample_bilinear grid_sample local_response_norm'),
    pointwise.pad: 'pad',
    layout.reshape: (
        'view reshape flatten unflatten squeeze unsqueeze view_as reshape_as '
        '_unsafe_view ravel'),
    layout.permute: (
        'permute transpose swapaxes swapdims movedim moveaxis t T mT mH H '
        'numpy_T adjoint'),
    layout.expand: 'expand expand_as broadcast_to',
    layout.repeat: 'repeat tile',
    layout.repeat_interleave: 'repeat_interleave',
    slicing.cat: 'cat concat concatenate stack',
    slicing.split: (
        'split split_with_sizes chunk tensor_split unsafe_split unsafe_chunk '
        'unsafe_split_with_sizes'),
    slicing.unbind: 'unbind',
    slicing.getitem: 'getitem',
    slicing.setitem: 'setitem',
    slicing.reduce: (
        'mean sum nansum nanmean prod amax amin max min std var std_mean '
        'var_mean norm logsumexp median nanmedian mode argmax argmin all any '
        'count_nonzero kthvalue quantile nanquantile'),
    slicing.along_dim: ' '.join(slicing.DIM_OPS),
    pointwise.matmul: 'matmul mm bmm rmatmul',
    modules.conv: ('conv1d conv2d conv3d conv_transpose1d conv_transpose2d '
                   'conv_transpose3d'),
    modules.linear: 'linear',
    modules.batch_norm: 'batch_norm instance_norm',
    modules.layer_norm: 'layer_norm rms_norm',
    modules.group_norm: 'group_norm',
    modules.prelu: 'prelu',
    modules.embedding: 'embedding',
    modules.attention: ('multi_head_attention_forward '
                        '_native_multi_head_attention'),
    pointwise.leaves_torch: 'numpy tolist array',
    pointwise.ignore: 'new_zeros new_ones new_empty new_full new_tensor',
}

RULES: Dict[str, Callable[[ChannelTracer, Op], None]] = {
    name: rule
    for rule, names in _GROUPS.items() for name in names.split()
}
RULES['scaled_dot_product_attention'] = lambda tr, op: tr.poison_inputs(
    op, 'scaled dot-product attention mixes channels split into heads')

# Rules of ops that return no tensor (other such ops are skipped).
NO_OUTPUT = frozenset(('setitem', 'numpy', 'tolist', 'array'))

# Rules run even when no input carries traced channels: module ops create
# channels from anything (the first conv of a model traced by a callable).
ALWAYS = frozenset(('conv1d', 'conv2d', 'conv3d', 'conv_transpose1d',
                    'conv_transpose2d', 'conv_transpose3d', 'linear',
                    'embedding'))

DEFAULT_RULES = RuleSet(RULES, pointwise.unsupported, ALWAYS, NO_OUTPUT)
