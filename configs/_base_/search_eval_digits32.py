# The evaluator of tools/search_subnet.py and tools/export_subnet.py for supernets on digits 32x32 (FLOPs in M
# multiply-accumulates per image; BN statistics recalibrated on the training data for each subnet).
search_eval_cfg = dict(
    type='DynamicDistEvalHook',
    interval=5,
    evaluator=dict(type='NaiveEvaluator', units='M', default_shape=(1, 3, 32, 32)),
    bn_stats_calib_kwargs=dict(num_iters=-1, sync_params=True))
