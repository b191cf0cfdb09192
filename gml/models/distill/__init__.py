"""Knowledge distillation parts: recorders, connectors, losses, heads, the teacher distiller, MEAL V2, hooks.

The algorithms that use them (``gml.TeacherStudentDistillation``, ``gml.ABTeacherStudentDistillation``) live in
``gml/models/algorithms/distill.py``; importing this package registers every part in gml's MODELS.
"""
from .config import build_part, check_keys
from .connectors import ConvBNConnector, LinearConnector, Paraphraser, PretrainableConnector, Translator
from .distiller import TeacherCheckpointWarning, TeacherDistiller, TeacherOutput, classifier_logits
from .head import BaseDistillationHead
from .hooks import STUDENT_CHECKPOINT, ConnectorPretrainHook, StudentCheckpointHook, TrainingEpochHook
from .losses import (ActivationBoundaryLoss, AttentionTransferLoss, DistillLoss, FactorTransferLoss, FeatureMSELoss,
                     KLDivergenceLoss, RKDLoss, soft_label_kl)
from .meal import MealV2Loss
from .pretrain import pretrain_connectors
from .recorder import ModuleRecorder, find_module

__all__ = ["build_part", "check_keys", "ConvBNConnector", "LinearConnector", "Paraphraser", "PretrainableConnector",
           "Translator", "TeacherCheckpointWarning", "TeacherDistiller", "TeacherOutput", "classifier_logits",
           "BaseDistillationHead", "STUDENT_CHECKPOINT", "ConnectorPretrainHook", "StudentCheckpointHook",
           "TrainingEpochHook", "ActivationBoundaryLoss", "AttentionTransferLoss", "DistillLoss",
           "FactorTransferLoss", "FeatureMSELoss", "KLDivergenceLoss", "RKDLoss", "soft_label_kl", "MealV2Loss",
           "pretrain_connectors", "ModuleRecorder", "find_module"]
