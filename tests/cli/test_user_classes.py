"""A user's own searcher, stop criterion and filter, registered with decorators and named in the YAML."""
import textwrap

PLUGINS = textwrap.dedent('''
    from gml.registry import FILTER_CRITERIONS, SEARCHERS, STOP_CRITERIONS
    from gml.search.criteria import FilterCriterion, Stop, StopCriterion
    from gml.search.searchers import Searcher


    @SEARCHERS.register_module()
    class GenerationSearcher(Searcher):
        """Proposes generations of two points; waits (returns None) until a generation's results are in."""

        def __init__(self, space, optimize_mode="maximize", seed=None, generations=3):
            super().__init__(space, optimize_mode, seed)
            self.generations, self.generation, self.waiting, self.queue = generations, 0, 0, []

        def suggest(self):
            if not self.queue and self.waiting == 0 and self.generation < self.generations:
                self.generation += 1
                self.queue = [{"lr": round(self.generation * 0.1 + k * 0.01, 2)} for k in range(2)]
                self.waiting = 2
            return self.queue.pop(0) if self.queue else None

        def observe(self, point, reward):
            self.waiting -= 1


    @STOP_CRITERIONS.register_module()
    class StopAfterFive(StopCriterion):
        def before_iter(self, view):
            return Stop.DRAIN if view.launched >= 5 else None


    @FILTER_CRITERIONS.register_module()
    class NoSecondOfAGeneration(FilterCriterion):
        def filter(self, candidate):
            return round(candidate.params["lr"] * 100) % 10 == 0
''')


def test_user_classes_from_custom_imports(project):
    (project.root / "my_plugins.py").write_text(PLUGINS)
    cfg = project.write_config(
        "python train.py --lr {lr} --epochs 1", [{"type": "Real", "name": "lr", "data": [0.0, 1.0]}],
        custom_imports=["my_plugins"], searcher={"type": "GenerationSearcher", "generations": 10},
        scheduler={"parallel_size": 4, "stop_criterion": {"custom": [{"type": "StopAfterFive"}]},
                   "filter_criterion": [{"type": "NoSecondOfAGeneration"}]})
    out = project.cli("search-run", cfg, "-t", "plugins", check=0)
    assert "StopAfterFive" in out.stderr
    jobs = project.jobs("plugins")["jobs"]
    # generations arrive only after the previous one finished; the filter drops the second point of each;
    # the stop criterion counts launched (not filtered) configurations
    assert [(j["params"]["lr"], j["status"]) for j in jobs] == [
        (0.1, "SUCCEEDED"), (0.11, "FILTERED"), (0.2, "SUCCEEDED"), (0.21, "FILTERED"), (0.3, "SUCCEEDED"),
        (0.31, "FILTERED"), (0.4, "SUCCEEDED"), (0.41, "FILTERED"), (0.5, "SUCCEEDED")]


def test_a_broken_custom_import_is_a_config_error(project):
    (project.root / "broken.py").write_text("raise RuntimeError('oops')\n")
    cfg = project.write_config("python train.py --lr {lr}", [{"type": "Categorical", "name": "lr", "data": [1]}],
                               custom_imports=["broken"])
    err = project.cli("search-run", cfg, check=2).stderr
    assert err.strip() == "search-run: error: custom_imports[0]: cannot import 'broken': RuntimeError: oops"
