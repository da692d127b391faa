"""Decide each signature once: the firing set of a compiled rule set, cached by the facts'
signature.

Every leaf of our condition trees compares one fact with a constant (a literal or a resolved
parameter). Which leaves hold therefore depends only on, for each number fact, where its value
lies among the constants it is compared with (below the first, exactly on one, strictly between
two, above the last), and for each flag or text, its value (a text no rule names is one value,
"other"). That is the *signature*; two fact sets with the same signature fire the same rules,
so the engine decides a signature once and :class:`FiringCache` answers it afterwards.

The plan is read from the compiled conditions, never from the parameters file: a fact compared
with anything else than a constant of one type (numbers, flags or texts), or with an operator
this module does not know, makes :meth:`SignaturePlan.of` refuse the whole rule set (the engine
then runs uncached). A value of an unexpected type at run time (a text where numbers are
compared: durable would compare it as text) makes that one case bypass the cache.

This module does not import durable-rules; ``_engine`` owns the cache, one per compiled engine.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from math import isnan
from operator import add, itemgetter
from typing import Any, Literal

from refundrules._condition_tree import AllOf, AnyOf, Condition, Leaf
from refundrules.exceptions import EngineError

__all__ = ["DEFAULT_CACHE_SIZE", "FiringCache", "SignaturePlan"]

DEFAULT_CACHE_SIZE = 4096

_NUMBER_OPS = frozenset({"eq", "ne", "lt", "lte", "gt", "gte"})
_FLAG_OPS = frozenset({"eq", "ne"})
_TEXT_OPS = frozenset({"eq", "ne", "in", "not_in"})

_Kind = Literal["number", "flag", "text"]
# A signature part for a fact the case does not carry (durable never matches a missing field)
# and for a text no rule names: neither can collide with an interval index, a bool or a text.
_MISSING = ("missing",)
_OTHER = ("other",)

Signature = tuple[Any, ...]

# Python writes a float without an exponent (what durable can parse) exactly when it is 0 or
# within these bounds (see _engine._sendable).
_FLOAT_FLOOR, _FLOAT_LIMIT = 1e-4, 1e16
_PLAIN_NUMBERS = frozenset({int, float})
_BOOL = frozenset({bool})
_STR = frozenset({str})


@dataclass(frozen=True)
class _FactPlan:
    name: str
    kind: _Kind
    thresholds: tuple[float, ...] = ()  # number facts: the sorted distinct constants
    texts: frozenset[str] = frozenset()  # text facts: every constant a rule names


def _leaves(condition: Condition) -> Iterable[Leaf]:
    if isinstance(condition, Leaf):
        yield condition
        return
    assert isinstance(condition, AllOf | AnyOf)
    for child in condition.children:
        yield from _leaves(child)


def _leaf_kind(leaf: Leaf) -> _Kind | None:
    """What kind of comparison this leaf is, or None when it is not one the plan can take."""
    value = leaf.value
    if isinstance(value, tuple):
        ok = leaf.op in {"in", "not_in"} and all(type(item) is str for item in value)
        return "text" if ok else None
    if type(value) is bool:
        return "flag" if leaf.op in _FLAG_OPS else None
    if type(value) in (int, float):
        return "number" if leaf.op in _NUMBER_OPS else None
    if type(value) is str:
        return "text" if leaf.op in _TEXT_OPS - {"in", "not_in"} else None
    return None


@dataclass(frozen=True)
class SignaturePlan:
    """How to reduce a fact set to its signature, read from a rule set's conditions."""

    facts: tuple[_FactPlan, ...]

    @classmethod
    def of(cls, conditions: Sequence[Condition]) -> SignaturePlan | None:
        """The plan for these conditions, or None if any leaf is not a comparison of one fact
        with a constant of one type (then the rule set must run uncached)."""
        kinds: dict[str, _Kind] = {}
        constants: dict[str, set[Any]] = {}
        for condition in conditions:
            for leaf in _leaves(condition):
                kind = _leaf_kind(leaf)
                if kind is None or kinds.setdefault(leaf.fact, kind) != kind:
                    return None
                values = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
                constants.setdefault(leaf.fact, set()).update(values)
        plans = []
        for name in sorted(kinds):
            kind = kinds[name]
            if kind == "number":
                plans.append(_FactPlan(name, kind, thresholds=tuple(sorted(constants[name]))))
            elif kind == "text":
                plans.append(_FactPlan(name, kind, texts=frozenset(constants[name])))
            else:
                plans.append(_FactPlan(name, kind))
        return cls(tuple(plans))

    def signature(self, facts: Mapping[str, Any]) -> Signature | None:
        """The signature of ``facts``, or None when the engine must see them: a fact no rule
        reads, or a value the engine would not compare as its rules do (another type; a
        float durable cannot parse, which the engine then refuses).

        The parts are grouped by kind (numbers, then flags, then texts, each in name order).
        A fact set with exactly the planned names and plain values takes a path that runs
        in C (``itemgetter``, ``bisect`` over ``map``); anything else the general one, which
        gives the same signature or None.
        """
        steps = self._steps
        if len(facts) == steps.count:
            try:
                numbers = steps.numbers(facts)
                flags = steps.flags(facts)
                texts = steps.texts(facts)
            except KeyError:
                pass
            else:
                if (
                    _PLAIN_NUMBERS.issuperset(map(type, numbers))
                    and _BOOL.issuperset(map(type, flags))
                    and _STR.issuperset(map(type, texts))
                    # max first: it is NaN or below the limit only if every other value is
                    # too, so isnan never meets an int too large for a float.
                    and max(map(abs, numbers), default=0.0) < _FLOAT_LIMIT
                    and not any(map(isnan, numbers))
                    and min(filter(None, map(abs, numbers)), default=1.0) >= _FLOAT_FLOOR
                ):
                    thresholds = steps.thresholds
                    return (
                        *map(
                            add,
                            map(bisect_left, thresholds, numbers),
                            map(bisect_right, thresholds, numbers),
                        ),
                        *flags,
                        *[
                            value if value in named else _OTHER
                            for value, named in zip(texts, steps.named, strict=True)
                        ],
                    )
        return self._general_signature(facts)

    def _general_signature(self, facts: Mapping[str, Any]) -> Signature | None:
        numbers: list[Any] = []
        flags: list[Any] = []
        texts: list[Any] = []
        present = 0
        for plan in self.facts:
            name, kind_name = plan.name, plan.kind
            parts = numbers if kind_name == "number" else flags if kind_name == "flag" else texts
            value = facts.get(name, _MISSING)
            if value is _MISSING:
                parts.append(_MISSING)
                continue
            present += 1
            kind = type(value)
            if kind_name == "number":
                if kind is float:
                    if not (value == 0.0 or _FLOAT_FLOOR <= abs(value) < _FLOAT_LIMIT):
                        return None  # NaN, infinities, exponent forms: the engine refuses them
                elif kind is not int:
                    return None
                # 2i: strictly below thresholds[i]; 2i+1: exactly on it (the thresholds are
                # distinct, so bisect_right - bisect_left is 1 exactly on one).
                thresholds = plan.thresholds
                parts.append(bisect_left(thresholds, value) + bisect_right(thresholds, value))
            elif kind_name == "flag":
                if kind is not bool:
                    return None
                parts.append(value)
            else:
                if kind is not str:
                    return None
                parts.append(value if value in plan.texts else _OTHER)
        if present != len(facts):
            return None  # facts no rule reads: the engine checks them
        return (*numbers, *flags, *texts)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(plan.name for plan in self.facts)

    @cached_property
    def _steps(self) -> _Steps:
        return _Steps(self.facts)


