checkpoint_config = dict(interval=1, max_keep_ckpts=3)
log_config = dict(interval=10, hooks=[dict(type='TextLoggerHook')])
# Inside a gml search tools/train.py adds dict(type='gml.GmlReportHook') to log_config.hooks by itself.
dist_params = dict(backend=None)  # None: nccl with CUDA, gloo on CPU
log_level = 'INFO'
load_from = None
resume_from = None
workflow = [('train', 1)]
