"""Launchers run each job: ``local`` (process groups, GPU slots), ``slurm`` and ``ray``; see base.Launcher.

Importing this package registers all of them without importing ray or submitit: those load on first use.
"""
from .base import JobSpec, JobState, Launcher, LaunchError, Status
from .local import LocalLauncher
from .ray_launcher import RayLauncher
from .slurm import SlurmLauncher

__all__ = ["JobSpec", "JobState", "Launcher", "LaunchError", "Status", "LocalLauncher", "SlurmLauncher",
           "RayLauncher"]
