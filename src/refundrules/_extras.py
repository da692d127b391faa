"""Optional dependencies: the tools for rule authors need Hypothesis, pictures need matplotlib;
predicting needs neither."""

from __future__ import annotations

import importlib.util

from refundrules.exceptions import MissingExtraError

__all__ = ["require_hypothesis", "require_matplotlib", "require_module"]


def require_hypothesis(feature: str) -> None:
    """Raise :class:`MissingExtraError` naming ``feature`` unless Hypothesis can be imported."""
    try:
        found = importlib.util.find_spec("hypothesis") is not None
    except ValueError:  # a module set to None in sys.modules
        found = False
    if not found:
        raise MissingExtraError(feature, module="hypothesis", extra="authoring")


def require_module(feature: str, *, module: str, extra: str) -> None:
    """Raise :class:`MissingExtraError` unless ``module`` (brought by ``extra``) can be imported."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ValueError:  # a module set to None in sys.modules
        found = False
    if not found:
        raise MissingExtraError(feature, module=module, extra=extra)


def require_matplotlib(feature: str) -> None:
    """Raise :class:`MissingExtraError` naming ``feature`` unless matplotlib can be imported."""
    require_module(feature, module="matplotlib", extra="plot")
