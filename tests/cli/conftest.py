"""Helpers for end-to-end tests: a scratch project and the real console scripts as subprocesses."""
import os
import subprocess
import sys
import textwrap

import pytest
import yaml

BIN = os.path.dirname(sys.executable)

TRAIN = textwrap.dedent('''
    """A stand-in training job: reports acc per epoch; options let tests make it slow, crash or spawn children."""
    import argparse, os, subprocess, sys, time
    import gml
    p = argparse.ArgumentParser()
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--bs", default="32")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--exit", type=int, default=0)
    p.add_argument("--child", action="store_true", help="start a long-lived grandchild process")
    p.add_argument("--record", default=None, help="append one line per start to this file")
    a = p.parse_args()
    if a.record:
        with open(a.record, "a") as f:
            f.write(f"{a.lr} {a.bs} {os.getpid()}\\n")
    if a.child:
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    print("bs", a.bs, "lr", a.lr, flush=True)
    for epoch in range(a.epochs):
        time.sleep(a.sleep)
        gml.report(step=epoch, acc=a.lr * (epoch + 1), loss=1.0 / (epoch + 1))
    if a.exit:
        print("boom: failing on purpose", file=sys.stderr)
    sys.exit(a.exit)
''')


class Project:
    def __init__(self, root):
        self.root = root

    def write_config(self, template, search_args, name="search.yaml", **blocks):
        raw = {"task": {"template": template, "search_args": search_args}}
        raw.update(blocks)
        path = self.root / name
        path.write_text(yaml.safe_dump(raw, sort_keys=False))
        return str(path)

    def cli(self, *args, timeout=120, check=None, env=None):
        """Run a console script (search-init/run/ctl) in the project; returns CompletedProcess."""
        full_env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), **(env or {}))
        proc = subprocess.run([os.path.join(BIN, args[0]), *args[1:]], cwd=self.root, capture_output=True,
                              text=True, timeout=timeout, env=full_env)
        if check is not None:
            assert proc.returncode == check, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        return proc

    def start(self, *args):
        """Start search-run in the background (for kill/stop tests)."""
        env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        return subprocess.Popen([os.path.join(BIN, args[0]), *args[1:]], cwd=self.root, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)

    def task_dir(self, task):
        return self.root / ".search-run" / "tasks" / task

    def jobs(self, task):
        out = self.root / f"{task}-jobs.yaml"
        self.cli("search-ctl", "show", "-t", task, "--scalar", "--out", str(out), check=0)
        return yaml.safe_load(out.read_text())


@pytest.fixture
def project(tmp_path):
    (tmp_path / "train.py").write_text(TRAIN)
    p = Project(tmp_path)
    p.cli("search-init", check=0)
    return p
