"""Keep Hypothesis's ``.hypothesis`` folder out of the user's working directory.

Hypothesis stores what it learns (an example database, a cache of the constants in the code
under test) in ``.hypothesis/`` under the current directory. The CLI's ``test``, ``diff`` and
``coverage`` run Hypothesis with no database, but it would still leave that folder wherever
the command was typed; they run inside :func:`hypothesis_home`, which points Hypothesis at a
temporary folder removed at the end (unless ``HYPOTHESIS_STORAGE_DIRECTORY`` chooses one).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["hypothesis_home"]


@contextmanager
def hypothesis_home() -> Iterator[None]:
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        yield
        return
    try:
        from hypothesis import configuration
    except ImportError:  # the command itself says which extra to install
        yield
        return
    with tempfile.TemporaryDirectory(prefix="refundrules-hypothesis-") as scratch:
        configuration.set_hypothesis_home_dir(scratch)
        try:
            yield
        finally:
            configuration.set_hypothesis_home_dir(None)
