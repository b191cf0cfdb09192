"""The dashboard in a real headless browser (Debian's chromium via Playwright) over a real search's store."""
import os
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import yaml

PLOTS = ["plot-history", "plot-curves", "plot-parcoords", "plot-importance", "plot-pareto"]


def rendered(page, url, timeout=60000):
    response = page.page.goto(url)
    page.page.wait_for_selector('body[data-rendered="1"]', timeout=timeout)
    return response


def jobs_of(project, task):
    out = project.root / f"{task}-jobs.yaml"
    project.cli("search-ctl", "show", "-t", task, "--scalar", "--out", str(out), check=0)
    return yaml.safe_load(out.read_text())["jobs"]


def test_home_lists_the_task_with_status_progress_and_best(demo, dashboard, page, artifacts):
    rendered(page, dashboard.url)
    row = page.page.locator('tr[data-task="demo"]')
    text = row.inner_text()
    jobs = jobs_of(demo, "demo")
    best = max((j for j in jobs if j["reward"] is not None), key=lambda j: j["reward"])
    assert "FINISHED" in text and f"{len(jobs)}/{len(jobs)}" in text
    assert f"(job {best['id']})" in text and "acc = " in text
    page.page.screenshot(path=os.path.join(artifacts, "dashboard-home.png"))
    assert page.errors == []


