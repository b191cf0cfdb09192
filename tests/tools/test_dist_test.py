"""tools/dist_test.sh: two processes under torchrun (gloo on CPU) give rank 0 the single-process results."""
import json
import os
import socket
import subprocess
import sys

import pytest


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, mm):
    """The tiny digits ResNet-18 as initialised (seeded): the test compares two evaluations, not accuracy."""
    import torch

    from gml.models import build_model_from_config  # first: installs the torchvision stand-in mmcv.runner needs
    from mmcv import Config
    from mmcv.runner import save_checkpoint

    cfg = Config.fromfile(os.path.join(mm.CONFIGS, "digits", "resnet18_digits.py"))
    tiny_model = (o.split("=", 1) for o in mm.tiny_options() if o.startswith("model."))
    cfg.merge_from_dict({key: int(value) for key, value in tiny_model})  # all channel counts
    torch.manual_seed(0)
    model = build_model_from_config(cfg)
    model.init_weights()
    path = tmp_path_factory.mktemp("ckpt") / "init.pth"
    save_checkpoint(model, str(path), meta=dict(CLASSES=tuple(str(i) for i in range(10))))
    return str(path)


def _cfg_options(mm):
    return ["--cfg-options", *mm.tiny_options(), "data.test.max_samples=63"]


@pytest.mark.slow
def test_dist_test_two_processes_match_one(checkpoint, tmp_path, mm):
    config = os.path.join(mm.CONFIGS, "digits", "resnet18_digits.py")
    mm.run_tool("test.py", config, checkpoint, "--out", str(tmp_path / "one.json"), "--out-items", "class_scores",
                *_cfg_options(mm))
    env = mm.child_env(PYTHON=sys.executable, PORT=str(_free_port()))
    command = ["bash", os.path.join(mm.TOOLS, "dist_test.sh"), config, checkpoint, "2", "--out",
               str(tmp_path / "two.json"), "--out-items", "class_scores", *_cfg_options(mm)]
    proc = subprocess.run(command, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert proc.stdout.count("accuracy_top-1:") == 1  # rank 0 alone reports
    one, two = (json.loads((tmp_path / name).read_text()) for name in ("one.json", "two.json"))
    assert two["metrics"] == pytest.approx(one["metrics"], abs=1e-4)
    # 63 samples over 2 ranks: the sampler pads rank 1 with a repeated sample, which must be cut off again.
    assert len(two["class_scores"]) == len(one["class_scores"]) == 63
    for got, want in zip(two["class_scores"], one["class_scores"]):
        assert got == pytest.approx(want, abs=1e-5)


def test_in_process_work_is_single_threaded(checkpoint):
    import torch

    assert torch.get_num_threads() == 1  # tests/tools/conftest.py


def test_dist_test_usage(mm):
    proc = subprocess.run(["bash", os.path.join(mm.TOOLS, "dist_test.sh"), "config", "ckpt"], capture_output=True,
                          text=True)
    assert proc.returncode == 2 and "usage" in proc.stderr
