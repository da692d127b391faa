"""The library's version, in a module of its own so that modules the package imports can name
it (a decision record carries it) without importing the package itself.

``pyproject.toml`` is the one place the version is written: this reads it from the installed
distribution's metadata (an editable install has metadata too).
"""

from __future__ import annotations

from importlib import metadata

__all__ = ["DISTRIBUTION", "__version__"]

DISTRIBUTION = "refundrules"

try:
    __version__ = metadata.version(DISTRIBUTION)
except metadata.PackageNotFoundError:  # pragma: no cover - a source tree on sys.path, not installed
    __version__ = "0+unknown"
