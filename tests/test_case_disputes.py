"""The case model says what real disputes contain (issue 7): each field validated, each
contradiction refused with the field named, and the facts the profile derives from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from refundrules import Case, CaseError, load_case
from refundrules._facts import derive_facts
from refundrules._registry import installed_profiles

from .conftest import at

PROFILE = installed_profiles()["pinduoduo"]


def errors_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(CaseError) as info:
        load_case(data)
    return dict(info.value.errors)


def facts_of(data: dict[str, Any], as_of: str = "2025-03-10T10:00:00+08:00") -> dict[str, Any]:
    return derive_facts(PROFILE, load_case(data), datetime.fromisoformat(as_of))


def event(when: str, actor: str, kind: str, **details: Any) -> dict[str, Any]:
    return {"at": f"2025-03-{when}+08:00", "actor": actor, "kind": kind, **details}


# --- a request that changes kind -----------------------------------------------------------


def test_a_change_of_kind_makes_return_events_possible(case_data: dict[str, Any]) -> None:
    case_data["timeline"] = [
        event("04T09:00:00", "buyer", "buyer_changed_request", request_kind="return_and_refund"),
        event("05T09:00:00", "buyer", "buyer_shipped_return"),
    ]
    case = load_case(case_data)
    assert case.request_kind_at(at("2025-03-04T08:00:00+08:00")) == "refund_only"
    assert case.request_kind_at(at("2025-03-04T09:00:00+08:00")) == "return_and_refund"
    facts = facts_of(case_data)
    assert facts["request_kind"] == "return_and_refund"
    assert facts["request_changed_kind"] is True
    assert facts["return_shipped"] is True


def test_return_before_the_change_of_kind_is_still_impossible(case_data: dict[str, Any]) -> None:
    case_data["timeline"] = [
        event("04T09:00:00", "buyer", "buyer_shipped_return"),
        event("05T09:00:00", "buyer", "buyer_changed_request", request_kind="return_and_refund"),
    ]
    assert "refund-only" in errors_of(case_data)["timeline[0].kind"]


def test_a_change_to_the_same_kind_is_a_contradiction(case_data: dict[str, Any]) -> None:
    case_data["timeline"] = [
        event("04T09:00:00", "buyer", "buyer_changed_request", request_kind="refund_only")
    ]
    assert "already 'refund_only'" in errors_of(case_data)["timeline[0].request_kind"]


def test_a_change_needs_the_new_kind_and_a_known_one(case_data: dict[str, Any]) -> None:
    case_data["timeline"] = [event("04T09:00:00", "buyer", "buyer_changed_request")]
    assert "needs 'request_kind'" in errors_of(case_data)["timeline[0]"]
    case_data["timeline"] = [
        event("04T09:00:00", "buyer", "buyer_changed_request", request_kind="refund_twice")
    ]
    assert "unknown request kind" in errors_of(case_data)["timeline[0].request_kind"]


# --- re-applications -----------------------------------------------------------------------


def test_earlier_requests_count_the_ones_that_ended(case_data: dict[str, Any]) -> None:
    case_data["request"]["earlier_requests"] = [
        {
            "kind": "refund_only",
            "reason": "quality_problem",
            "requested_at": "2025-03-02T10:00:00+08:00",
            "outcome": "rejected",
        },
        {
            "kind": "refund_only",
            "reason": "changed_mind",
            "requested_at": "2025-03-02T12:00:00+08:00",
            "outcome": "cancelled",
        },
    ]
    assert facts_of(case_data)["earlier_requests_ended"] == 1.0


def test_an_earlier_request_after_this_one_is_refused(case_data: dict[str, Any]) -> None:
    case_data["request"]["earlier_requests"] = [
        {
            "kind": "refund_only",
            "reason": "quality_problem",
            "requested_at": "2025-03-05T10:00:00+08:00",
            "outcome": "rejected",
        }
    ]
    problems = errors_of(case_data)
    assert (
        "between the payment and this request"
        in problems["request.earlier_requests[0].requested_at"]
    )


def test_an_earlier_request_outcome_is_one_of_the_known(case_data: dict[str, Any]) -> None:
    case_data["request"]["earlier_requests"] = [
        {
            "kind": "refund_only",
            "reason": "quality_problem",
            "requested_at": "2025-03-02T10:00:00+08:00",
            "outcome": "won",
        }
    ]
    assert "request.earlier_requests[0].outcome" in errors_of(case_data)


# --- goods sent back, their condition, the seller's terms ------------------------------------


def test_goods_sent_back_under_refund_only_with_their_condition(
    case_data: dict[str, Any],
) -> None:
    case_data["order"]["return_terms"] = ["tags_intact", "unused"]
    case_data["timeline"] = [
        event("04T09:00:00", "buyer", "buyer_sent_goods_back", goods_condition="tags_removed")
    ]
    facts = facts_of(case_data)
    assert facts["goods_sent_back"] is True
    assert facts["returned_goods_condition"] == "tags_removed"
    assert facts["return_terms_declared"] == 2.0


def test_unknown_goods_condition_and_return_term_are_named(case_data: dict[str, Any]) -> None:
    case_data["order"]["return_terms"] = ["tags_intact", "no_returns_ever"]
    case_data["timeline"] = [
        event("04T09:00:00", "buyer", "buyer_sent_goods_back", goods_condition="sparkling")
    ]
    problems = errors_of(case_data)
    assert "unknown goods condition 'sparkling'" in problems["timeline[0].goods_condition"]
    assert "unknown return term 'no_returns_ever'" in problems["order.return_terms[1]"]


# --- compensation and the after-sales period -----------------------------------------------


def test_a_late_compensation_claim(case_data: dict[str, Any]) -> None:
    case_data["order"]["after_sales_days"] = 7
    case_data["request"]["requested_at"] = "2025-03-20T10:00:00+08:00"
    case_data["request"]["compensation"] = {"kind": "repair_cost", "amount": "300.00"}
    facts = facts_of(case_data, "2025-03-21T10:00:00+08:00")
    assert facts["compensation_claimed"] is True
    assert facts["compensation_amount"] == 300.0
    assert facts["after_sales_period_passed"] is True
    assert facts["days_from_delivery_to_request"] == pytest.approx(17.04, abs=0.01)


def test_within_the_period_or_without_one_the_period_has_not_passed(
    case_data: dict[str, Any],
) -> None:
    assert facts_of(case_data)["after_sales_period_passed"] is False  # no period given
    case_data["order"]["after_sales_days"] = 7
    facts = facts_of(case_data)
    assert facts["after_sales_period_passed"] is False
    assert facts["compensation_claimed"] is False
    assert facts["compensation_amount"] == 0.0


def test_compensation_needs_a_known_kind_and_an_amount(case_data: dict[str, Any]) -> None:
    case_data["request"]["compensation"] = {"kind": "repair_cost", "amount": "0"}
    assert "greater than 0" in errors_of(case_data)["request.compensation.amount"]
    case_data["request"]["compensation"] = {"kind": "emotional_damage", "amount": "10"}
    problems = errors_of(case_data)
    assert "unknown compensation kind" in problems["request.compensation.kind"]


def test_after_sales_days_is_a_whole_number_of_days(case_data: dict[str, Any]) -> None:
    case_data["order"]["after_sales_days"] = -1
    assert "order.after_sales_days" in errors_of(case_data)


# --- the parcel ----------------------------------------------------------------------------


def test_shared_and_short_parcels(case_data: dict[str, Any]) -> None:
    case_data["logistics"].update(shared_with_other_orders=True, contents_short=True)
    facts = facts_of(case_data)
    assert facts["parcel_shared_with_other_orders"] is True
    assert facts["parcel_contents_short"] is True


def test_short_contents_need_a_delivery_and_sharing_a_shipment(
    case_data: dict[str, Any],
) -> None:
    case_data["order"] = {
        "order_id": "o-1",
        "paid_amount": "120.00",
        "paid_at": "2025-03-01T10:00:00+08:00",
    }
    case_data["logistics"] = {
        "status": "not_shipped",
        "shared_with_other_orders": True,
        "contents_short": True,
    }
    problems = errors_of(case_data)
    assert "needs a shipped order" in problems["logistics.shared_with_other_orders"]
    assert "found on delivery" in problems["logistics.contents_short"]


# --- the seller cancels or leaves, the platform steps in -----------------------------------


def test_seller_cancelling_and_leaving(case_data: dict[str, Any]) -> None:
    case_data["store"]["left_platform"] = True
    case_data["timeline"] = [event("04T09:00:00", "seller", "seller_cancelled_order")]
    facts = facts_of(case_data)
    assert facts["seller_cancelled_order"] is True
    assert facts["store_left_platform"] is True
    case_data["timeline"] = [event("04T09:00:00", "buyer", "seller_cancelled_order")]
    assert "done by seller" in errors_of(case_data)["timeline[0]"]


def test_the_platform_may_rule_after_stepping_in_on_its_own(case_data: dict[str, Any]) -> None:
    case_data["timeline"] = [
        event("04T09:00:00", "platform", "platform_intervened"),
        event("05T09:00:00", "platform", "platform_ruled", ruling="partial_refund"),
    ]
    facts = facts_of(case_data)
    assert facts["platform_intervened"] is True
    assert facts["buyer_escalated"] is True  # stepping in counts as an escalation
    assert facts["platform_ruling"] == "partial_refund"


def test_instant_refund_is_done_by_the_platform(case_data: dict[str, Any]) -> None:
    case_data["timeline"] = [event("03T10:05:00", "system", "platform_instant_refund")]
    assert facts_of(case_data)["instant_refund"] is True
    case_data["timeline"] = [event("03T10:05:00", "seller", "platform_instant_refund")]
    assert "platform_instant_refund" in errors_of(case_data)["timeline[0]"]


# --- reasons and old files -----------------------------------------------------------------


@pytest.mark.parametrize("reason", ["wrong_size", "counterfeit"])
def test_new_reasons_are_core_vocabulary(case_data: dict[str, Any], reason: str) -> None:
    case_data["request"]["reason"] = reason
    assert facts_of(case_data)["request_reason"] == reason


def test_a_case_without_the_new_fields_reads_as_before(case_data: dict[str, Any]) -> None:
    case = Case.model_validate(case_data)
    assert case.request.earlier_requests == ()
    assert case.request.compensation is None
    assert case.order.return_terms == ()
    assert not case.logistics.shared_with_other_orders
    assert not case.store.left_platform
    facts = facts_of(case_data)
    assert facts["earlier_requests_ended"] == 0.0
    assert facts["returned_goods_condition"] == "none"
    assert facts["request_changed_kind"] is False
