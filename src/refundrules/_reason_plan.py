"""Reasons from a plan made once per rule: the fast path's ``reasons_for``.

``_assemble.reasons_for`` walks a rule's condition on every case: which leaves hold, how each
reads. A :class:`ReasonPlan` does the walking once: for a condition of ``all`` and single
comparisons (most rules), its leaves with their tests and their texts' fixed parts; per case
only the tests run and the fact values are written in; a rule that reads only flags and
texts keeps its few distinct reasons (bounded). A condition with an ``any`` keeps the walk
(its first true branch depends on the case). The reason is the one ``reasons_for`` gives
(tests/test_fast_path.py compares whole predictions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from refundrules._condition_tree import AllOf, Condition, Leaf
from refundrules._conditions import leaf_describer, leaf_test, satisfied_leaves
from refundrules._facts import FactValue
from refundrules._loader import CheckedRule, VersionDefinition
from refundrules._memo import Memo
from refundrules._prediction import Reason, trusted

__all__ = ["ReasonPlan"]

# Distinct reasons kept per rule that reads only flags and texts.
_KEPT_REASONS = 256

_Step = tuple[Leaf, str, Callable[[FactValue], bool], Callable[[FactValue], str]]


def _discrete(leaf: Leaf) -> bool:
    """The leaf compares a flag or a text (its fact takes few values, all hashable)."""
    return type(leaf.value) in (bool, str, tuple)


def _only_all(condition: Condition) -> tuple[Leaf, ...] | None:
    """The leaves of a condition made only of ``all`` groups and leaves, in order; else None."""
    if isinstance(condition, Leaf):
        return (condition,)
    if not isinstance(condition, AllOf):
        return None
    found: list[Leaf] = []
    for child in condition.children:
        leaves = _only_all(child)
        if leaves is None:
            return None
        found.extend(leaves)
    return tuple(found)


class ReasonPlan:
    """How one rule's reason is written, whatever the case."""

    def __init__(self, pack: VersionDefinition, rule: CheckedRule) -> None:
        spec = rule.spec
        self._condition = rule.condition
        self._rule_id = spec.id
        self._title = spec.title.en
        self._title_zh = spec.title.zh or spec.title.en
        self._sources = pack.citations[spec.id]
        leaves = _only_all(rule.condition)
        self._steps: tuple[_Step, ...] | None = (
            tuple((leaf, leaf.fact, leaf_test(leaf), leaf_describer(leaf)) for leaf in leaves)
            if leaves is not None
            else None
        )
        self._describers: dict[Leaf, Callable[[FactValue], str]] = {}
        # A rule that reads only flags and texts has few distinct reasons: keep them (bounded).
        discrete = leaves is not None and all(_discrete(leaf) for leaf in leaves)
        self._names = tuple(dict.fromkeys(leaf.fact for leaf in leaves or ()))
        self._kept: Memo[tuple[object, ...], Reason] | None = (
            Memo(_KEPT_REASONS) if discrete else None
        )

    def _walked(self, facts: Mapping[str, FactValue]) -> tuple[list[str], dict[str, FactValue]]:
        texts: list[str] = []
        values: dict[str, FactValue] = {}
        describers = self._describers
        for leaf in satisfied_leaves(self._condition, facts):
            describe = describers.get(leaf)
            if describe is None:
                describe = describers.setdefault(leaf, leaf_describer(leaf))
            actual = facts[leaf.fact]
            texts.append(describe(actual))
            values[leaf.fact] = actual
        return texts, values

    def reason(self, role: str, facts: Mapping[str, FactValue]) -> Reason:
        kept = self._kept
        if kept is None:
            return self._written(role, facts)
        key = (role, *[facts[name] for name in self._names])
        return kept.get_or_make(key, lambda: self._written(role, facts))

    def _written(self, role: str, facts: Mapping[str, FactValue]) -> Reason:
        steps = self._steps
        if steps is None:
            texts, values = self._walked(facts)
        else:
            texts = []
            values = {}
            for _, name, test, describe in steps:
                actual = facts[name]
                if test(actual):
                    texts.append(describe(actual))
                    values[name] = actual
        return trusted(
            Reason,
            rule_id=self._rule_id,
            title=self._title,
            title_zh=self._title_zh,
            role=role,
            because="; ".join(texts),
            facts=values,
            sources=self._sources,
        )
