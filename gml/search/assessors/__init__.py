"""Assessors stop poor jobs early; registered in ``gml.registry.ASSESSORS`` on import."""
from .base import Assessor, Curve, Decision

__all__ = ["Assessor", "Curve", "Decision"]
