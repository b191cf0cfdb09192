"""The controller of a task: :class:`Launching` (searcher -> submitted jobs), :class:`Watching` (running jobs ->
recorded results) and the :class:`Controller` loop that ties them, recovers a task and resumes it."""
from .clock import SYSTEM_CLOCK, Clock
from .controller import Controller
from .launching import Launching, job_spec
from .watching import Watching, log_tail

__all__ = ["Clock", "SYSTEM_CLOCK", "Controller", "Launching", "Watching", "job_spec", "log_tail"]
