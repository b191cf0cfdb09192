"""A reward attribute that no job reports (a typo, a metric logged under another name) is said at once.

Without this a search runs to its end with every job rewardless and the searcher learning nothing. The first job
that ends having run its course (SUCCEEDED, or TIMEOUT) without any value of ``searcher.reward_attribute``, while no
job of the task has reported one, triggers one loud warning on stderr: the scalars that job did report and the
nearest name among them. The warning is also kept in the task (meta ``warnings``) for ``search-ctl show``. With
``searcher.on_missing_reward: fail`` the controller ends the search there instead (status FAILED, exit 1).
"""
from __future__ import annotations

from typing import List, Optional, TextIO

from ..config.search_config import MissingRewardPolicy
from ..task.jobs import Job, JobStatus
from ..task.store import Store
from ..task.summary_files import WARNINGS_META
RAN_ITS_COURSE = (JobStatus.SUCCEEDED, JobStatus.TIMEOUT)


def nearest_name(name: str, names: List[str]) -> Optional[str]:
    """The reported name most like ``name`` (case-insensitively), if any is close."""
    import difflib      # only when a reward is missing: search-run starts without it
    lowered = {n.lower(): n for n in names}
    found = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[found[0]] if found else None


class MissingRewardCheck:
    """Watches ended jobs for a reward attribute nobody reports. ``collected``: the scalar names the task stores
    (None: every name a job reports), so the message can say what it could not see. Not thread-safe."""

    def __init__(self, store: Store, reward_name: str, policy: MissingRewardPolicy,
                 collected: Optional[List[str]], out: TextIO):
        self.store, self.reward_name, self.policy, self.collected, self.out = store, reward_name, policy, collected, out
        self.seen_reward = False
        self.warned = False

    def saw(self, job: Job) -> None:
        """Count an ended job replayed from the store (on resume) without judging it."""
        self.seen_reward = self.seen_reward or job.reward is not None or bool(
            self.store.scalars(job.id, self.reward_name))

    def job_ended(self, job: Job) -> Optional[str]:
        """Judge a job that just ended; returns the message when the search must fail (policy ``fail``)."""
        self.saw(job)
        if self.seen_reward or self.warned or job.status not in RAN_ITS_COURSE:
            return None
        self.warned = True
        message = self.describe(job)
        warnings = list(self.store.get_meta(WARNINGS_META, []) or [])
        self.store.set_meta(**{WARNINGS_META: warnings + [message]})
        self.out.write("\n" + "\n".join(f"WARNING: {line}" for line in message.splitlines()) + "\n\n")
        self.out.flush()
        return message if self.policy == MissingRewardPolicy.FAIL else None

    def describe(self, job: Job) -> str:
        reported = sorted({name for name, _, _ in self.store.scalars(job.id)})
        lines = [f"job {job.id} ended ({job.status.value}) without reporting the reward attribute "
                 f"{self.reward_name!r} (searcher.reward_attribute), and no job has reported it so far."]
        if reported:
            lines.append(f"It reported: {', '.join(reported)}.")
            near = nearest_name(self.reward_name, reported)
            if near:
                lines.append(f"Nearest name: {near!r} (searcher.reward_attribute: {near}?).")
        else:
            lines.append("It reported no scalar at all.")
        if self.collected is not None:
            lines.append(f"Only the names under `scalars:` are collected ({', '.join(self.collected)}); leave "
                         f"`scalars:` out to collect every name a job reports.")
        if self.policy == MissingRewardPolicy.FAIL:
            lines.append("searcher.on_missing_reward is 'fail': the search ends here.")
        else:
            lines.append("Jobs without the reward teach the searcher nothing; set searcher.on_missing_reward: fail "
                         "to end the search at this point instead.")
        return "\n".join(lines)
