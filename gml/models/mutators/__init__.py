"""Mutators: sample / set / dump the subnet of a searchable model (NAS) or the structure of a pruned one (DMCP)."""
from .dmcp import DMCPMutator, read_structure
from .stateless import StatelessMutator, load_choice

__all__ = ["DMCPMutator", "StatelessMutator", "load_choice", "read_structure"]
