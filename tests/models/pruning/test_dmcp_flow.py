"""DMCP's whole flow through gml's real tools on digits: supernet training (two optimizers, exact resume), the
structure export, retraining a structure from scratch, and the plain-mmcls export of both; the same flow with the
backbone named ``gml.MobileNetV2Slice``."""
import json
import os

import pytest

torch = pytest.importorskip("torch")

from gml.models.hooks.dmcp_structure import sample_structures, write_structures  # noqa: E402
from gml.models.mutators import read_structure  # noqa: E402
from gml.models.pruning.flops import flops_loss  # noqa: E402

from ._fixtures import CONFIG, RESNET, TINY, build_dmcp, run_tool  # noqa: E402

pytestmark = pytest.mark.slow


MOBILENET_V2_SLICE_CONFIG = "configs/pruning/dmcp/dmcp_mobilenetv2slice_digits.py"


def _train(work_dir, *options, resume=None, config=CONFIG):
    args = [config, "--work-dir", str(work_dir), "--seed", "3", "--no-validate", "--cfg-options", *TINY, *options]
    if resume:
        args[1:1] = ["--resume-from", str(resume)]
    return run_tool("train.py", *args)


def _export(config, checkpoint, structure, out_dir):
    proc = run_tool("export_subnet.py", str(config), str(checkpoint), str(structure), "--out-dir", str(out_dir),
                    "--eval")
    # the JSON line follows mmcls's progress bar (carriage returns, no newline) on stdout
    return json.loads(proc.stdout[proc.stdout.rindex('{"supernet_subnet"'):].splitlines()[0])


