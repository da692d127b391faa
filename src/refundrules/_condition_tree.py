"""The checked form of a rule condition: ``all`` / ``any`` over leaves, ``not`` pushed down.

``_conditions`` builds these trees from YAML (and explains them); ``_engine`` compiles them
for durable-rules. Both import this module, which imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from refundrules._fact_spec import FactValue
from refundrules._yaml import KeyPath

__all__ = ["AllOf", "AnyOf", "Condition", "Leaf"]


@dataclass(frozen=True)
class Leaf:
    """One checked comparison, ``fact op value``; ``not`` already pushed into ``op``.

    ``value`` is the number a ``{param: NAME}`` resolved to (``param`` keeps the name,
    ``param_text`` how explanations show it); ``key_path`` locates the leaf in its file.
    """

    fact: str
    op: str
    value: FactValue | tuple[str, ...]
    param: str | None
    key_path: KeyPath
    param_text: str | None = None


@dataclass(frozen=True)
class AllOf:
    """``all:`` — holds when every child holds."""

    children: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    """``any:`` — holds when at least one child holds."""

    children: tuple[Condition, ...]


Condition = Leaf | AllOf | AnyOf
