"""The library's version, in a module of its own so that modules the package imports can name
it (a decision record carries it) without importing the package itself."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
