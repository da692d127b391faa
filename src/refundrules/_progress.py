"""Progress on long CLI runs: a tqdm bar on stderr when stderr is a terminal and tqdm is
installed (extra ``batch``); otherwise nothing, so logs and pipes stay clean.

The tools take a ``progress`` callback (``progress(n)``: n more units done) and know nothing
of bars; the CLI passes :func:`progress_bar`'s.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Advance", "progress_bar"]

Advance = Callable[[int], Any]


def _ignore(count: int) -> None:
    """A progress callback that shows nothing."""


@contextmanager
def progress_bar(label: str, total: int | None, *, unit: str = "case") -> Iterator[Advance]:
    if not sys.stderr.isatty():
        yield _ignore
        return
    try:
        from tqdm import tqdm  # type: ignore[import-untyped]
    except ImportError:
        yield _ignore
        return
    bar = tqdm(total=total, desc=label, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True)
    try:
        yield bar.update
    finally:
        bar.close()
