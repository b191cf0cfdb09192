"""Assessors stop poor jobs early; registered in ``gml.registry.ASSESSORS`` on import."""
from .asha import ASHAAssessor
from .base import Assessor, Curve, Decision
from .curve_fitting import CurveFittingAssessor
from .guard_band import GuardBandAssessor
from .median import MedianStopAssessor
from .top_k_guard import TopKGuardAssessor

__all__ = ["Assessor", "Curve", "Decision", "MedianStopAssessor", "CurveFittingAssessor", "ASHAAssessor",
           "TopKGuardAssessor", "GuardBandAssessor"]
