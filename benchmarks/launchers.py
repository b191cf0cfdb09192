"""Launcher overhead: the same N jobs (each a Python child that sleeps and reports one scalar) at parallel P through
gml's local, Slurm and Ray launchers and through submitit's map_array on the same Slurm cluster, in one run.

    bash tools/ci/start_slurm.sh                     # the Slurm cluster (as root)
    .venv/bin/python benchmarks/launchers.py         # 100 jobs x 0.5 s at parallel 4 (ideal 12.5 s)
    .venv/bin/python benchmarks/launchers.py --only slurm submitit --jobs 40

``per job`` = (wall - ideal) x P / N: the time each of the P slots spends per job beyond the job's own sleep
(child start-up included, which every path pays). The controller's cost per cycle is printed from the launcher's
own measurements: seconds per poll() (exit-code files every cycle, one squeue / Ray job listing now and then)
and per submission (sbatch / Ray submit_job), all of which the controller waits on.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

import yaml

PY = sys.executable
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _child_code(sleep):
    return f"import sys, time, gml; time.sleep({sleep}); gml.report(step=0, acc=float(sys.argv[1]))"


def run_gml(launcher, n, parallel, sleep):
    """One search, in this process, so that the launcher's own timings can be read afterwards."""
    from gml.cli import run as run_cli
    from gml.search.task.store import Store

    captured = []
    original = run_cli.build_components

    def capture(cfg):
        parts = original(cfg)
        captured.append(parts.launcher)
        return parts

    with tempfile.TemporaryDirectory(dir=os.environ.get("GML_BENCH_DIR")) as root:
        cfg = {"task": {"template": f"{PY} -c '{_child_code(sleep)}' {{i}}",
                        "search_args": [{"type": "Int", "name": "i", "data": [0, n - 1]}]},
               "searcher": {"type": "GridSearcher"},
               "scheduler": {"parallel_size": parallel, "launcher": launcher}, "generate_log": True}
        with open(os.path.join(root, "search.yaml"), "w") as f:
            yaml.safe_dump(cfg, f)
        os.makedirs(os.path.join(root, ".search-run"))
        cwd = os.getcwd()
        os.chdir(root)
        os.environ["PATH"] = os.path.dirname(PY) + os.pathsep + os.environ["PATH"]
        run_cli.build_components = capture
        try:
            start = time.perf_counter()
            code = run_cli.main(["search.yaml", "-t", "bench", "-q"])
            wall = time.perf_counter() - start
        finally:
            run_cli.build_components = original
            os.chdir(cwd)
        store = Store(os.path.join(root, ".search-run", "tasks", "bench", "state.db"), readonly=True)
        done = store.counts().get("SUCCEEDED", 0)
        store.close()
        assert code == 0 and done == n, (code, store.counts())
    return wall, captured[0]


def run_submitit(n, parallel, sleep):
    from gml.launchers.slurm import executor

    def work(i):
        time.sleep(sleep)
        return i

    with tempfile.TemporaryDirectory(dir=os.environ.get("GML_BENCH_DIR")) as folder:
        ex = executor(folder, cpus_per_job=1, array_parallelism=parallel)
        start = time.perf_counter()
        jobs = ex.map_array(work, range(n))
        results = [job.result() for job in jobs]
        wall = time.perf_counter() - start
        assert results == list(range(n))
    return wall


def _ms(values):
    values = list(values)
    if not values:
        return "-"
    return f"{1000 * statistics.mean(values):.1f} ms mean, {1000 * max(values):.0f} max ({len(values)} calls)"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=100)
    p.add_argument("--parallel", type=int, default=4)
    p.add_argument("--sleep", type=float, default=0.5)
    p.add_argument("--only", nargs="*", default=["local", "slurm", "submitit", "ray"])
    args = p.parse_args()
    n, par, sleep = args.jobs, args.parallel, args.sleep
    ideal = n * sleep / par
    print(f"{n} jobs x {sleep}s at parallel {par}: ideal {ideal:.1f}s ({os.cpu_count()} cores)", flush=True)
    rows, notes = [], []
    if "local" in args.only:
        wall, _ = run_gml({"type": "local"}, n, par, sleep)
        rows.append(("gml local", wall))
    if "slurm" in args.only:
        wall, launcher = run_gml({"type": "slurm", "cpus_per_job": 1}, n, par, sleep)
        rows.append(("gml slurm", wall))
        notes.append(f"gml slurm: poll() per cycle {_ms(launcher.stats['poll'])}; squeue {_ms(launcher.stats['squeue'])}; "
                     f"sacct {_ms(launcher.stats['sacct'])}; sbatch {_ms(launcher.stats['sbatch'])}")
    if "submitit" in args.only:
        rows.append(("submitit map_array (slurm)", run_submitit(n, par, sleep)))
    if "ray" in args.only:
        wall, launcher = run_gml({"type": "ray", "local_num_cpus": par}, n, par, sleep)
        head = launcher.stats["submit"][0] if launcher.stats["submit"] else 0.0
        rows.append(("gml ray (head start excluded)", wall - head))
        notes.append(f"gml ray: local head start {head:.1f}s (excluded); poll() per cycle {_ms(launcher.stats['poll'])}; "
                     f"list_jobs {_ms(launcher.stats['list'])}; submit_job {_ms(list(launcher.stats['submit'])[1:])}")
    print()
    print(f"{'path':32} {'wall s':>8} {'per job s':>10}")
    for name, wall in rows:
        print(f"{name:32} {wall:8.2f} {(wall - ideal) * par / n:10.3f}")
    walls = dict(rows)
    if "gml slurm" in walls and "submitit map_array (slurm)" in walls:
        diff = (walls["gml slurm"] - walls["submitit map_array (slurm)"]) * par / n
        print(f"\ngml slurm vs submitit map_array: {diff:+.3f} s per job (goal: < +0.5 s)")
    for line in notes:
        print(line)


if __name__ == "__main__":
    main()
