"""Runner hooks a distillation algorithm adds to its run (through ``BaseAlgorithm.runner_hooks``; they hold the
algorithm, so they are not config hooks).

- :class:`ConnectorPretrainHook` - before the first training epoch of a fresh run (not a resumed one), pretrain the
  connectors that have ``pretrain_criterion`` on the runner's training loader.
- :class:`TrainingEpochHook` - tells the algorithm the current epoch (activation-boundary transfer switches phase).
- :class:`StudentCheckpointHook` - after each epoch (rank 0) writes ``student_latest.pth`` in the work dir: the
  student's weights only, under the bare model's keys (``backbone.*``, ``head.*``), with the run's meta. It loads
  into the plain student config (``mmcls.ImageClassifier``) with mmcv's strict loader, no gml needed.
"""
from __future__ import annotations

import os.path as osp

import torch
from mmcv.runner import Hook, get_dist_info
from mmcv.runner.checkpoint import weights_to_cpu

from .pretrain import pretrain_connectors

STUDENT_CHECKPOINT = "student_latest.pth"


class _AlgorithmHook(Hook):
    def __init__(self, algorithm):
        self.algorithm = algorithm


class ConnectorPretrainHook(_AlgorithmHook):
    def before_train_epoch(self, runner) -> None:
        algorithm = self.algorithm
        if algorithm.connectors_pretrained:
            return
        algorithm.connectors_pretrained = True
        if runner.epoch > 0:  # resumed: the connectors come from the checkpoint
            return
        pretrain_connectors(algorithm.distiller, algorithm.model, runner.data_loader,
                            algorithm.connector_pretrain, runner.logger)


class TrainingEpochHook(_AlgorithmHook):
    def before_train_epoch(self, runner) -> None:
        self.algorithm.epoch = runner.epoch


class StudentCheckpointHook(_AlgorithmHook):
    def after_train_epoch(self, runner) -> None:
        if get_dist_info()[0] != 0:
            return
        meta = dict(runner.meta or {}, epoch=runner.epoch + 1, iter=runner.iter, CLASSES=self.algorithm.CLASSES)
        torch.save(dict(meta=meta, state_dict=weights_to_cpu(self.algorithm.model.state_dict())),
                   osp.join(runner.work_dir, STUDENT_CHECKPOINT))
