from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundrules import Case, EngineError
from refundrules._conditions import Leaf, check_condition, holds
from refundrules._engine import (
    CASE_KIND,
    NUMBER_DECIMALS,
    EngineRule,
    RuleCompileError,
    RuleEngine,
    _check_engine_value,
    engine_number,
    to_durable,
)
from refundrules._facts import DECISION_FACTS, derive_facts

RULES = [
    EngineRule("small", 1, Leaf("x", "lt", 10, param=None, key_path=())),
    EngineRule("large", 2, Leaf("x", "gte", 10, param=None, key_path=())),
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


# --- the seam: our condition trees in, durable stays inside ----------------------------------

SRC = Path(__file__).resolve().parents[1] / "src" / "refundrules"
DURABLE_IMPORT = re.compile(r"^\s*(?:import|from)\s+durable(?:_rules_engine)?\b", re.M)
# durable's JSON operators (our YAML says `ne`, durable says `$neq`) and the compiled form.
DURABLE_FORM = re.compile(r"""["']\$(?:and|or|neq|lt|lte|gt|gte|ex|nex|kind)["']|to_durable""")


def test_only_the_engine_module_imports_durable() -> None:
    importers = sorted(
        path.name for path in SRC.rglob("*.py") if DURABLE_IMPORT.search(path.read_text("utf-8"))
    )
    assert importers == ["_engine.py"]


def test_durable_json_form_stays_in_the_engine_module() -> None:
    leaking = sorted(
        path.name
        for path in SRC.rglob("*.py")
        if path.name != "_engine.py" and DURABLE_FORM.search(path.read_text("utf-8"))
    )
    assert leaking == []


def test_engine_takes_checked_condition_trees() -> None:
    """The engine compiles what ``check_condition`` returns: the registered definition is the
    discriminator ANDed with the tree's durable form, and what fires agrees with ``holds``."""
    condition = check_condition(
        {
            "all": [
                {"fact": "request_kind", "in": ["refund_only", "return_and_refund"]},
                {"not": {"fact": "buyer_escalated", "eq": True}},
                {"fact": "paid_amount", "lte": {"param": "low"}},
            ]
        },
        facts=DECISION_FACTS,
        parameters={"low": 50.0},
        key_path=("when",),
    )
    engine = RuleEngine("trees", [EngineRule("cheap_calm", 0, condition)])
    try:
        host = engine._host
        assert host is not None
        definition = host._ruleset_directory[engine._names[0]].get_definition()
        assert definition["cheap_calm"]["all"][0]["m"] == {
            "$and": [{"$kind": CASE_KIND}, to_durable(condition)]
        }
        for kind, escalated, paid in itertools.product(
            ("refund_only", "exchange"), (True, False), (49.99, 50.0, 50.01)
        ):
            facts = {"request_kind": kind, "buyer_escalated": escalated, "paid_amount": paid}
            assert engine.fire(facts) == (["cheap_calm"] if holds(condition, facts) else [])
    finally:
        engine.close()


@pytest.mark.parametrize("value", [1e20, float("inf"), float("nan"), 2.4000000000000004, 1e-05])
def test_threshold_the_engine_would_misread_is_refused_naming_the_rule(value: float) -> None:
    rule = EngineRule("odd_threshold", 0, Leaf("x", "gte", value, param=None, key_path=()))
    with pytest.raises(RuleCompileError, match="odd_threshold") as caught:
        RuleEngine("thresholds", [rule])
    assert caught.value.rule_id == "odd_threshold"


# --- one number form --------------------------------------------------------------------------


@given(st.floats(min_value=-1e15, max_value=1e15))
def test_engine_number_is_sendable_and_idempotent(value: float) -> None:
    number = engine_number(value)
    _check_engine_value("x", number, "unit")  # no exponent form, ever
    assert engine_number(number) == number
    assert abs(number - value) <= 0.5 * 10**-NUMBER_DECIMALS + 1e-9 * abs(value)


@pytest.mark.parametrize(
    ("days", "hours"),
    [(0.1, 2.4), (1 / 3, 8.0), (0.333333, 8.0), (0.5, 12.0), (2.0, 48.0)],
)
@pytest.mark.parametrize("op", ["gte", "lt"])
def test_facts_meet_thresholds_at_the_boundary(
    make_case: Callable[..., Case], days: float, hours: float, op: str
) -> None:
    """A time parameter in days compiled against an hours fact is in the engine's number
    form, as the fact is: at the parameter's moment the fact equals the threshold, and the
    engine and the explainer (``holds``) agree one second either side of it too.

    0.1 days is 2.4000000000000004 hours in floating point; compared unrounded, a case at
    exactly 0.1 days would not have reached 0.1 days."""
    condition = check_condition(
        {"fact": "hours_since_request", op: {"param": "window"}},
        facts=DECISION_FACTS,
        parameters={"window": days},
        units={"window": "days"},
        key_path=("when",),
    )
    assert isinstance(condition, Leaf) and condition.value == hours
    case = make_case()
    moment = case.request.requested_at + timedelta(days=days)
    engine = RuleEngine("boundary", [EngineRule("window", 0, condition)])
    try:
        for offset, reached in ((-1, False), (0, True), (1, True)):
            facts = derive_facts(case, moment + timedelta(seconds=offset))
            expected = reached if op == "gte" else not reached
            assert holds(condition, facts) is expected, (offset, facts["hours_since_request"])
            fired = engine.fire({"hours_since_request": facts["hours_since_request"]})
            assert fired == (["window"] if expected else []), offset
    finally:
        engine.close()


def test_derive_facts_uses_the_engine_number_form(make_case: Callable[..., Case]) -> None:
    case = make_case()
    facts = derive_facts(case, case.request.requested_at + timedelta(seconds=1))
    numbers = [value for value in facts.values() if type(value) is float]
    assert numbers and all(engine_number(value) == value for value in numbers)
    assert facts["hours_since_request"] == engine_number(1 / 3600) == 0.0003
