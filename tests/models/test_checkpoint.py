"""Weights-only loading of mmcv checkpoints (PyTorch >= 2.6 default) through gml's local loader."""
import os

import numpy as np
import pytest
import torch
from mmcv.runner import load_checkpoint, save_checkpoint

from gml.models import checkpoint


def _model_and_optimizer():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(5, 3)).sum().backward()
    optimizer.step()
    return model, optimizer


def test_gml_loader_is_installed_for_local_paths():
    assert checkpoint.is_installed()


def test_mmcv_checkpoint_with_numpy_meta_round_trips(tmp_path):
    model, optimizer = _model_and_optimizer()
    path = str(tmp_path / "epoch_1.pth")
    meta = dict(epoch=1, iter=7, seed=np.int64(42), CLASSES=("0", "1"), env_info="x",
                hook_msgs=dict(best_score=np.float64(97.5), last_ckpt=path), table=np.arange(4, dtype=np.int32))
    save_checkpoint(model, path, optimizer=optimizer, meta=meta)
    with pytest.raises(Exception, match="Weights only load failed"):
        torch.load(path)  # what plain mmcv hits under PyTorch >= 2.6
    other, _ = _model_and_optimizer()
    for p in other.parameters():
        torch.nn.init.zeros_(p)
    loaded = load_checkpoint(other, path, map_location="cpu")
    assert loaded["meta"]["seed"] == 42 and loaded["meta"]["hook_msgs"]["best_score"] == 97.5
    assert (loaded["meta"]["table"] == np.arange(4)).all()
    assert loaded["optimizer"]["state"]
    for a, b in zip(model.state_dict().values(), other.state_dict().values()):
        assert torch.equal(a, b)


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch SHOULD_NOT_EXIST",))


def test_arbitrary_objects_are_refused(tmp_path):
    path = str(tmp_path / "evil.pth")
    torch.save({"state_dict": {}, "meta": {"x": _Payload()}}, path)
    with pytest.raises(RuntimeError, match="cannot load checkpoint .* safely"):
        load_checkpoint(torch.nn.Linear(1, 1), path)
    assert not os.path.exists("SHOULD_NOT_EXIST") and not (tmp_path / "SHOULD_NOT_EXIST").exists()


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(torch.nn.Linear(1, 1), str(tmp_path / "nope.pth"))
