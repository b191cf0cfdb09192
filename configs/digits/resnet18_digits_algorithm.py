# The same ResNet-18 run wrapped in gml's BaseAlgorithm (which trains exactly like the bare model): shows the
# `algorithm` field that gml's NAS/pruning algorithms use. tools/train.py builds cfg.algorithm when present.
_base_ = ['./resnet18_digits.py']
algorithm = dict(type='gml.BaseAlgorithm', model={{_base_.model}})
