"""``gml.MobileNetV2Slice`` outside DMCP: mmcls's MobileNetV2 under gml's name (the same module, trained by a plain
config), with bad keys refused as GmlConfigError naming the key."""
import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from gml.errors import GmlConfigError  # noqa: E402
from gml.models import build_model  # noqa: E402

from ._fixtures import MOBILENET_V2, MOBILENET_V2_SLICE, ROOT, TINY, run_tool  # noqa: E402

PLAIN_CONFIG = "configs/digits/mobilenet_v2_digits.py"


def test_it_builds_mmcls_mobilenet_v2_with_the_same_weights_and_outputs():
    torch.manual_seed(0)
    plain = build_model(MOBILENET_V2)
    plain.init_weights()
    torch.manual_seed(0)
    ours = build_model(MOBILENET_V2_SLICE)
    ours.init_weights()
    from mmcls.models.backbones import MobileNetV2

    assert isinstance(ours.backbone, MobileNetV2) and type(ours.backbone).__name__ == "MobileNetV2Slice"
    theirs = plain.state_dict()
    assert list(ours.state_dict()) == list(theirs)
    assert all(torch.equal(value, theirs[key]) for key, value in ours.state_dict().items())
    img = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(ours.eval().simple_test(img, post_process=False),
                           plain.eval().simple_test(img, post_process=False))


@pytest.mark.parametrize("kwargs, message", [
    (dict(widen=0.5), "backbone.widen: unknown key for MobileNetV2; valid: widen_factor, out_indices, frozen_stages, "
                      "conv_cfg, norm_cfg, act_cfg, norm_eval, with_cp, init_cfg"),
    (dict(widen_factor="0.5"), "backbone.widen_factor: expected a number > 0, got '0.5'"),
    (dict(out_indices=(7, 8)), "backbone.out_indices[1]: expected an integer in [0, 7], got 8"),
    (dict(out_indices=7), "backbone.out_indices: expected a non-empty list of stage indices in [0, 7], got 7"),
    (dict(frozen_stages=8), "backbone.frozen_stages: expected an integer in [-1, 7], got 8"),
    (dict(norm_eval="yes"), "backbone.norm_eval: expected true or false, got 'yes'"),
    (dict(act_cfg="ReLU"), "backbone.act_cfg: expected a mapping, got 'ReLU'"),
])
def test_bad_keys_are_config_errors_naming_the_key(kwargs, message):
    with pytest.raises(GmlConfigError) as err:
        build_model(dict(type="gml.MobileNetV2Slice", **kwargs))
    assert str(err.value) == message


def test_a_plain_config_with_it_trains_and_validates(tmp_path):
    options = ["model.backbone.type=gml.MobileNetV2Slice", "model.backbone.widen_factor=0.5", "runner.max_epochs=1",
               "evaluation.interval=1", *(o for o in TINY if not o.startswith("algorithm."))]
    run_tool("train.py", PLAIN_CONFIG, "--work-dir", str(tmp_path), "--seed", "0", "--cfg-options", *options)
    state = torch.load(tmp_path / "epoch_1.pth", map_location="cpu", weights_only=False)
    assert state["state_dict"]["backbone.conv2.conv.weight"].shape[0] == 1280  # the full-width network
    assert not any(key.startswith("mutator.") for key in state["state_dict"])
    assert "accuracy_top-1" in open(sorted(tmp_path.glob("*.log.json"))[-1]).read()


def test_a_bad_key_in_a_real_train_process_exits_2_without_a_traceback(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "train.py"), PLAIN_CONFIG, "--work-dir",
                           str(tmp_path), "--cfg-options", "model.backbone.type=gml.MobileNetV2Slice",
                           "model.backbone.frozen_stages=9"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "backbone.frozen_stages: expected an integer in [-1, 7], got 9" in proc.stderr
    assert "Traceback" not in proc.stderr
