_base_ = ['./spos_shufflenet_search_8xb128_in1k.py']

# The SPOS search with a metric predictor: 20 random subnets are evaluated
# and a Gaussian process is fitted to their scores; every later candidate is
# scored by the process instead of being evaluated, and at the end the 10
# best predicted subnets are evaluated for real (verify_top_k). The budget
# and norm_training are the original MMRazor's for this config.
model = dict(norm_training=True)

train_cfg = dict(
    constraints_range=dict(flops=(0., 360.)),
    predictor_cfg=dict(
        type='mmrazor.MetricPredictor',
        train_samples=20,
        handler_cfg=dict(type='mmrazor.GaussProcessHandler')),
    verify_top_k=10)
