"""GmlReportHook: sends an mm job's training loss and eval metrics to gml (``gml.report``).

Put it in a config's logger hooks (or ``custom_hooks``) and the job reports to the search that launched it::

    log_config = dict(interval=10, hooks=[dict(type='TextLoggerHook'), dict(type='gml.GmlReportHook')])

``tools/train.py`` adds it by itself when it runs inside a search (``GML_JOB_DIR`` set) and the config lacks it.
Outside a search (no ``GML_JOB_DIR``) the hook does nothing. Only rank 0 reports.

What is reported, as one ``gml.report`` call per step:

- ``by_epoch=True`` (EpochBasedRunner): at the end of every epoch, ``step`` = epochs completed (1, 2, ...), the
  epoch's mean of each training log variable (``loss``, ``loss_cls``, ...), ``lr`` (first parameter group) and the
  eval metrics an EvalHook produced this epoch (``accuracy_top-1``, ``accuracy_top-5``, ...);
- ``by_epoch=False`` (IterBasedRunner): every ``interval`` iterations (and whenever an evaluation ran),
  ``step`` = iterations completed, the means since the previous report.

``aliases`` adds copies under other names; by default ``acc`` = ``accuracy_top-1`` (percent, as mmcls computes it),
the reward attribute a search config names by default.
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional

from mmcv.runner import get_dist_info
from mmcv.runner.hooks import LoggerHook

from ...reporting import in_search, report
from ..registry import HOOKS

DEFAULT_ALIASES = {"acc": "accuracy_top-1"}
#: Log-buffer entries that are bookkeeping, not metrics.
_NOT_METRICS = frozenset({"time", "data_time", "eval_iter_num", "memory"})


@HOOKS.register_module()
class GmlReportHook(LoggerHook):
    """Report training loss and eval metrics to the running gml search (see the module docs).

    Runs at the lowest logger priority, after mmcls's EvalHook has put its metrics in the runner's log buffer.
    """

    def __init__(self, interval: int = 10, by_epoch: bool = True, aliases: Optional[Mapping[str, str]] = None,
                 ignore_last: bool = True, reset_flag: bool = False):
        super().__init__(interval=interval, ignore_last=ignore_last, reset_flag=reset_flag, by_epoch=by_epoch)
        self.aliases = dict(DEFAULT_ALIASES if aliases is None else aliases)
        self._sums: Dict[str, float] = {}
        self._counts: Dict[str, int] = {}
        self._active = False
        self._seen_iter = -1  # mmcv's EvalHook may call after_train_iter twice for one iteration
        self._reported_step: Optional[int] = None
        self._reported_names: set = set()

    def before_run(self, runner) -> None:
        super().before_run(runner)
        self._active = in_search() and get_dist_info()[0] == 0

    def log(self, runner) -> None:
        """Reporting happens at epoch/interval ends (below), not on every text-log line."""

    def after_train_iter(self, runner) -> None:
        if self._active:
            if runner.iter != self._seen_iter:
                self._seen_iter = runner.iter
                self._accumulate(runner)
            if not self.by_epoch:
                step = runner.iter + 1
                if step == self._reported_step:  # called again after an evaluation: add its metrics
                    self._report_metrics(runner, step)
                elif self.every_n_iters(runner, self.interval) or self._eval_metrics(runner):
                    self._report(runner, step)
        super().after_train_iter(runner)

    def after_train_epoch(self, runner) -> None:
        if self._active and self.by_epoch:
            self._report(runner, step=runner.epoch + 1)
        super().after_train_epoch(runner)

    # --- helpers -------------------------------------------------------------------------------------------------
    def _accumulate(self, runner) -> None:
        log_vars = (getattr(runner, "outputs", None) or {}).get("log_vars", {})
        for name, value in log_vars.items():
            try:
                value = float(value)
            except (TypeError, ValueError):
                continue
            self._sums[name] = self._sums.get(name, 0.0) + value
            self._counts[name] = self._counts.get(name, 0) + 1

    def _eval_metrics(self, runner) -> Dict[str, float]:
        """Numeric log-buffer outputs that are not training variables (i.e. what an EvalHook wrote)."""
        if not runner.log_buffer.ready:
            return {}
        metrics = {}
        for name, value in runner.log_buffer.output.items():
            if name in _NOT_METRICS or name in self._sums or not self.is_scalar(value, include_torch=False):
                continue
            metrics[name] = float(value)
        return metrics

    def _with_aliases(self, values: Dict[str, float]) -> Dict[str, float]:
        for alias, source in self.aliases.items():
            if source in values:
                values[alias] = values[source]
        return values

    def _send(self, step: int, values: Dict[str, float]) -> None:
        if step != self._reported_step:
            self._reported_step, self._reported_names = step, set()
        values = {k: v for k, v in values.items() if k not in self._reported_names}
        if values:
            self._reported_names.update(values)
            report(step=step, **values)

    def _report(self, runner, step: int) -> None:
        """One line: the means since the last report, the lr and any fresh eval metrics."""
        values = {name: self._sums[name] / self._counts[name] for name in self._sums}
        lrs = runner.current_lr()
        if isinstance(lrs, dict):  # several optimizers: the first one's
            lrs = next(iter(lrs.values()), [])
        if lrs:
            values["lr"] = float(lrs[0])
        values.update(self._eval_metrics(runner))
        self._sums.clear()
        self._counts.clear()
        self._send(step, self._with_aliases(values))

    def _report_metrics(self, runner, step: int) -> None:
        """Eval metrics that arrived after this step's report (iteration-based runs)."""
        self._send(step, self._with_aliases(self._eval_metrics(runner)))
