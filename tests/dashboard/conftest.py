"""Fixtures for the dashboard tests: a real finished search (search-run on real child processes), the real
``search-ctl dashboard`` as a subprocess, and Debian's chromium driven by Playwright (no browser download:
``tools/ci/install_browser.sh`` installs the chromium package)."""
import os
import re
import signal
import shutil
import socket
import subprocess
import sys
import textwrap
import time

import pytest
import yaml

BIN = os.path.dirname(sys.executable)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]

TRAIN = textwrap.dedent('''
    """A stand-in training job: acc rises per epoch towards a quality set by its params; it also reports mflops."""
    import argparse, time
    import gml
    p = argparse.ArgumentParser()
    p.add_argument("--lr", type=float)
    p.add_argument("--width", type=int)
    p.add_argument("--opt")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--sleep", type=float, default=0.05)
    a = p.parse_args()
    quality = (0.9 if a.opt == "sgd" else 0.6) * min(1.0, a.lr * 10) * (0.5 + a.width / 128)
    print(f"training lr={a.lr} width={a.width} opt={a.opt}", flush=True)
    for epoch in range(1, a.epochs + 1):
        time.sleep(a.sleep)
        gml.report(step=epoch, acc=quality * (1 - 0.5 ** epoch), mflops=a.width * 3.5)
    print("finished", flush=True)
''')

SEARCH_ARGS = [{"type": "Real", "name": "lr", "low": 0.001, "high": 0.1, "log": True},
               {"type": "Int", "name": "width", "low": 8, "high": 64, "step": 8},
               {"type": "Categorical", "name": "opt", "data": ["sgd", "adam"]}]


class Project:
    """A scratch project with ``train.py``; ``cli`` runs a console script in it."""

    def __init__(self, root):
        self.root = root
        self.env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        (root / "train.py").write_text(TRAIN)
        self.cli("search-init", check=0)

    def write_config(self, name, tries, sleep=0.05, parallel=2, seed=3, assessor=True):
        config = {"task": {"template": f"python train.py --lr {{lr}} --width {{width}} --opt {{opt}} --sleep {sleep}",
                           "search_args": SEARCH_ARGS},
                  "searcher": {"type": "RandomSearcher", "reward_attribute": "acc", "seed": seed},
                  "scheduler": {"parallel_size": parallel, "stop_criterion": {"max_tries": tries}}}
        if assessor:
            config["scheduler"]["assessor"] = {"type": "MedianStopAssessor", "start_step": 3}
        path = self.root / f"{name}.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path.name

    def cli(self, *args, check=None, timeout=180):
        proc = subprocess.run([os.path.join(BIN, args[0]), *args[1:]], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if check is not None:
            assert proc.returncode == check, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc

    def start(self, *args):
        return subprocess.Popen([os.path.join(BIN, args[0]), *args[1:]], cwd=self.root, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)

    def task_dir(self, task):
        return self.root / ".search-run" / "tasks" / task


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """A project with one finished task ``demo``: 14 jobs, some stopped early by the median rule."""
    project = Project(tmp_path_factory.mktemp("dashboard-project"))
    project.cli("search-run", project.write_config("demo", tries=14), "-t", "demo", check=0)
    return project


class Dashboard:
    def __init__(self, process, url):
        self.process = process
        self.url = url


def start_dashboard(project, *extra):
    """``search-ctl dashboard --port 0`` in the project; returns it once it printed its address."""
    proc = project.start("search-ctl", "dashboard", "--port", "0", *extra)
    line = proc.stdout.readline()
    match = re.search(r"(http://\S+/)", line)
    if match is None:
        proc.kill()
        raise AssertionError(f"no address printed: {line!r}\n{proc.stderr.read()}")
    return Dashboard(proc, match.group(1))


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def dashboard(demo):
    """One ``search-ctl dashboard`` over the demo project for a test module (its caches warm up once)."""
    server = start_dashboard(demo)
    yield server
    stop(server.process)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no {CHROMIUM}: run tools/ci/install_browser.sh (Debian's chromium package)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()


class WatchedPage:
    """A browser page that records console errors and uncaught exceptions."""

    def __init__(self, page):
        self.page = page
        self.errors = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    yield WatchedPage(context.new_page())
    context.close()


@pytest.fixture
def artifacts(tmp_path):
    """Where screenshots go: $GML_TEST_ARTIFACTS (e.g. docs/images) when set, else the test's tmp dir."""
    where = os.environ.get("GML_TEST_ARTIFACTS") or str(tmp_path)
    os.makedirs(where, exist_ok=True)
    return where


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def helpers():
    return {"start_dashboard": start_dashboard, "stop": stop, "free_port": free_port, "Project": Project,
            "copy_task": copy_task}


def copy_task(project, src, dest):
    """A copy of a finished task under another name (its store copied with the files; for the error-page tests)."""
    shutil.copytree(project.task_dir(src), project.task_dir(dest), symlinks=True,
                    ignore=shutil.ignore_patterns("controller.lock", "code"))
    return project.task_dir(dest)
