"""search-ctl's tables read at 120 columns: a scalar named like a param says which is which, File copies' paths
are not shown, Lightning's hp_metric placeholder is hidden, and every line fits."""
import textwrap

REPORTS = textwrap.dedent('''
    import sys, gml, yaml
    lr, note = float(sys.argv[1]), sys.argv[2]
    cfg = yaml.safe_load(open(sys.argv[3]))
    for epoch in range(2):
        # a scheduler's current lr (named like the searched param), Lightning's placeholder, the reward
        gml.report(step=epoch, acc=lr * cfg["model"]["hidden"] + epoch, lr=lr * 0.1 ** epoch, hp_metric=-1.0,
                   validation_loss_of_the_exponential_moving_average_model=1.0 / (epoch + 1))
''')
LONG = "a-rather-long-categorical-value-" * 3


def test_tables_fit_120_columns_and_say_what_each_column_is(project):
    (project.root / "fit.py").write_text(REPORTS)
    (project.root / "model_config_with_a_long_name.yaml").write_text("model: {hidden: 8, depth: 2}\n")
    cfg = project.write_config("python fit.py {lr} {note} {config}", [
        {"type": "Categorical", "name": "lr", "data": [0.1, 0.2]},
        {"type": "Categorical", "name": "note", "data": [LONG]},
        {"type": "File", "name": "config", "file": "model_config_with_a_long_name.yaml", "search_args": [
            {"type": "Categorical", "name": "model.hidden", "data": [4, 16]},
            {"type": "Categorical", "name": "model.depth", "data": [2]}]}])
    project.cli("search-run", cfg, "-t", "wide", check=0)
    env = {"COLUMNS": "120"}

    shown = project.cli("search-ctl", "show-scalar", "-t", "wide", "-rt", "+4", check=0, env=env).stdout
    lines = shown.splitlines()
    assert max(len(line) for line in lines) <= 120, shown
    assert "lr (last)" in lines[0] and "lr (param)" in shown
    assert "hp_metric" not in lines[0] and "hidden: hp_metric (only a logger's placeholder value)" in shown
    assert "model_config_with_a_long_name.yaml" not in lines[0]
    assert "(not shown: config = jobs/all/<id>/model_config_with_a_long_name.yaml, each job's own copy)" in shown
    assert "/.search-run/" not in shown, "no File copy's path"
    assert [line.split()[:2] for line in lines[2:4]] == [["1", "3"], ["2", "1"]]   # best first: 0.2 * 16
    assert "config(model.hidden)" in shown, "columns that do not fit go to a second table under the first"
    assert "  a-rather-lo...\n" in shown, "a value too long is cut, marked by '...'"
    assert "(scalar columns, each job's last reported value: lr (last), validation_loss_of_" in shown

    shown = project.cli("search-ctl", "show", "-t", "wide", "--scalar", check=0, env=env).stdout
    paths = ("config: ", "dir: ")      # a path is shown whole
    assert max(len(line) for line in shown.splitlines() if not line.startswith(paths)) <= 120, shown
    assert "best:    job 3 acc=4.2  lr=0.2, note=a-rather-long" in shown
    assert "hp_metric" not in shown and "/.search-run/tasks/wide/jobs/all/0/" not in shown.split("job 0 scalars")[0]
    header = [line for line in shown.splitlines() if line.startswith("id ")][0]
    assert header.split()[:3] == ["id", "status", "acc"] and "start" in header and "took" in header
    assert "validation_loss_of_the_exponential_moving_average_model" in shown, "headers are never cut"
