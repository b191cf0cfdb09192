"""Task page load with many jobs: gml's dashboard against Optuna's own plotly figures of the same jobs, in the same
headless browser (Debian's chromium driven by Playwright), in one run.

    .venv/bin/python benchmarks/dashboard_load.py                # 10,000 jobs x 10 steps
    .venv/bin/python benchmarks/dashboard_load.py --jobs 2000    # a quick look

The task is synthetic, written through gml's Store API (three params, a reward curve and a cost scalar per job,
a quarter of the jobs stopped early). gml: ``search-ctl dashboard`` is started, the task page opened and timed
from navigation to every plot drawn (the jobs table, history, curves of all jobs, parallel coordinates, slices,
Pareto front); parameter importance is fetched by the page afterwards and timed on its own. Peer: the same jobs as
an in-memory Optuna study (the trials ``search-ctl export --optuna`` writes), its figures made by
``optuna.visualization`` (history, parallel coordinate, slice, intermediate values; importance timed on its own)
and written to one HTML page, timed from the start of the figure making to the page drawn in the same browser.
"""
import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from gml.search.task.jobs import JobStatus  # noqa: E402
from gml.search.task.store import Store  # noqa: E402
from gml.search.task.workspace import TaskPaths, init_workspace  # noqa: E402

BIN = os.path.dirname(sys.executable)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
SEARCH_ARGS = [{"type": "Real", "name": "lr", "low": 0.001, "high": 0.1, "log": True},
               {"type": "Int", "name": "width", "low": 8, "high": 256, "step": 8},
               {"type": "Categorical", "name": "opt", "data": ["sgd", "adam", "rmsprop"]}]


def write_task(root: str, name: str, jobs: int, steps: int, seed: int = 0) -> None:
    init_workspace(root)
    paths = TaskPaths(root, name)
    os.makedirs(paths.jobs_all, exist_ok=True)
    with open(paths.run_config, "w") as f:
        yaml.safe_dump({"task": {"template": "python train.py --lr {lr} --width {width} --opt {opt}",
                                 "search_args": SEARCH_ARGS}}, f)
    rng = random.Random(seed)
    store = Store(paths.db)
    now = time.time() - jobs
    store.set_meta(task=name, created_at=now, reward_attribute="acc", optimize_mode="maximize", status="FINISHED",
                   reason="synthetic benchmark task", updated_at=now + jobs)
    for i in range(jobs):
        point = {"lr": math.exp(rng.uniform(math.log(0.001), math.log(0.1))), "width": 8 * rng.randint(1, 32),
                 "opt": rng.choice(["sgd", "adam", "rmsprop"])}
        quality = {"sgd": 0.9, "adam": 0.8, "rmsprop": 0.7}[point["opt"]] * min(1.0, point["lr"] * 10) \
            * (0.5 + point["width"] / 512)
        early = rng.random() < 0.25
        last = rng.randint(2, steps - 1) if early else steps
        curve = [(step, quality * (1 - 0.6 ** step) + rng.gauss(0, 0.005)) for step in range(1, last + 1)]
        start = now + i
        store.add_job(point, dict(point), status=JobStatus.EARLY_STOPPED if early else JobStatus.SUCCEEDED,
                      attempt=1, start_time=start, end_time=start + last, reward=curve[-1][1],
                      stopped_step=last if early else None, error="stopped by the assessor" if early else None)
        rows = [("acc", step, value, start + step) for step, value in curve]
        rows.append(("mflops", last, point["width"] * 3.5, start + last))
        store.add_scalars(i, rows)
    store.close()


def launch(playwright):
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)


