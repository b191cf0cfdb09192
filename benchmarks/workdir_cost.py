"""What per-job working directories and the --resume code check cost, on a real project tree.

    PYTHONPATH=$PWD python benchmarks/workdir_cost.py [PROJECT_DIR]   (default: this repository)

Prints the size of the task's copy, the time to copy it (paid once per task, and per --refresh-code), the time to
make one job's working directory (paid per job attempt), and the time of the project-vs-copy comparison made at
each --resume. Nothing is compared against a peer: no other HPO tool gives each job its own working directory
onto a shared code copy, so the figure of interest is the cost per job next to the copy it saves.
"""
import os
import shutil
import sys
import tempfile
import time

from gml.search.task.code_copy import project_differences
from gml.search.task.workspace import copy_project, make_work_dir


def main(project: str, jobs: int = 100) -> None:
    tmp = tempfile.mkdtemp()
    try:
        code = os.path.join(tmp, "code")
        start = time.perf_counter()
        copy_project(project, code)
        copy_s = time.perf_counter() - start
        files = sum(len(names) for _, _, names in os.walk(code))
        start = time.perf_counter()
        for i in range(jobs):
            make_work_dir(code, os.path.join(tmp, "jobs", str(i), "cwd"))
        work_ms = (time.perf_counter() - start) / jobs * 1000
        start = time.perf_counter()
        differs = bool(project_differences(project, code))
        diff_ms = (time.perf_counter() - start) * 1000
    finally:
        shutil.rmtree(tmp)
    print(f"project {project}: {files} files, {len(os.listdir(project))} top-level entries")
    print(f"copy (once per task): {copy_s:.2f} s; one job's working directory: {work_ms:.2f} ms "
          f"({copy_s * 1000 / work_ms:.0f}x less than a copy per job); --resume comparison: {diff_ms:.0f} ms "
          f"(differs: {differs})")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(__file__))))
