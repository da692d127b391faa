"""Batch prediction on a Dask cluster (extra ``dask``): the batch's partition function on a
``dask.bag``, each worker process building its engine once.

>>> from distributed import Client, LocalCluster  # doctest: +SKIP
>>> with LocalCluster(n_workers=2, processes=True) as cluster, Client(cluster) as client:
...     results = predict_bag(open("cases.jsonl"), npartitions=8).compute()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from refundrules._batch import predict_partition
from refundrules._extras import require_module

__all__ = ["predict_bag"]


def predict_bag(
    lines: Iterable[str],
    *,
    npartitions: int = 16,
    packs: tuple[str, ...] | None = None,
    pack: str | None = None,
    as_of: str | None = None,
) -> Any:
    """A ``dask.bag`` of ``(line, ok, json_record)``, in input order, as ``refundrules batch``
    computes them (the same :func:`predict_partition`)."""
    require_module("refundrules on Dask", module="dask", extra="dask")
    import dask.bag

    numbered = [(number, text.rstrip("\r\n")) for number, text in enumerate(lines, start=1)]
    parts = max(1, min(npartitions, len(numbered)))
    bag = dask.bag.from_sequence(numbered, npartitions=parts)  # type: ignore[no-untyped-call]
    return bag.map_partitions(predict_partition, packs=packs, pack=pack, as_of=as_of)