def test_task_page_draws_every_plot_without_console_errors(demo, dashboard, page, artifacts):
    rendered(page, dashboard.url + "task/demo")
    page.page.wait_for_function("() => document.querySelector('#plot-importance .js-plotly-plot, "
                                "#plot-importance.js-plotly-plot') !== null", timeout=60000)
    drawn = page.page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .map(d => [d.id, d.data.length, d.querySelector('.main-svg') !== null])""")
    by_id = {name: (n, svg) for name, n, svg in drawn}
    for plot in PLOTS + ["plot-slice-0", "plot-slice-1", "plot-slice-2"]:
        assert plot in by_id and by_id[plot][0] >= 1 and by_id[plot][1], (plot, drawn)
    page.page.wait_for_timeout(500)
    page.page.screenshot(path=os.path.join(artifacts, "dashboard-task.png"), full_page=True)
    assert page.errors == []


def test_parallel_coordinates_has_one_axis_per_param_plus_the_reward(demo, dashboard, page):
    rendered(page, dashboard.url + "task/demo")
    labels = page.page.evaluate("""() => [...document.querySelectorAll('#plot-parcoords .y-axis .axis-title')]
        .map(t => t.textContent)""")
    assert labels == ["lr", "width", "opt", "acc"]
    categories = page.page.evaluate("() => document.getElementById('plot-parcoords').data[0].dimensions[2].ticktext")
    assert sorted(categories) == ["adam", "sgd"]


def test_early_stopped_jobs_are_marked_on_the_curves_at_their_stop_step(demo, dashboard, page):
    jobs = jobs_of(demo, "demo")
    stopped = [j for j in jobs if j["status"] == "EARLY_STOPPED"]
    assert stopped, "the median rule stopped no job: the demo search no longer exercises early stopping"
    rendered(page, dashboard.url + "task/demo")
    marks = page.page.evaluate("""() => {
        const t = document.getElementById('plot-curves').data.find(t => t.name === 'stopped here');
        return t.x.map((x, i) => [t.text[i], x, t.y[i]]); }""")
    expected = sorted([f"job {j['id']} stopped at step {j['stopped_step']}", j["stopped_step"],
                       pytest.approx(j["scalars"]["acc"][j["stopped_step"]])] for j in stopped)
    assert sorted(marks) == expected
    assert page.page.locator("#plot-curves .legendtext", has_text="stopped here").count() == 1


def test_jobs_table_sorts_filters_and_shows_a_log_tail(demo, dashboard, page):
    jobs = jobs_of(demo, "demo")
    rendered(page, dashboard.url + "task/demo")
    page.page.click('#jobs-table th[data-key="reward"]')
    page.page.click('#jobs-table th[data-key="reward"]')       # descending: the best first
    best = max((j for j in jobs if j["reward"] is not None), key=lambda j: j["reward"])
    assert page.page.locator("#jobs-table tbody tr").first.get_attribute("data-job") == str(best["id"])
    page.page.select_option("#jobs-status", "SUCCEEDED")
    shown = page.page.locator("#jobs-table tbody tr").evaluate_all("rows => rows.map(r => Number(r.dataset.job))")
    assert sorted(shown) == sorted(j["id"] for j in jobs if j["status"] == "SUCCEEDED")
    page.page.fill("#jobs-filter", "adam")
    page.page.select_option("#jobs-status", "")
    shown = page.page.locator("#jobs-table tbody tr").evaluate_all("rows => rows.map(r => Number(r.dataset.job))")
    assert sorted(shown) == sorted(j["id"] for j in jobs if j["params"]["opt"] == "adam")
    page.page.locator("#jobs-table tbody tr").first.click()
    page.page.wait_for_function("() => document.getElementById('log-tail').textContent.includes('training lr=')")
    assert "opt=adam" in page.page.text_content("#log-tail")
    assert page.errors == []


@pytest.mark.slow
def test_a_running_search_shows_new_jobs_without_a_reload(tmp_path, helpers, page):
    project = helpers["Project"](tmp_path)
    config = project.write_config("live", tries=8, sleep=0.5, parallel=1, assessor=False)
    run = project.start("search-run", config, "-t", "live")
    server = None
    try:
        deadline = time.monotonic() + 60
        while not (project.task_dir("live") / "state.db").exists():
            assert time.monotonic() < deadline and run.poll() is None, run.stderr.read() if run.poll() else "slow"
            time.sleep(0.1)
        server = helpers["start_dashboard"](project)
        rendered(page, server.url + "task/live")
        first = page.page.locator("#jobs-table tbody tr").count()
        page.page.evaluate("() => { window.notReloaded = true; }")
        page.page.wait_for_function("() => document.querySelectorAll('#jobs-table tbody tr').length === 8 && "
                                    "document.getElementById('task-summary').textContent.includes('FINISHED')",
                                    timeout=150000)
        assert first < 8
        assert page.page.evaluate("() => window.notReloaded") is True
        assert page.errors == []
    finally:
        run.wait(120)
        if server is not None:
            helpers["stop"](server.process)


def test_unknown_task_is_a_404_page(dashboard, page):
    response = page.page.goto(dashboard.url + "task/no-such-task")
    assert response.status == 404
    assert "no task 'no-such-task'" in page.page.text_content("body")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(dashboard.url + "api/task/no-such-task")
    assert err.value.code == 404


def test_corrupt_and_locked_stores_are_error_pages_and_the_server_keeps_serving(demo, helpers, page):
    corrupt = helpers["copy_task"](demo, "demo", "corrupt")
    for name in os.listdir(corrupt):
        if name.startswith("state.db-"):
            os.remove(corrupt / name)
    (corrupt / "state.db").write_bytes(b"this is not a database" * 100)
    locked = helpers["copy_task"](demo, "demo", "locked")
    holder = sqlite3.connect(str(locked / "state.db"))
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE meta SET value = value")
        server = helpers["start_dashboard"](demo)
        try:
            response = page.page.goto(server.url + "task/corrupt")
            assert response.status == 503
            assert "not a database" in page.page.text_content("body")
            response = page.page.goto(server.url + "task/locked")
            assert response.status == 503 and "locked" in page.page.text_content("body")
            rendered(page, server.url)            # still serving: home lists every task, the broken ones say why
            assert page.page.locator('tr[data-task="demo"]').count() == 1
            body = page.page.text_content("#tasks")
            assert "not a database" in body and "locked" in body
            assert server.process.poll() is None
        finally:
            helpers["stop"](server.process)
    finally:
        holder.close()
        for task in ("corrupt", "locked"):
            subprocess.run(["rm", "-rf", str(demo.task_dir(task))], check=True)


def test_a_busy_port_is_one_error_and_exit_2(demo, helpers):
    port = helpers["free_port"]()
    server = demo.start("search-ctl", "dashboard", "--port", str(port))
    try:
        assert f":{port}/" in server.stdout.readline()
        second = demo.cli("search-ctl", "dashboard", "--port", str(port), timeout=60)
        assert second.returncode == 2
        assert second.stderr.strip() == (f"search-ctl: error: --port: {port} is already in use on 127.0.0.1; "
                                         f"choose another port (--port 0 picks a free one)")
    finally:
        helpers["stop"](server)


@pytest.mark.slow
def test_the_report_opens_offline_with_the_same_plots(demo, browser, tmp_path):
    out = tmp_path / "report.html"
    made = demo.cli("search-ctl", "report", "-t", "demo", "--out", str(out), check=0)
    assert "opens offline" in made.stdout
    context = browser.new_context(offline=True, viewport={"width": 1400, "height": 900})
    requested = []
    context.route("**/*", lambda route: (requested.append(route.request.url), route.continue_()
                                         if route.request.url.startswith("file:") else route.abort()))
    try:
        page = context.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(out.as_uri())
        page.wait_for_selector('body[data-rendered="1"]', timeout=60000)
        drawn = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].map(d => d.id)")
        assert set(PLOTS + ["plot-slice-0", "plot-slice-1", "plot-slice-2"]) <= set(drawn)
        labels = page.evaluate("() => [...document.querySelectorAll('#plot-parcoords .y-axis .axis-title')]"
                               ".map(t => t.textContent)")
        assert labels == ["lr", "width", "opt", "acc"]
        assert errors == []
        assert [u for u in requested if not u.startswith("file:")] == []
    finally:
        context.close()
