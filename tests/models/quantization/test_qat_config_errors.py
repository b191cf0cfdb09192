"""Bad ``algorithm.quantizer`` input: one GmlConfigError naming the key path, the value and what was expected."""
import pytest

from gml.errors import GmlConfigError
from gml.models import build_algorithm
from gml.models.quantization import supported_backends


def _error(cfg) -> str:
    with pytest.raises(GmlConfigError) as info:
        build_algorithm(cfg)
    return str(info.value)


def test_unsupported_backend_lists_the_supported_engines(qat):
    message = _error(qat.qat_config(backend="tensorrt"))
    assert "algorithm.quantizer.backend" in message and "'tensorrt'" in message
    assert all(engine in message for engine in supported_backends())


def test_unknown_quantizer_key(qat):
    message = _error(qat.qat_config(fuse_cfg={}))
    assert "algorithm.quantizer.fuse_cfg" in message and "fuse_config" in message


def test_unknown_quantizer_type(qat):
    cfg = qat.qat_config()
    cfg["quantizer"]["type"] = "gml.NoSuchQuantizer"
    assert "algorithm.quantizer.type" in _error(cfg) and "gml.TorchDefaultQuantizer" in _error(cfg)


def test_wrong_module_name_in_fuse_config_names_close_ones(qat):
    fuse = {"backbone.layer1.0": [["conv1", "bn_1", "relu"]]}
    message = _error(qat.qat_config(fuse_config=fuse))
    assert "algorithm.quantizer.fuse_config.backbone.layer1.0" in message and "'bn_1'" in message
    assert "bn1" in message
    message = _error(qat.qat_config(fuse_config={"backbone.layer9": ["conv1", "bn1"]}))
    assert "algorithm.quantizer.fuse_config.backbone.layer9" in message


def test_unfusable_group(qat):
    message = _error(qat.qat_config(fuse_config={"backbone": ["bn1", "conv1"]}))
    assert "algorithm.quantizer.fuse_config.backbone" in message and "BatchNorm2d + Conv2d" in message


def test_malformed_fuse_config(qat):
    assert "algorithm.quantizer.fuse_config.backbone" in _error(qat.qat_config(fuse_config={"backbone": "conv1"}))
    assert "algorithm.quantizer.fuse_config" in _error(qat.qat_config(fuse_config=["conv1"]))


def test_wrong_input_and_output_layers(qat):
    assert "algorithm.quantizer.input_layer" in _error(qat.qat_config(input_layer="backbone.stem"))
    message = _error(qat.qat_config(input_layer="neck", output_layer="backbone"))
    assert "algorithm.quantizer.output_layer" in message and "before" in message


@pytest.mark.parametrize("custom, path", [
    (dict(activations={}), "algorithm.quantizer.custom_qconfig.activations"),
    (dict(weight=dict(bits=4)), "algorithm.quantizer.custom_qconfig.weight.bits"),
    (dict(weight=dict(qscheme="per_channel")), "algorithm.quantizer.custom_qconfig.weight.qscheme"),
    (dict(activation=dict(observer="MovingAverageMinMaxObserver", qscheme="per_channel_affine")),
     "algorithm.quantizer.custom_qconfig.activation"),
])
def test_bad_custom_qconfig(qat, custom, path):
    assert path in _error(qat.qat_config(custom_qconfig=custom))


def test_converted_must_be_a_bool(qat):
    assert "algorithm.converted" in _error(dict(qat.qat_config(), converted="yes"))


def test_unknown_algorithm_key(qat):
    message = _error(dict(qat.qat_config(), quantiser={}))
    assert "algorithm.quantiser" in message and "quantizer" in message


@pytest.mark.parametrize("change, message", [
    (dict(custom_qconfig=dict(weight=dict(reduce_range="yes"))),
     "algorithm.quantizer.custom_qconfig.weight.reduce_range: expected true or false, got 'yes'"),
    (dict(custom_qconfig=dict(activation=dict(quant_min=True))),
     "algorithm.quantizer.custom_qconfig.activation.quant_min: expected an integer, got True"),
    (dict(custom_qconfig=dict(activation=dict(averaging_constant=2))),
     "algorithm.quantizer.custom_qconfig.activation.averaging_constant: expected a number > 0 and <= 1, got 2"),
    (dict(custom_qconfig=dict(weight=dict(dtype="int4"))),
     "algorithm.quantizer.custom_qconfig.weight.dtype: expected one of quint8, qint8, got 'int4'"),
    (dict(input_layer=""), "algorithm.quantizer.input_layer: expected a module name such as 'backbone', got ''"),
])
def test_bad_values_read_expected_got(qat, change, message):
    assert _error(qat.qat_config(**change)) == message


def test_converted_message(qat):
    assert _error(dict(qat.qat_config(), converted="yes")) == "algorithm.converted: expected true or false, got 'yes'"
