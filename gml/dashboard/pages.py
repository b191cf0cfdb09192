"""The HTML of the dashboard's pages and of the report: small shells that dashboard.js fills in.

Assets (plotly.js, dashboard.js/css) are either linked from the dashboard's ``/static/`` or inlined (the report),
never loaded from the network. Data goes into a ``<script type="application/json">`` element.
"""
from __future__ import annotations

import html
import json
import os
from functools import lru_cache
from typing import Any, Dict

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")


@lru_cache(maxsize=None)
def static_text(name: str) -> str:
    """dashboard.js / dashboard.css from this package, or plotly.js from the ``plotly`` package."""
    if name == "plotly.min.js":
        from plotly.offline import get_plotlyjs     # the bundle shipped inside the plotly wheel
        return get_plotlyjs()
    with open(os.path.join(STATIC_DIR, name), encoding="utf-8") as f:
        return f.read()


STATIC_FILES = ("plotly.min.js", "dashboard.js", "dashboard.css")


def _script_json(data: Any) -> str:
    """JSON that is safe inside a <script> element (no '</script>' can end it early)."""
    return json.dumps(data, allow_nan=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _assets(inline: bool, scripts: bool = True) -> str:
    if inline:
        out = f"<style>{static_text('dashboard.css')}</style>"
        if scripts:
            out += "".join(f"<script>{static_text(n)}</script>" for n in ("plotly.min.js", "dashboard.js"))
        return out
    out = '<link rel="stylesheet" href="/static/dashboard.css">'
    if scripts:
        out += '<script src="/static/plotly.min.js"></script><script src="/static/dashboard.js"></script>'
    return out


def _page(title: str, head: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
            f'{head}</head>'
            f"<body>{body}</body></html>\n")


def home_page(root: str) -> str:
    body = (f'<header><h1>gml searches</h1><span>{html.escape(root)}</span></header>'
            '<div id="problem" hidden></div><h2>Tasks</h2><table id="tasks"></table>'
            '<script>GML.home();</script>')
    return _page("gml searches", _assets(inline=False), body)


_TASK_BODY = """
<header><h1>{title}</h1>{nav}</header>
<div id="problem" hidden></div>
<p id="task-summary"></p>
<h2>Jobs</h2>
<div class="controls"><input id="jobs-filter" type="search" placeholder="filter: any text in a row" size="32">
<select id="jobs-status"></select>
<button id="jobs-prev">&larr; previous</button><button id="jobs-next">next &rarr;</button>
<span id="jobs-page"></span></div>
<div class="table-wrap"><table id="jobs-table"></table></div>
{log}
<div class="grid">
<section><h2>Optimization history</h2><div id="plot-history" class="plot"></div></section>
<section><h2>Learning curves (&times; = stopped early there)</h2><div id="plot-curves" class="plot"></div></section>
</div>
<section><h2>Parallel coordinates</h2><p id="parcoords-note" class="note"></p>
<div id="plot-parcoords" class="plot"></div></section>
<div class="grid">
<section><h2>Parameter importance</h2><p id="importance-method" class="note"></p>
<div id="plot-importance" class="plot"></div></section>
<section id="section-pareto" hidden><h2>Reward vs cost, with the Pareto front</h2>
<div id="plot-pareto" class="plot"></div></section>
</div>
<section><h2>Slices: the reward against each parameter</h2><div id="plot-slices"></div></section>
<script type="application/json" id="gml-data">{data}</script>
<script>GML.task({live});</script>
"""


def task_page(data: Dict[str, Any], report: bool = False) -> str:
    """The task page; ``report``: everything inlined, no server needed (logs are not part of it)."""
    name = html.escape(data["task"])
    if report:
        nav = '<span class="note">gml search report</span>'
        log = ""
    else:
        nav = '<a href="/">&larr; all tasks</a>'
        log = ('<h2 id="log-title">log of a job</h2><pre id="log-tail">click a row of the table to see the end '
               'of its log</pre>')
    body = _TASK_BODY.format(title=name, nav=nav, log=log, data=_script_json(data),
                             live="false" if report else "true")
    return _page(f"{data['task']}: gml search", _assets(inline=report), body)


def error_page(title: str, message: str) -> str:
    body = (f'<div class="error-page"><h1>{html.escape(title)}</h1><pre>{html.escape(message)}</pre>'
            '<p><a href="/">all tasks</a></p></div>')
    return _page(title, _assets(inline=False, scripts=False), body)