def _getter(names: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The values of ``names`` as a tuple (``itemgetter`` gives a bare value for one name)."""
    if not names:
        return lambda facts: ()
    if len(names) == 1:
        name = names[0]
        return lambda facts: (facts[name],)
    return itemgetter(*names)


class _Steps:
    """The plan's facts grouped by kind, with C-level getters for each group."""

    def __init__(self, facts: Sequence[_FactPlan]) -> None:
        self._facts = tuple(facts)
        numbers = [plan for plan in facts if plan.kind == "number"]
        texts = [plan for plan in facts if plan.kind == "text"]
        self.count = len(facts)
        self.numbers = _getter([plan.name for plan in numbers])
        self.flags = _getter([plan.name for plan in facts if plan.kind == "flag"])
        self.texts = _getter([plan.name for plan in texts])
        self.thresholds = tuple(plan.thresholds for plan in numbers)
        self.named = tuple(plan.texts for plan in texts)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Steps, (self._facts,))  # the getters are rebuilt, never pickled


class FiringCache:
    """A bounded, thread-safe LRU of firing sets (rule ids in agenda order) by signature.

    >>> plan = SignaturePlan.of([Leaf("n", "gte", 10.0, param=None, key_path=())])
    >>> cache = FiringCache(plan, size=2)
    >>> key = cache.signature({"n": 12.5})
    >>> cache.get(key) is None
    True
    >>> cache.put(key, ["big"])
    >>> cache.get(cache.signature({"n": 99.0})), cache.signature({"n": 10.0}) == key
    (('big',), False)
    """

    def __init__(self, plan: SignaturePlan, size: int = DEFAULT_CACHE_SIZE) -> None:
        if size < 1:
            raise EngineError(f"a firing cache holds at least 1 entry; got size={size}")
        self.plan = plan
        self.size = size
        self._entries: OrderedDict[Signature, tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def signature(self, facts: Mapping[str, Any]) -> Signature | None:
        return self.plan.signature(facts)

    def get(self, key: Signature) -> tuple[str, ...] | None:
        with self._lock:
            fired = self._entries.get(key)
            if fired is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return fired

    def put(self, key: Signature, fired: Sequence[str]) -> None:
        with self._lock:
            self._entries[key] = tuple(fired)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
