"""Mutators: sample / set / dump the subnet of a searchable model."""
from .stateless import StatelessMutator, load_choice

__all__ = ["StatelessMutator", "load_choice"]
