"""train_model refuses optimizer_config / fp16 for algorithms that step the optimizer themselves (gml.BigNAS)."""
import os

import pytest
from mmcv import Config

from gml.errors import GmlConfigError
from gml.models import build_model_from_config
from gml.models.training import check_optimizer_config, train_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIGNAS = os.path.join(ROOT, "configs", "nas", "bignas", "bignas_resnet_digits.py")
R18_ALGO = os.path.join(ROOT, "configs", "digits", "resnet18_digits_algorithm.py")


@pytest.fixture(scope="module")
def bignas():
    cfg = Config.fromfile(BIGNAS)
    return cfg, build_model_from_config(cfg)


def test_bignas_says_it_steps_the_optimizer(bignas):
    cfg, model = bignas
    assert type(model).__name__ == "BigNAS" and model.steps_optimizer
    assert cfg.optimizer_config is None
    check_optimizer_config(model, cfg)  # the shipped config is accepted


def test_train_model_names_optimizer_config(bignas, tmp_path):
    cfg, model = bignas
    cfg = Config(dict(cfg._cfg_dict.to_dict(), work_dir=str(tmp_path), device="cpu"))
    cfg.optimizer_config = dict(grad_clip=None)  # what a plain mmcls config would carry
    with pytest.raises(GmlConfigError, match=r"optimizer_config.*BigNAS steps the optimizer itself") as err:
        train_model(model, [], cfg)  # refused before any loader, runner or hook is built
    assert err.value.path == "optimizer_config"


def test_fp16_is_refused_too(bignas):
    cfg, model = bignas
    cfg = Config(dict(cfg._cfg_dict.to_dict(), fp16=dict(loss_scale=512.0)))
    with pytest.raises(GmlConfigError, match=r"fp16") as err:
        check_optimizer_config(model, cfg)
    assert err.value.path == "fp16"


def test_algorithms_driven_by_the_optimizer_hook_keep_optimizer_config():
    cfg = Config.fromfile(R18_ALGO)
    model = build_model_from_config(cfg)
    assert cfg.optimizer_config is not None and not model.steps_optimizer
    check_optimizer_config(model, cfg)
