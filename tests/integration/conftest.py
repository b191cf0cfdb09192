"""A project folder in which the integration tests run real searches with gml's console scripts (search-init,
search-run, search-ctl), reached through the ``search_project`` fixture (test modules do not import this file)."""
import os
import subprocess
import sys

import pytest
import yaml

BIN = os.path.dirname(sys.executable)


class SearchProject:
    """``root`` made a search project (search-init); the scripts run there with ``root`` on PYTHONPATH (its own
    training scripts and user modules import) and one OpenMP thread."""

    def __init__(self, root, timeout=600):
        self.root, self.timeout = root, timeout
        self.env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), OMP_NUM_THREADS="1",
                        PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.cli("search-init")

    def cli(self, *args, timeout=None):
        """Run console script ``args[0]`` with the other args; it must exit 0."""
        proc = subprocess.run([os.path.join(BIN, args[0]), *args[1:]], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=timeout or self.timeout)
        assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc

    def search(self, task, template, name, values, reward, parallel=2, scheduler=None, **top):
        """search-run of ``task``: a grid over the Categorical arg ``name`` (``values``) with ``template``,
        maximizing ``reward``, ``parallel`` jobs at once; ``scheduler`` adds scheduler keys, ``top`` top-level
        keys (``metrics_from``, ``step_attribute`` ...)."""
        config = {"task": {"template": template,
                           "search_args": [{"type": "Categorical", "name": name, "data": values}]},
                  "searcher": {"type": "GridSearcher", "reward_attribute": reward},
                  "scheduler": {"parallel_size": parallel, **(scheduler or {})}, **top}
        (self.root / f"{task}.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        return self.cli("search-run", f"{task}.yaml", "-t", task)

    def jobs(self, task):
        """The jobs of ``task`` by id, as search-ctl show gives them (with their scalars)."""
        out = self.root / f"{task}-jobs.yaml"
        self.cli("search-ctl", "show", "-t", task, "--scalar", "--out", str(out))
        return {j["id"]: j for j in yaml.safe_load(out.read_text())["jobs"]}

    def job_dir(self, task, job_id):
        return self.root / ".search-run" / "tasks" / task / "jobs" / "all" / str(job_id)


@pytest.fixture
def search_project():
    """The SearchProject class: ``search_project(tmp_path)`` makes a folder a search project."""
    return SearchProject
