"""The evaluator's former home: it lives in :mod:`gml.models.evaluation` (imported from here by older scripts)."""
from ..evaluation import NaiveEvaluator, build_evaluator, classifier_of, unwrap

__all__ = ["NaiveEvaluator", "build_evaluator", "classifier_of", "unwrap"]
