"""Launchers run each job: ``local`` (process groups, GPU slots), ``slurm`` and ``ray``; see base.Launcher."""
from .base import JobSpec, JobState, Launcher, LaunchError, Status
from .local import LocalLauncher

__all__ = ["JobSpec", "JobState", "Launcher", "LaunchError", "Status", "LocalLauncher"]
