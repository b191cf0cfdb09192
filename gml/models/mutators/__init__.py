"""Mutators: sample / set / dump the subnet of a searchable model (NAS) or the structure of a pruned one (DMCP)."""
from .stateless import StatelessMutator, load_choice  # first: the hooks imported by .dmcp read load_choice
from .dmcp import DMCPMutator, read_structure  # noqa: E402

__all__ = ["DMCPMutator", "StatelessMutator", "load_choice", "read_structure"]
