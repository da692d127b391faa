from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundrules._conditions import (
    AllOf,
    AnyOf,
    ConditionProblem,
    Leaf,
    check_condition,
    describe_leaf,
    holds,
    leaf_describer,
    leaf_test,
)
from refundrules._engine import path_count, to_durable
from refundrules._registry import installed_profiles

DECISION_FACTS = installed_profiles()["pinduoduo"].decision_facts

PARAMS = {"window": 48.0, "days": 7.0}
UNITS = {"window": "hours", "days": "days"}


def check(raw: object) -> AllOf | AnyOf | Leaf:
    return check_condition(
        raw, facts=DECISION_FACTS, parameters=PARAMS, key_path=("when",), units=UNITS
    )


def test_not_is_pushed_into_the_leaves() -> None:
    condition = check(
        {
            "not": {
                "all": [
                    {"fact": "seller_silence_hours", "lt": {"param": "window"}},
                    {"fact": "request_kind", "in": ["refund_only", "exchange"]},
                ]
            }
        }
    )
    assert isinstance(condition, AnyOf)
    assert [leaf.op for leaf in condition.children if isinstance(leaf, Leaf)] == ["gte", "not_in"]


def test_double_negation_is_the_identity() -> None:
    leaf = check({"not": {"not": {"fact": "buyer_escalated", "eq": True}}})
    assert isinstance(leaf, Leaf) and leaf.op == "eq" and leaf.value is True


def test_days_parameter_is_converted_to_an_hours_fact() -> None:
    leaf = check({"fact": "hours_since_seller_response", "gte": {"param": "days"}})
    assert isinstance(leaf, Leaf) and leaf.value == 168.0 and leaf.param_text == "7 days"


def test_in_compiles_to_an_or_of_equalities() -> None:
    leaf = check({"fact": "request_kind", "in": ["refund_only", "exchange"]})
    assert to_durable(leaf) == {
        "$or": [{"request_kind": "refund_only"}, {"request_kind": "exchange"}]
    }
    assert path_count(leaf) == 2


def test_path_count_multiplies_across_all() -> None:
    condition = check(
        {
            "all": [
                {"fact": "request_kind", "in": ["refund_only", "exchange"]},
                {
                    "any": [
                        {"fact": "goods_fresh", "eq": True},
                        {"fact": "goods_virtual", "eq": True},
                        {"fact": "goods_custom_made", "eq": True},
                    ]
                },
            ]
        }
    )
    assert path_count(condition) == 6


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"fact": "goods_fresh", "gt": True}, "takes 'eq' or 'ne'"),
        ({"fact": "request_kind", "lt": "exchange"}, "takes eq, ne, in or not_in"),
        ({"fact": "paid_amount", "in": [1]}, "takes eq, ne, lt"),
        ({"fact": "paid_amount", "gt": 49}, "numbers are parameters"),
        ({"fact": "paid_amount", "gt": True}, "numbers are parameters"),
        ({"fact": "paid_amount"}, "exactly one operator"),
        ({"all": []}, "non-empty list"),
        ({"all": [{"fact": "goods_fresh", "eq": True}], "any": []}, "stands alone"),
        ({"alll": []}, "unknown condition key"),
        ([], "a condition is a mapping"),
        ({"fact": "hours_since_request", "gte": {"param": "nope"}}, "unknown parameter"),
    ],
)
def test_bad_conditions_are_rejected(raw: object, message: str) -> None:
    with pytest.raises(ConditionProblem, match=message):
        check(raw)


def test_holds_evaluates_the_checked_tree() -> None:
    condition = check(
        {"any": [{"fact": "goods_fresh", "eq": True}, {"fact": "paid_amount", "gte": 1}]}
    )
    assert holds(condition, {"goods_fresh": False, "paid_amount": 1.0})
    assert not holds(condition, {"goods_fresh": False, "paid_amount": 0.5})


_DESCRIBED_VALUES = st.one_of(
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["none", "pending", "quality_problem"]),
)


@given(
    op=st.sampled_from(["eq", "ne", "lt", "lte", "gt", "gte"]),
    threshold=st.one_of(st.floats(0, 500, allow_nan=False), st.booleans(), st.just("pending")),
    param=st.sampled_from([None, "seller_response_window_hours"]),
    actual=_DESCRIBED_VALUES,
)
def test_leaf_describer_writes_what_describe_leaf_writes(
    op: str, threshold: object, param: str | None, actual: object
) -> None:
    leaf = Leaf("fact_x", op, threshold, param=param, key_path=(), param_text="48")
    facts = {"fact_x": actual}
    assert leaf_describer(leaf)(actual) == describe_leaf(leaf, facts)  # type: ignore[arg-type]
    try:
        expected = holds(leaf, facts)  # type: ignore[arg-type]
    except TypeError:
        return  # a text against a number: neither is asked on a checked pack
    assert leaf_test(leaf)(actual) == expected  # type: ignore[arg-type]
