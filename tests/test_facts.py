from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from refundrules import Case, CaseError
from refundrules._facts import derive_facts as _derive_facts
from refundrules._registry import installed_profiles

from .conftest import at

PROFILE = installed_profiles()["pinduoduo"]
DECISION_FACTS = PROFILE.decision_facts
CONSEQUENCE_FACTS = PROFILE.consequence_fact_specs

REQUEST = at("2025-03-03T10:00:00+08:00")


def derive_facts(case: Case, as_of: datetime) -> dict[str, bool | float | str]:
    return _derive_facts(PROFILE, case, as_of)


def test_every_declared_fact_is_derived_with_its_type(make_case: Callable[..., Case]) -> None:
    facts = derive_facts(make_case(), REQUEST + timedelta(hours=5))
    assert set(facts) == set(DECISION_FACTS)
    python_type = {"boolean": bool, "number": float, "text": str}
    for name, spec in DECISION_FACTS.items():
        assert type(facts[name]) is python_type[spec.kind], name
        if spec.kind == "text":
            assert facts[name] in spec.values, name


def test_consequence_facts_are_declared_with_types() -> None:
    assert {"penalty_points_total", "resolution", "decided_against_seller"} <= set(
        CONSEQUENCE_FACTS
    )


def test_seller_silence_counts_to_as_of_until_a_response(make_case: Callable[..., Case]) -> None:
    silent = derive_facts(make_case(), REQUEST + timedelta(hours=48))
    assert silent["seller_silence_hours"] == 48.0 and silent["seller_response"] == "none"
    responded = make_case(
        timeline=[{"at": "2025-03-03T20:00:00+08:00", "actor": "seller", "kind": "seller_agreed"}]
    )
    facts = derive_facts(responded, REQUEST + timedelta(days=5))
    assert facts["seller_silence_hours"] == 10.0 and facts["seller_response"] == "agreed"


def test_events_after_as_of_have_not_happened_yet(make_case: Callable[..., Case]) -> None:
    case = make_case(
        timeline=[
            {
                "at": "2025-03-04T10:00:00+08:00",
                "actor": "seller",
                "kind": "seller_refused",
                "refusal_reason": "package_opened",
            }
        ]
    )
    before = derive_facts(case, at("2025-03-04T09:59:59+08:00"))
    after = derive_facts(case, at("2025-03-04T10:00:00+08:00"))
    assert (before["seller_response"], before["disagreement"]) == ("none", False)
    assert (after["seller_response"], after["disagreement"]) == ("refused", True)
    assert after["seller_refusal_reason"] == "package_opened"


def test_same_instant_in_another_timezone_gives_the_same_facts(
    make_case: Callable[..., Case],
) -> None:
    moment = REQUEST + timedelta(hours=30)
    case = make_case()
    assert derive_facts(case, moment) == derive_facts(case, moment.astimezone(tz=None))


def test_as_of_before_the_request_is_a_case_error(make_case: Callable[..., Case]) -> None:
    with pytest.raises(CaseError) as info:
        derive_facts(make_case(), REQUEST - timedelta(seconds=1))
    assert info.value.field == "as_of"


def test_naive_as_of_is_a_case_error(make_case: Callable[..., Case]) -> None:
    with pytest.raises(CaseError, match="timezone"):
        derive_facts(make_case(), datetime(2025, 3, 4, 10))


def test_offer_status_follows_the_latest_offer(make_case: Callable[..., Case]) -> None:
    case = make_case(
        timeline=[
            {
                "at": "2025-03-03T11:00:00+08:00",
                "actor": "seller",
                "kind": "seller_offered_partial_refund",
                "amount": "30",
            },
            {"at": "2025-03-03T12:00:00+08:00", "actor": "buyer", "kind": "buyer_rejected_offer"},
            {
                "at": "2025-03-03T13:00:00+08:00",
                "actor": "seller",
                "kind": "seller_offered_partial_refund",
                "amount": "60",
            },
        ]
    )
    facts = derive_facts(case, at("2025-03-03T14:00:00+08:00"))
    assert facts["offer_status"] == "pending"
    assert facts["offered_share"] == 0.5
    assert facts["hours_since_offer"] == 1.0


def test_unshipped_order_has_no_pickup_gap(make_case: Callable[..., Case]) -> None:
    case = make_case(
        order__shipped_at=None,
        order__delivered_at=None,
        logistics={"status": "not_shipped"},
    )
    facts = derive_facts(case, REQUEST + timedelta(hours=1))
    assert facts["hours_without_carrier_pickup"] == 0.0
    assert facts["shipping_delay_hours"] == 49.0
