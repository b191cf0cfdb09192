"""Small plain mmcls classifiers for the DMCP tests (built through the real registries)."""
import copy
import os
import subprocess
import sys

RESNET = dict(
    type="mmcls.ImageClassifier",
    backbone=dict(type="mmcls.ResNet_CIFAR", depth=18, num_stages=2, out_indices=(1,), strides=(1, 2),
                  dilations=(1, 1), stem_channels=16, base_channels=16),
    neck=dict(type="mmcls.GlobalAveragePooling"),
    head=dict(type="mmcls.LinearClsHead", num_classes=10, in_channels=32, loss=dict(type="mmcls.CrossEntropyLoss"),
              topk=(1,)))

BOTTLENECK_RESNET = dict(
    RESNET, backbone=dict(type="mmcls.ResNetV1d", depth=50, num_stages=2, out_indices=(1,), strides=(1, 2),
                          dilations=(1, 1), stem_channels=16, base_channels=8),
    head=dict(RESNET["head"], in_channels=64))

MOBILENET_V2 = dict(
    RESNET, backbone=dict(type="mmcls.MobileNetV2", widen_factor=0.5),
    head=dict(RESNET["head"], in_channels=1280))

# The same network under gml's name: DMCP must treat it exactly as mmcls's MobileNetV2.
MOBILENET_V2_SLICE = dict(MOBILENET_V2, backbone=dict(type="gml.MobileNetV2Slice", widen_factor=0.5))

INPUT_SHAPE = (3, 32, 32)


def dmcp_cfg(model=RESNET, target=None, width=None, **kwargs):
    mutator = dict(type="gml.DMCPMutator", input_shape=INPUT_SHAPE, width=width or dict(max=1.0, min=0.1, offset=0.1),
                   seed=0)
    mutator.update(kwargs.pop("mutator", {}))
    cfg = dict(type="gml.DMCP", model=copy.deepcopy(model), mutator=mutator,
               floss_cfg=dict(target_flops=target, floss_type="l1", flop_loss_weight=1.0))
    cfg.update(kwargs)
    return cfg


def flops_range(model=RESNET, width=None):
    """(min, max) MFLOPs of the supernet of ``model`` at ``width``."""
    from gml.models.mutators.dmcp import supernet_flops_range

    return supernet_flops_range(model, dict(input_shape=INPUT_SHAPE, width=width or dict(max=1.0, min=0.1,
                                                                                        offset=0.1)))


def build_dmcp(model=RESNET, target=None, **kwargs):
    """A built gml.DMCP; ``target`` defaults to the midpoint of the supernet's MFLOPs range."""
    from gml.models import build_algorithm

    if target is None:
        low, high = flops_range(model, kwargs.get("width"))
        target = (low + high) / 2
    return build_algorithm(dmcp_cfg(model, target=target, **kwargs))


# --- real child processes of gml's tools ---------------------------------------------------------------------------
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CONFIG = "configs/pruning/dmcp/dmcp_resnet_digits16.py"
# A real digits run in seconds: 96 training images (3 iterations of 32 per epoch), 64 validation images.
TINY = ["data.train.max_samples=96", "data.val.max_samples=64", "data.test.max_samples=64", "data.samples_per_gpu=32",
        "log_config.interval=1", "lr_config.warmup_iters=2", "checkpoint_config.interval=1",
        "algorithm.algorithm_cfg.arch_start_train=1", "algorithm.distill_iter=2"]


def run_tool(tool, *args, timeout=600):
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=ROOT)
    for key in ("GML_JOB_DIR", "GML_TASK", "GML_JOB_ID"):
        env.pop(key, None)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", tool), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"{tool} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc
