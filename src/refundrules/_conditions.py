"""Rule conditions: check them against the declared facts and explain them.

A condition in YAML is a tree of ``all`` / ``any`` / ``not`` over leaves such as
``{fact: seller_silence_hours, gte: {param: seller_response_window_hours}}``. Parameters are
resolved to numbers at load time. ``not`` is pushed down to the leaves (``not lt`` is ``gte``),
which is sound because every fact is always present and typed.

Checked trees are what the engine takes (``refundrules._engine`` compiles them for
durable-rules). ``holds`` evaluates a checked condition in Python. It is used only to
*explain* why a rule fired (which leaves held, with the values); durable-rules decides what
fires, and a property test checks that the two agree. Thresholds are kept in the engine's
number form (``_engine.engine_number``), the form facts take too, so both compare the same
numbers: 0.1 days on an hours fact is 2.4, not 2.4000000000000004.

>>> from refundrules._registry import installed_profiles
>>> facts = installed_profiles()["pinduoduo"].decision_facts
>>> cond = check_condition({"all": [{"fact": "order_shipped", "eq": False},
...                                 {"not": {"fact": "buyer_escalated", "eq": True}}]},
...                        facts=facts, parameters={}, key_path=("when",))
>>> [(leaf.fact, leaf.op, leaf.value) for leaf in cond.children]
[('order_shipped', 'eq', False), ('buyer_escalated', 'ne', True)]
>>> holds(cond, {"order_shipped": False, "buyer_escalated": False})
True
>>> leaf = check_condition({"fact": "seller_silence_hours", "gte": {"param": "window"}},
...                        facts=facts, parameters={"window": 0.1},
...                        units={"window": "days"}, key_path=("when",))
>>> leaf.value
2.4
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from refundrules._condition_tree import AllOf, AnyOf, Condition, Leaf
from refundrules._engine import engine_number
from refundrules._fact_spec import FactSpec, FactValue
from refundrules._yaml import KeyPath

__all__ = [
    "AllOf",
    "AnyOf",
    "Condition",
    "ConditionProblem",
    "Leaf",
    "check_condition",
    "closeness",
    "describe_leaf",
    "holds",
    "leaf_describer",
    "leaf_test",
    "referenced_facts",
    "satisfied_leaves",
]

OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in")
_NEGATION = {
    "eq": "ne",
    "ne": "eq",
    "lt": "gte",
    "gte": "lt",
    "lte": "gt",
    "gt": "lte",
    "in": "not_in",
    "not_in": "in",
}
_SYMBOL = {
    "eq": "=",
    "ne": "≠",
    "lt": "<",
    "lte": "≤",
    "gt": ">",
    "gte": "≥",
    "in": "∈",
    "not_in": "∉",
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: bool(a == b),
    "ne": lambda a, b: bool(a != b),
    "lt": lambda a, b: bool(a < b),
    "lte": lambda a, b: bool(a <= b),
    "gt": lambda a, b: bool(a > b),
    "gte": lambda a, b: bool(a >= b),
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
}
# Numbers in conditions must be named parameters (with a source); these two are structural.
_STRUCTURAL_NUMBERS = (0, 1)


class ConditionProblem(Exception):
    """Raised by :func:`check_condition`; the loader adds the file and line."""

    def __init__(self, message: str, key_path: KeyPath, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key_path = key_path
        self.hint = hint


def _did_you_mean(word: str, choices: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def check_condition(
    raw: Any,
    *,
    facts: Mapping[str, FactSpec],
    parameters: Mapping[str, float],
    key_path: KeyPath,
    negate: bool = False,
    units: Mapping[str, str] | None = None,
) -> Condition:
    """Validate ``raw`` and return the checked tree with ``not`` pushed into the leaves."""
    if not isinstance(raw, Mapping) or not raw:
        raise ConditionProblem(
            "a condition is a mapping: {all: [...]}, {any: [...]}, "
            "{not: ...} or {fact: NAME, OP: VALUE}",
            key_path,
        )
    keys = set(raw)
    for combinator in ("all", "any"):
        if combinator in keys:
            if keys != {combinator}:
                raise ConditionProblem(
                    f"'{combinator}' stands alone in its mapping; "
                    f"got also {sorted(keys - {combinator})}",
                    key_path,
                )
            items = raw[combinator]
            if not isinstance(items, list) or not items:
                raise ConditionProblem(f"'{combinator}' takes a non-empty list", key_path)
            children = tuple(
                check_condition(
                    item,
                    facts=facts,
                    parameters=parameters,
                    key_path=(*key_path, combinator, index),
                    negate=negate,
                    units=units,
                )
                for index, item in enumerate(items)
            )
            conjunction = (combinator == "all") != negate
            if len(children) == 1:
                return children[0]
            return AllOf(children) if conjunction else AnyOf(children)
    if "not" in keys:
        if keys != {"not"}:
            raise ConditionProblem("'not' stands alone in its mapping", key_path)
        return check_condition(
            raw["not"],
            facts=facts,
            parameters=parameters,
            key_path=(*key_path, "not"),
            negate=not negate,
            units=units,
        )
    if "fact" not in keys:
        unknown = sorted(keys)
        hint = _did_you_mean(unknown[0], ["all", "any", "not", "fact"]) if unknown else None
        raise ConditionProblem(f"unknown condition key(s) {unknown}", key_path, hint)
    return _check_leaf(raw, facts, parameters, key_path, negate, units or {})


# Time parameters may be in hours or days whatever the fact's unit: convert to the fact's.
_TIME_FACTOR = {
    ("hours", "days"): 24.0,
    ("days", "hours"): 1 / 24.0,
    ("hours", "hours"): 1.0,
    ("days", "days"): 1.0,
}


def _param_value(
    spec: FactSpec, param: str, value: float, unit: str | None, key_path: KeyPath
) -> float:
    """The parameter's value in the fact's unit (a time parameter in days vs an hours fact)."""
    if unit is None:  # no unit information (direct use of check_condition)
        return value
    if spec.unit in ("hours", "days") or unit in ("hours", "days"):
        factor = _TIME_FACTOR.get((str(spec.unit), str(unit)))
        if factor is None:
            raise ConditionProblem(
                f"fact {spec.name!r} is in {spec.unit or 'no unit'} but "
                f"parameter {param!r} is in {unit}",
                key_path,
            )
        return value * factor
    # Unit-less facts (counts, shares, scores) take count or ratio parameters.
    compatible = (spec.unit,) if spec.unit is not None else ("count", "ratio")
    if unit not in compatible:
        raise ConditionProblem(
            f"fact {spec.name!r} is in {spec.unit or 'no unit'} but parameter {param!r} "
            f"is in {unit}",
            key_path,
        )
    return value


def _check_leaf(
    raw: Mapping[str, Any],
    facts: Mapping[str, FactSpec],
    parameters: Mapping[str, float],
    key_path: KeyPath,
    negate: bool,
    units: Mapping[str, str],
) -> Leaf:
    name = raw["fact"]
    if not isinstance(name, str) or name not in facts:
        raise ConditionProblem(
            f"unknown fact {name!r}", (*key_path, "fact"), _did_you_mean(str(name), sorted(facts))
        )
    spec = facts[name]
    ops = [key for key in raw if key != "fact"]
    if len(ops) != 1 or ops[0] not in OPERATORS:
        bad = [op for op in ops if op not in OPERATORS]
        hint = _did_you_mean(bad[0], OPERATORS) if bad else None
        raise ConditionProblem(
            f"a leaf has exactly one operator out of {list(OPERATORS)}; got {ops}", key_path, hint
        )
    op = ops[0]
    operand = raw[op]
    value_path = (*key_path, op)
    param: str | None = None
    param_text: str | None = None
    value: FactValue | tuple[str, ...]
    if spec.kind == "boolean":
        if op not in ("eq", "ne") or not isinstance(operand, bool):
            raise ConditionProblem(
                f"boolean fact {name!r} takes 'eq' or 'ne' with true/false", value_path
            )
        value = operand
    elif spec.kind == "text":
        if op in ("in", "not_in"):
            if not isinstance(operand, list) or not operand:
                raise ConditionProblem(f"'{op}' takes a non-empty list", value_path)
            for index, item in enumerate(operand):
                _check_text_value(spec, item, (*value_path, index))
            value = tuple(operand)
        elif op in ("eq", "ne"):
            _check_text_value(spec, operand, value_path)
            value = operand
        else:
            raise ConditionProblem(
                f"text fact {name!r} takes eq, ne, in or not_in; got {op!r}", value_path
            )
    else:
        if op in ("in", "not_in"):
            raise ConditionProblem(
                f"number fact {name!r} takes eq, ne, lt, lte, gt or gte", value_path
            )
        if isinstance(operand, Mapping) and set(operand) == {"param"}:
            param = str(operand["param"])
            if param not in parameters:
                raise ConditionProblem(
                    f"unknown parameter {param!r}",
                    (*value_path, "param"),
                    _did_you_mean(param, sorted(parameters)),
                )
            # Imported here because the engine imports this module for the trees it compiles.

            # The threshold in the form facts take, so the engine and `holds` compare alike.
            value = engine_number(
                _param_value(
                    spec, param, float(parameters[param]), units.get(param), (*value_path, "param")
                )
            )
            unit = units.get(param)
            shown_unit = f" {unit}" if unit in ("hours", "days", "points") else ""
            param_text = f"{float(parameters[param]):g}{shown_unit}"
        elif (
            isinstance(operand, int | float)
            and not isinstance(operand, bool)
            and operand in _STRUCTURAL_NUMBERS
        ):
            value = float(operand)
        else:
            raise ConditionProblem(
                f"number fact {name!r} is compared with {{param: NAME}} (numbers are parameters "
                f"with a source) or with 0 or 1; got {operand!r}",
                value_path,
            )
    if negate:
        op = _NEGATION[op]
    return Leaf(
        fact=name, op=op, value=value, param=param, key_path=key_path, param_text=param_text
    )


def _check_text_value(spec: FactSpec, value: Any, key_path: KeyPath) -> None:
    if not isinstance(value, str) or value not in spec.values:
        raise ConditionProblem(
            f"{value!r} is not a value of {spec.name!r} (allowed: {', '.join(spec.values)})",
            key_path,
            _did_you_mean(str(value), spec.values),
        )


def referenced_facts(condition: Condition) -> set[str]:
    if isinstance(condition, Leaf):
        return {condition.fact}
    found: set[str] = set()
    for child in condition.children:
        found |= referenced_facts(child)
    return found


def _leaf_holds(leaf: Leaf, facts: Mapping[str, FactValue]) -> bool:
    return _COMPARE[leaf.op](facts[leaf.fact], leaf.value)


def holds(condition: Condition, facts: Mapping[str, FactValue]) -> bool:
    """Evaluate ``condition`` on ``facts`` (for explanations only; the engine decides)."""
    if isinstance(condition, Leaf):
        return _leaf_holds(condition, facts)
    if isinstance(condition, AllOf):
        return all(holds(child, facts) for child in condition.children)
    return any(holds(child, facts) for child in condition.children)


def satisfied_leaves(condition: Condition, facts: Mapping[str, FactValue]) -> list[Leaf]:
    """The leaves that make ``condition`` true: all of an ``all``, the first true ``any`` branch."""
    if isinstance(condition, Leaf):
        return [condition] if _leaf_holds(condition, facts) else []
    if isinstance(condition, AllOf):
        return [leaf for child in condition.children for leaf in satisfied_leaves(child, facts)]
    for child in condition.children:
        if holds(child, facts):
            return satisfied_leaves(child, facts)
    return []


def closeness(condition: Condition, facts: Mapping[str, FactValue]) -> float:
    """How nearly ``condition`` holds, 0..1: the share of leaves that hold on the best path.

    A search heuristic for test tooling (guiding Hypothesis toward a rule), never a verdict.
    """
    if isinstance(condition, Leaf):
        return 1.0 if _leaf_holds(condition, facts) else 0.0
    scores = [closeness(child, facts) for child in condition.children]
    if isinstance(condition, AllOf):
        return sum(scores) / len(scores)
    return max(scores)


def _show(value: FactValue | tuple[str, ...]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "{" + ", ".join(value) + "}"
    return str(value)


def leaf_test(leaf: Leaf) -> Callable[[FactValue], bool]:
    """Whether a fact value meets ``leaf``, the operator looked up once (as ``holds`` tests)."""
    compare, value = _COMPARE[leaf.op], leaf.value
    return lambda actual: compare(actual, value)


def leaf_describer(leaf: Leaf) -> Callable[[FactValue], str]:
    """:func:`describe_leaf` for one leaf with its fixed parts written once: the same text for
    every fact value (tests/test_conditions.py)."""
    threshold = f"{leaf.param} ({leaf.param_text})" if leaf.param else _show(leaf.value)
    is_ = f"{leaf.fact} is "
    head = f"{leaf.fact} = "
    tail = "" if leaf.op == "eq" and leaf.param is None else f" {_SYMBOL[leaf.op]} {threshold}"

    def describe(actual: FactValue) -> str:
        if isinstance(actual, bool):
            return is_ + ("true" if actual else "false")
        return head + _show(actual) + tail

    return describe


def describe_leaf(leaf: Leaf, facts: Mapping[str, FactValue]) -> str:
    """E.g. ``seller_silence_hours = 52 ≥ seller_response_window_hours (48)``."""
    actual = facts[leaf.fact]
    threshold = f"{leaf.param} ({leaf.param_text})" if leaf.param else _show(leaf.value)
    if isinstance(actual, bool):
        return f"{leaf.fact} is {_show(actual)}"
    if leaf.op == "eq" and leaf.param is None:
        return f"{leaf.fact} = {_show(actual)}"
    return f"{leaf.fact} = {_show(actual)} {_SYMBOL[leaf.op]} {threshold}"