@pytest.fixture(scope="module")
def supernet(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("dmcp") / "supernet"
    _train(work_dir, "runner.max_epochs=2")
    return work_dir


def test_checkpoints_hold_both_optimizers_and_resume_continues_exactly(supernet, tmp_path):
    state = torch.load(supernet / "epoch_2.pth", map_location="cpu", weights_only=False)
    assert set(state["optimizer"]) == {"weight", "architecture"}
    assert state["optimizer"]["architecture"]["state"], "the architecture optimizer has stepped"
    assert int(state["state_dict"]["iteration"]) == 6
    assert any(float(v.abs().sum()) > 0 for k, v in state["state_dict"].items() if k.startswith("mutator.alphas"))

    _train(tmp_path, "runner.max_epochs=1")
    _train(tmp_path, "runner.max_epochs=2", resume=tmp_path / "epoch_1.pth")
    resumed = torch.load(tmp_path / "epoch_2.pth", map_location="cpu", weights_only=False)
    for key, value in state["state_dict"].items():
        assert torch.equal(value, resumed["state_dict"][key]), key
    for name in ("weight", "architecture"):
        ours, theirs = state["optimizer"][name]["state"], resumed["optimizer"][name]["state"]
        assert ours.keys() == theirs.keys()
        for index in ours:
            for key, value in ours[index].items():
                assert torch.equal(torch.as_tensor(value), torch.as_tensor(theirs[index][key])), (name, key)


def test_training_writes_structures_and_logs_them(supernet):
    sample_dir = supernet / "model_sample"
    summary = json.loads((sample_dir / "summary.json").read_text())
    assert summary["target_mflops"] == pytest.approx(3.33)
    expected = read_structure(str(sample_dir / "expected.yaml"))
    assert expected == summary["expected"]["channels"]
    for index, sample in enumerate(summary["samples"]):
        assert abs(sample["mflops"] - 3.33) <= 0.05 * 3.33
        assert read_structure(str(sample_dir / f"subnet_{index}.yaml")) == sample["channels"]
    log = open(sorted(supernet.glob("*.log"))[-1]).read()
    assert "DMCP structures written to" in log and "arch.expected_mflops" in open(
        sorted(supernet.glob("*.log.json"))[-1]).read()


def test_sampled_structures_are_within_tolerance_of_the_target(tmp_path):
    algorithm = build_dmcp(RESNET, mutator=dict(seed=1))
    mutator = algorithm.mutator
    target = algorithm.target_flops
    optimizer = torch.optim.Adam(mutator.parameters(), lr=0.05)
    for _ in range(300):  # move the chains to the target with the FLOPs loss alone
        optimizer.zero_grad()
        flops_loss(mutator.expected_flops(), target * 1.02, "l2").backward()
        optimizer.step()
    result = sample_structures(algorithm, count=5, tolerance=0.05)
    assert len(result["samples"]) == 5
    for sample in result["samples"]:
        assert abs(sample["mflops"] - target) <= 0.05 * target
        assert mutator.flops_of(sample["channels"]) == pytest.approx(sample["mflops"])
    paths = write_structures(algorithm, str(tmp_path), result)
    assert len(paths) == 6
    for path in paths:
        mutator.set_choice(mutator.load(path))


def test_retrained_structure_and_its_plain_mmcls_export_agree(supernet, tmp_path):
    structure = supernet / "model_sample" / "expected.yaml"
    retrain = tmp_path / "retrain"
    _train(retrain, "runner.max_epochs=1", "algorithm.retraining=True", f"algorithm.channel_cfg={structure}")
    state = torch.load(retrain / "epoch_1.pth", map_location="cpu", weights_only=False)
    assert not any(k.startswith("mutator.") for k in state["state_dict"])  # a plain network, no alphas
    config = retrain / os.path.basename(CONFIG)
    scores = _export(config, retrain / "epoch_1.pth", structure, tmp_path / "export")
    assert scores["exported_plain_mmcls"]["accuracy_top-1"] == scores["supernet_subnet"]["accuracy_top-1"]
    plain_cfg = (tmp_path / "export" / "subnet_config.py").read_text()
    assert "gml.PrunedBackbone" in plain_cfg and "mmcls.ImageClassifier" in plain_cfg


def _assert_expected_structure_exports_to_plain_mmcls(work_dir, config, checkpoint, out_dir):
    """The expected structure of a trained supernet exports to a plain mmcls classifier that scores as the
    supernet's subnet does (both top-k accuracies) at the FLOPs the training summary gave it."""
    structure = work_dir / "model_sample" / "expected.yaml"
    scores = _export(work_dir / os.path.basename(config), work_dir / checkpoint, structure, out_dir)
    assert scores["exported_plain_mmcls"] == {k: v for k, v in scores["supernet_subnet"].items()
                                              if k.startswith("accuracy")}
    summary = json.loads((work_dir / "model_sample" / "summary.json").read_text())
    assert scores["supernet_subnet"]["flops"] == pytest.approx(summary["expected"]["mflops"])
    return (out_dir / "subnet_config.py").read_text()


def test_a_structure_of_the_supernet_exports_to_plain_mmcls(supernet, tmp_path):
    _assert_expected_structure_exports_to_plain_mmcls(supernet, CONFIG, "epoch_2.pth", tmp_path)


def test_a_gml_mobilenet_v2_slice_supernet_trains_exports_and_retrains(tmp_path):
    work_dir = tmp_path / "supernet"
    _train(work_dir, "runner.max_epochs=1", config=MOBILENET_V2_SLICE_CONFIG)
    state = torch.load(work_dir / "epoch_1.pth", map_location="cpu", weights_only=False)
    assert int(state["state_dict"]["iteration"]) == 3 and state["optimizer"]["architecture"]["state"]
    plain_cfg = _assert_expected_structure_exports_to_plain_mmcls(work_dir, MOBILENET_V2_SLICE_CONFIG,
                                                                  "epoch_1.pth", tmp_path / "export")
    assert "gml.PrunedBackbone" in plain_cfg and "gml.MobileNetV2Slice" in plain_cfg

    structure = work_dir / "model_sample" / "expected.yaml"  # retrained from scratch, as a plain pruned network
    retrain = tmp_path / "retrain"
    _train(retrain, "runner.max_epochs=1", "algorithm.retraining=True", f"algorithm.channel_cfg={structure}",
           config=MOBILENET_V2_SLICE_CONFIG)
    scores = _export(retrain / os.path.basename(MOBILENET_V2_SLICE_CONFIG), retrain / "epoch_1.pth", structure,
                     tmp_path / "export_retrained")
    assert scores["exported_plain_mmcls"]["accuracy_top-1"] == scores["supernet_subnet"]["accuracy_top-1"]
