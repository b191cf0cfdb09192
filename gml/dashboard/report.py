"""``search-ctl report``: one self-contained HTML file with the task page's plots (plotly.js, the page's script
and the data inlined), which opens offline. It is the task page at the time of writing, without the live updates
and without the jobs' logs."""
from __future__ import annotations

import os

from .extras import require
from .pages import task_page
from .task_data import task_data, task_importance


def write_report(root: str, name: str, out: str) -> int:
    """Write the report to ``out``; returns its size in bytes."""
    require("plotly", "search-ctl report")
    data = task_data(root, name)
    data["importance"] = task_importance(root, name)
    text = task_page(data, report=True)
    tmp = f"{out}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, out)
    return len(text.encode("utf-8"))
