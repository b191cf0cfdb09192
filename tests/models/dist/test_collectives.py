"""gml.models.dist.average_gradients, broadcast_tensors and gml.models.evaluation.gather_in_dataset_order on a
real 2-process gloo group (tests/models/dist/_collectives_worker.py)."""
import json


def test_average_gradients_and_gather_in_dataset_order(tmp_path, torchrun):
    torchrun("_collectives_worker.py", str(tmp_path))
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for seen in ranks:
        assert seen["shared"] == [1.5, 1.5, 1.5]
        assert seen["only_on_rank1"] == [2.0, 2.0]  # no gradient on rank 0 counts as zero there
        assert seen["unused"] is True  # no gradient anywhere: still none
        assert seen["broadcast"] == [[0.5] * 4, [0], [0]]  # rank 0's values everywhere, dtypes kept
        # every rank gets the whole dataset's results, in dataset order, the repeated sample once
        assert seen["gathered"] == [10.0 * i for i in range(7)]
    # each rank predicted its share only (4 samples each: 7 plus one repeated)
    assert len(ranks[0]["share"]) == len(ranks[1]["share"]) == 4
    assert ranks[0]["share"] != ranks[1]["share"]
    assert set(ranks[0]["share"]) | set(ranks[1]["share"]) == set(ranks[0]["gathered"])
