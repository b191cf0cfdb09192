"""Small mmcls classifiers (tests/models/_classifiers.py) and their QAT configs for the quantization tests, reached
by test modules through the fixtures below (test modules do not import this file)."""
import functools
import types

import pytest

from .._classifiers import MOBILENET_V2_QUARTER as MOBILENET_V2, RESNET18_W8 as RESNET18

#: A narrow ResNet_CIFAR-50 (Bottlenecks).
RESNET50 = dict(RESNET18, backbone=dict(RESNET18['backbone'], depth=50), head=dict(RESNET18['head'], in_channels=256))


def resnet18_fuse_config():
    fuse = {'backbone': ['conv1', 'bn1', 'relu']}
    for stage in range(1, 5):
        for block in range(2):
            fuse[f'backbone.layer{stage}.{block}'] = [['conv1', 'bn1', 'relu'], ['conv2', 'bn2']]
    for stage in range(2, 5):
        fuse[f'backbone.layer{stage}.0.downsample'] = ['0', '1']
    return fuse


def resnet50_fuse_config():
    fuse = {'backbone': ['conv1', 'bn1', 'relu']}
    for stage, blocks in enumerate((3, 4, 6, 3), start=1):
        for block in range(blocks):
            fuse[f'backbone.layer{stage}.{block}'] = [['conv1', 'bn1', 'relu'], ['conv2', 'bn2', 'relu2'],
                                                      ['conv3', 'bn3']]
        fuse[f'backbone.layer{stage}.0.downsample'] = ['0', '1']
    return fuse


def mobilenet_v2_fuse_config():
    fuse = {'backbone.conv1': ['conv', 'bn'], 'backbone.conv2': ['conv', 'bn']}
    for stage, blocks in enumerate((1, 2, 3, 4, 3, 3, 1)):
        for block in range(blocks):
            for conv in range(2 if stage == 0 else 3):
                fuse[f'backbone.layer{stage + 1}.{block}.conv.{conv}'] = ['conv', 'bn']
    return fuse


MODELS = {'resnet18': (RESNET18, resnet18_fuse_config), 'resnet50': (RESNET50, resnet50_fuse_config),
          'mobilenet_v2': (MOBILENET_V2, mobilenet_v2_fuse_config)}


def qat_config(model='resnet18', backend='fbgemm', **quantizer):
    model_cfg, fuse = MODELS[model]
    quantizer = dict(dict(type='gml.TorchDefaultQuantizer', backend=backend, input_layer='backbone',
                          output_layer='neck', fuse_config=fuse()), **quantizer)
    return dict(type='gml.QuantizationAwareTraining', model=model_cfg, quantizer=quantizer)


def digits_batch(n=32, split='train'):
    img, label = _digits_batch(n, split)
    return img.clone(), label.clone()


@functools.lru_cache(maxsize=None)
def _digits_batch(n, split):
    """``n`` real digits images of ``split`` (32x32, 3 channels, normalised as configs/_base_ does, through gml's
    DigitsDataset and mmcls's pipeline) and their labels."""
    import torch
    from mmcls.datasets import build_dataset

    norm = dict(mean=[77.8] * 3, std=[82.4] * 3, to_rgb=False)
    pipeline = [dict(type='Normalize', **norm), dict(type='ImageToTensor', keys=['img']),
                dict(type='ToTensor', keys=['gt_label']), dict(type='Collect', keys=['img', 'gt_label'])]
    dataset = build_dataset(dict(type='gml.DigitsDataset', split=split, image_size=32, channels=3, max_samples=n,
                                 pipeline=pipeline))
    items = [dataset[i] for i in range(len(dataset))]
    return torch.stack([it['img'] for it in items]), torch.stack([it['gt_label'] for it in items])


def train_steps(algorithm, steps=4, lr=0.01):
    """A few SGD steps of ``algorithm`` on real digits (observers and fake-quant see real activations)."""
    import torch

    img, label = digits_batch()
    optimizer = torch.optim.SGD(algorithm.parameters(), lr=lr, momentum=0.9)
    algorithm.train()
    for _ in range(steps):
        loss, _ = algorithm.parse_losses(algorithm(img, gt_label=label))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return algorithm


@pytest.fixture(scope='session')
def qat():
    return types.SimpleNamespace(qat_config=qat_config, digits_batch=digits_batch, train_steps=train_steps,
                                 MODELS=MODELS)
