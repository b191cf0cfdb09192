# dmcp_mobilenetv2_digits.py with the backbone named as gml's `gml.MobileNetV2Slice`: the same module as
# `mmcls.MobileNetV2` (same keys: widen_factor 0.5 here), pruned by DMCP the same way (same channel groups, a 1.5x
# wider supernet, the export to a plain mmcls ImageClassifier with a gml.PrunedBackbone).
#   python tools/train.py configs/pruning/dmcp/dmcp_mobilenetv2slice_digits.py --work-dir work_dirs/dmcp_mbv2slice
_base_ = ['./dmcp_mobilenetv2_digits.py']

model = dict(backbone=dict(_delete_=True, type='gml.MobileNetV2Slice', widen_factor=0.5))
algorithm = dict(model=dict(backbone=dict(type='gml.MobileNetV2Slice')))
