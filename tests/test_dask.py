"""The batch partition function on a Dask LocalCluster of 2 worker processes gives exactly the
single-process answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from refundrules._batch import predict_partition
from refundrules._dask import predict_bag
from tests.test_batch import make_cases

distributed = pytest.importorskip("distributed")


def test_a_local_cluster_gives_the_single_process_answers(tmp_path: Path) -> None:
    cases = make_cases(tmp_path / "cases.jsonl", 60, 3)
    lines = cases.read_text(encoding="utf-8").splitlines()
    expected = predict_partition(list(enumerate(lines, start=1)))
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        got = predict_bag(lines, npartitions=4).compute()
        workers = client.run(lambda: __import__("os").getpid())
    assert len(workers) == 2
    assert [tuple(item) for item in got] == expected
    assert sum(1 for _, ok, _ in expected if not ok) == 3