def time_gml(browser, root: str, name: str) -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    server = subprocess.Popen([os.path.join(BIN, "search-ctl"), "dashboard", "--port", "0"], cwd=root, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = re.search(r"(http://\S+/)", server.stdout.readline()).group(1)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(600000)
        started = time.perf_counter()
        page.goto(url + f"task/{name}", wait_until="commit")
        page.wait_for_selector('body[data-rendered="1"]', timeout=600000)
        first = time.perf_counter() - started
        parts = page.evaluate("() => GML.timings")
        received = page.evaluate("() => performance.getEntriesByType('navigation')[0].responseEnd")
        parsed = page.evaluate("() => performance.getEntriesByName('gml: page parsed')[0].startTime")
        page.wait_for_function("() => document.querySelector('#plot-importance .main-svg') !== null", timeout=600000)
        with_importance = time.perf_counter() - started
        started = time.perf_counter()
        page.reload(wait_until="commit")
        page.wait_for_selector('body[data-rendered="1"]', timeout=600000)
        warm = time.perf_counter() - started
        rows = page.locator("#jobs-table tbody tr").count()
        started = time.perf_counter()
        page.click('#jobs-table th[data-key="reward"]')
        page.wait_for_function("() => document.querySelector('#jobs-table th[data-key=\"reward\"]')"
                               ".textContent.includes('▲')")
        sort = time.perf_counter() - started
        size = len(urllib.request.urlopen(url + f"api/task/{name}").read())
        page.close()
    finally:
        server.terminate()
        server.wait(30)
    return {"first load (server cold)": first, "importance drawn": with_importance, "reload (server cache warm)": warm,
            "sort every row by reward": sort, "draw ms per part (first load)": parts,
            "page received s": received / 1000, "plotly.js and page parsed s": parsed / 1000, "json MB": size / 1e6,
            "rows in the DOM": rows}


def time_optuna(browser, root: str, name: str, tmp: str) -> dict:
    import optuna
    from gml.dashboard.export_optuna import optuna_trials
    direction, _, trials = optuna_trials(root, name)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=direction)       # in memory: Optuna's own figures read it fastest
    study.add_trials(trials)
    started = time.perf_counter()
    figures = [optuna.visualization.plot_optimization_history(study),
               optuna.visualization.plot_parallel_coordinate(study),
               optuna.visualization.plot_slice(study),
               optuna.visualization.plot_intermediate_values(study)]
    html_path = os.path.join(tmp, "optuna.html")
    with open(html_path, "w") as f:
        f.write("<html><head><meta charset='utf-8'></head><body>")
        for i, figure in enumerate(figures):
            f.write(figure.to_html(full_html=False, include_plotlyjs=(i == 0), div_id=f"fig{i}"))
        f.write("<script>document.body.dataset.rendered = '1';</script></body></html>")
    made = time.perf_counter() - started
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(600000)
    started = time.perf_counter()
    page.goto("file://" + html_path, wait_until="commit")
    page.wait_for_function(f"() => document.querySelectorAll('.main-svg').length >= {len(figures)}", timeout=600000)
    loaded = time.perf_counter() - started
    page.close()
    started = time.perf_counter()
    optuna.visualization.plot_param_importances(study)
    importance = time.perf_counter() - started
    return {"figures made (Python)": made, "page drawn": loaded, "figures + page": made + loaded,
            "importance figure (all trials)": importance,
            "html MB": os.path.getsize(html_path) / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=10000)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "project")
        os.makedirs(root)
        started = time.perf_counter()
        write_task(root, "big", args.jobs, args.steps)
        print(f"synthetic task: {args.jobs} jobs x up to {args.steps} steps written through Store in "
              f"{time.perf_counter() - started:.1f} s")
        with sync_playwright() as p:
            browser = launch(p)
            gml = time_gml(browser, root, "big")
            print("gml dashboard:", json.dumps(gml), flush=True)
            peer = time_optuna(browser, root, "big", tmp)
            browser.close()
    print(json.dumps({"gml dashboard": gml, "optuna.visualization": peer}, indent=2))
    cold, warm, theirs = gml["first load (server cold)"], gml["reload (server cache warm)"], peer["figures + page"]
    print(f"task page drawn: gml {cold:.2f} s (cold), {warm:.2f} s (warm) vs optuna.visualization {theirs:.2f} s: "
          f"ratio optuna/gml = {theirs / cold:.2f} (cold), {theirs / warm:.2f} (warm)")


if __name__ == "__main__":
    main()
