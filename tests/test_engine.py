from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundrules import EngineError
from refundrules._engine import CompiledRule, RuleEngine

RULES = [
    CompiledRule("small", 1, {"$lt": {"x": 10}}, paths=1, depth=1),
    CompiledRule("large", 2, {"$gte": {"x": 10}}, paths=1, depth=1),
]


def test_fire_returns_the_matching_rule_ids() -> None:
    engine = RuleEngine("unit", RULES)
    assert engine.fire({"x": 3.5}) == ["small"]
    assert engine.fire({"x": 10}) == ["large"]


@pytest.mark.parametrize("value", [1e-06, 1e20, float("nan"), float("inf"), None, [1], {"a": 1}])
def test_values_the_engine_would_misread_are_refused(value: object) -> None:
    engine = RuleEngine("unit", RULES)
    with pytest.raises(EngineError, match="cannot be sent"):
        engine.fire({"x": value})
    assert engine.fire({"x": 1.0}) == ["small"]


def test_reserved_field_names_are_refused() -> None:
    with pytest.raises(EngineError, match="reserved"):
        RuleEngine("unit", RULES).fire({"sid": "other", "x": 1})


def test_closed_engine_refuses_to_fire() -> None:
    engine = RuleEngine("unit", RULES)
    engine.close()
    with pytest.raises(EngineError, match="closed"):
        engine.fire({"x": 1})


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float_check_accepts_exactly_the_floats_written_without_exponent(value: float) -> None:
    from refundrules._engine import _check_engine_value

    plain = math.isfinite(value) and "e" not in repr(value)
    try:
        _check_engine_value("x", value, "unit")
        accepted = True
    except EngineError:
        accepted = False
    assert accepted == plain
