"""Orchestration overhead: the same N jobs (each a child process that sleeps and reports one scalar) at parallel
P through gml, Ray Tune and an Optuna ask/tell loop with SQLite storage, in one run.

    .venv/bin/python benchmarks/overhead.py            # 200 jobs x 0.5 s at parallel 2 (ideal 50 s)
    .venv/bin/python benchmarks/overhead.py --jobs 40  # a quick look

Every system runs the very same child command. ``ideal`` = jobs x sleep / parallel. ``floor`` runs the commands
with a bare pool of P subprocess threads and nothing else: what is left over the ideal there is the child's own
start-up (Python + imports), which every system pays. Overhead is reported against both.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

PY = sys.executable
BIN = os.path.dirname(PY)


def child_argv(sleep, i):
    code = f"import sys, time, gml; time.sleep({sleep}); gml.report(step=0, acc=float(sys.argv[1])); print(sys.argv[1])"
    return [PY, "-c", code, str(i)]


def run_floor(n, parallel, sleep):
    todo = list(range(n))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop(0)
            subprocess.run(child_argv(sleep, i), check=True, stdout=subprocess.DEVNULL)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, {}


def run_gml(n, parallel, sleep):
    with tempfile.TemporaryDirectory() as root:
        code = f"import sys, time, gml; time.sleep({sleep}); gml.report(step=0, acc=float(sys.argv[1])); print(sys.argv[1])"
        config = textwrap.dedent(f"""
            task:
              template: "{PY} -c '{code}' {{i}}"
              search_args:
                - {{type: Int, name: i, data: [0, {n - 1}]}}
            searcher: {{type: GridSearcher}}
            scheduler: {{parallel_size: {parallel}}}
            generate_log: true
        """)
        with open(os.path.join(root, "search.yaml"), "w") as f:
            f.write(config)
        env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"])
        subprocess.run([os.path.join(BIN, "search-init")], cwd=root, check=True, stdout=subprocess.DEVNULL, env=env)
        start = time.perf_counter()
        subprocess.run([os.path.join(BIN, "search-run"), "search.yaml", "-t", "bench", "-q"], cwd=root, check=True,
                       env=env)
        wall = time.perf_counter() - start
        out = subprocess.run([os.path.join(BIN, "search-ctl"), "show", "-t", "bench"], cwd=root, check=True,
                             capture_output=True, text=True, env=env).stdout
        assert f"{n} SUCCEEDED" in out, out[:500]
    return wall, {}


def run_ray(n, parallel, sleep):
    import ray
    from ray import tune

    def trainable(config):
        out = subprocess.run(child_argv(sleep, config["i"]), check=True, capture_output=True, text=True).stdout
        tune.report({"acc": float(out.strip())})

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ray.init(num_cpus=parallel, include_dashboard=False, _temp_dir=os.path.join(tmp, "ray"),
                 log_to_driver=False, configure_logging=False)
        t1 = time.perf_counter()
        tuner = tune.Tuner(tune.with_resources(trainable, {"cpu": 1}),
                           param_space={"i": tune.grid_search(list(range(n)))},
                           tune_config=tune.TuneConfig(max_concurrent_trials=parallel),
                           run_config=tune.RunConfig(storage_path=os.path.join(tmp, "results"), verbose=0))
        results = tuner.fit()
        t2 = time.perf_counter()
        assert len(results) == n and not results.errors
        ray.shutdown()
    return t2 - t1, {"ray.init": t1 - t0}


def run_optuna(n, parallel, sleep):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    with tempfile.TemporaryDirectory() as tmp:
        storage = f"sqlite:///{os.path.join(tmp, 'optuna.db')}"
        start = time.perf_counter()
        study = optuna.create_study(storage=storage, sampler=optuna.samplers.GridSampler({"i": list(range(n))}),
                                    direction="maximize")

        def objective(trial):
            i = trial.suggest_categorical("i", list(range(n)))
            out = subprocess.run(child_argv(sleep, i), check=True, capture_output=True, text=True).stdout
            return float(out.strip())

        study.optimize(objective, n_trials=n, n_jobs=parallel)
        wall = time.perf_counter() - start
        assert len(study.trials) == n
    return wall, {}


SYSTEMS = {"floor (bare subprocess pool)": run_floor, "gml": run_gml, "Optuna ask/tell + SQLite": run_optuna,
           "Ray Tune": run_ray}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=200)
    p.add_argument("--parallel", type=int, default=2)
    p.add_argument("--sleep", type=float, default=0.5)
    p.add_argument("--only", nargs="*", help="run only these systems (gml, optuna, ray, floor)")
    args = p.parse_args()
    ideal = args.jobs * args.sleep / args.parallel
    print(f"{args.jobs} jobs x {args.sleep}s at parallel {args.parallel}: ideal {ideal:.1f}s  (python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores)")
    rows = []
    for name, fn in SYSTEMS.items():
        if args.only and not any(key in name.lower() for key in args.only):
            continue
        wall, extra = fn(args.jobs, args.parallel, args.sleep)
        rows.append((name, wall, extra))
        print(f"  finished {name}: {wall:.2f}s", flush=True)
    floor = next((w for n, w, _ in rows if n.startswith("floor")), None)
    print()
    print(f"{'system':32} {'wall s':>8} {'over ideal':>11} {'over floor':>11} {'per job ms':>11}  notes")
    for name, wall, extra in rows:
        over_floor = "-" if floor is None else f"{100 * (wall - floor) / floor:+.1f}%"
        per_job = "-" if floor is None else f"{1000 * (wall - floor) * args.parallel / args.jobs:.0f}"
        notes = ", ".join(f"{k} {v:.1f}s (not counted)" for k, v in extra.items())
        print(f"{name:32} {wall:8.2f} {100 * (wall - ideal) / ideal:+10.1f}% {over_floor:>11} {per_job:>11}  {notes}")


if __name__ == "__main__":
    main()
