"""searcher.constraints end to end: real jobs report a constrained scalar; the best job is the best feasible one,
search-ctl marks the infeasible ones, and a malformed constraint is a config error naming its key path."""
import yaml

SPACE = [{"type": "Categorical", "name": "lr", "data": [0.1, 0.2, 0.3]},
         {"type": "Categorical", "name": "epochs", "data": [3, 4]}]


def test_the_best_job_keeps_the_constraints_and_infeasible_ones_are_marked(project):
    # acc = lr * epochs and loss = 1 / epochs (last values): 'loss > 0.3' allows only epochs 3, so the highest acc
    # (lr 0.3, epochs 4, acc 1.2) is infeasible and the best is lr 0.3, epochs 3 (acc 0.9)
    cfg = project.write_config("python train.py --lr {lr} --epochs {epochs}", SPACE, scalars=["acc"],
                               searcher={"type": "GridSearcher", "constraints": ["loss > 0.3"]},
                               scheduler={"parallel_size": 2})
    run = project.cli("search-run", cfg, "-t", "cons", check=0)
    assert "FINISHED" in run.stderr
    data = project.jobs("cons")
    infeasible = sorted(j["id"] for j in data["jobs"] if j["violation"] > 0)
    assert infeasible == [j["id"] for j in data["jobs"] if j["params"]["epochs"] == 4]
    assert all(j["violation"] == 0 for j in data["jobs"] if j["params"]["epochs"] == 3)
    assert data["task"]["best"]["params"] == {"lr": 0.3, "epochs": 3}
    assert abs(data["task"]["best"]["reward"] - 0.9) < 1e-9
    task_yaml = yaml.safe_load((project.task_dir("cons") / "task.yaml").read_text())
    assert task_yaml["best"]["params"] == {"lr": 0.3, "epochs": 3}
    shown = project.cli("search-ctl", "show", "-t", "cons", check=0).stdout
    assert shown.count("SUCCEEDED (infeasible)") == 3 and "best:    job" in shown
    top = project.cli("search-ctl", "show-scalar", "-t", "cons", "-rt", "+6", check=0).stdout.splitlines()
    ranked = [line.split() for line in top[2:] if line[:1].isdigit()]     # table rows (a note may follow)
    assert [r[2] for r in ranked[:3]] == ["SUCCEEDED"] * 3 and all("(infeasible)" in " ".join(r) for r in ranked[3:])
    assert "acc=0.9 " in project.cli("search-ctl", "show", check=0).stdout


def test_a_malformed_constraint_is_refused_with_its_key_path(project):
    cfg = project.write_config("python train.py --lr {lr} --epochs {epochs}", SPACE,
                               searcher={"constraints": ["loss > 0.3", "flops => 600"]})
    run = project.cli("search-run", cfg, "-t", "bad", check=2)
    assert run.stderr.startswith("search-run: error: searcher.constraints[1]: expected 'SCALAR OP NUMBER'")
    assert "got 'flops => 600'" in run.stderr and len(run.stderr.strip().splitlines()) == 1
