from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from refundrules import Case, CaseError, EventKind, load_case


def errors_of(data: dict[str, Any]) -> dict[str, str]:
    """The problems of ``data`` checked as a case of its (installed) platform."""
    with pytest.raises(CaseError) as info:
        load_case(data)
    return dict(info.value.errors)


def test_valid_case_loads_with_defaults(case_data: dict[str, Any]) -> None:
    case = Case.model_validate(case_data)
    assert case.buyer.account_age_days == 365
    assert case.timeline == ()


def test_naive_datetime_is_rejected_naming_the_field(case_data: dict[str, Any]) -> None:
    case_data["order"]["paid_at"] = "2025-03-01T10:00:00"
    problems = errors_of(case_data)
    assert "timezone" in problems["order.paid_at"]


def test_requested_amount_above_paid_is_rejected(case_data: dict[str, Any]) -> None:
    case_data["request"]["amount"] = "120.01"
    assert "above the paid amount" in errors_of(case_data)["request.amount"]


def test_seller_response_before_request_is_rejected(case_data: dict[str, Any]) -> None:
    case_data["timeline"] = [
        {"at": "2025-03-03T09:59:59+08:00", "actor": "seller", "kind": "seller_agreed"}
    ]
    assert "before the request" in errors_of(case_data)["timeline[0].at"]


def test_unknown_enum_value_lists_the_allowed_values(case_data: dict[str, Any]) -> None:
    case_data["request"]["kind"] = "refund_onli"
    message = errors_of(case_data)["request.kind"]
    assert "'refund_only'" in message and "'return_and_refund'" in message


def test_unknown_field_suggests_the_right_name(case_data: dict[str, Any]) -> None:
    case_data["order"]["paid_amont"] = "1"
    assert "did you mean 'paid_amount'" in errors_of(case_data)["order.paid_amont"]


def test_event_by_the_wrong_party_is_rejected(case_data: dict[str, Any]) -> None:
    case_data["timeline"] = [
        {"at": "2025-03-03T11:00:00+08:00", "actor": "buyer", "kind": "seller_refused"}
    ]
    assert "done by seller" in errors_of(case_data)["timeline[0]"]


def test_refusal_needs_a_reason(case_data: dict[str, Any]) -> None:
    case_data["timeline"] = [
        {"at": "2025-03-03T11:00:00+08:00", "actor": "seller", "kind": "seller_refused"}
    ]
    assert "refusal_reason" in errors_of(case_data)["timeline[0]"]


def test_ruling_without_escalation_is_impossible(case_data: dict[str, Any]) -> None:
    case_data["timeline"] = [
        {
            "at": "2025-03-04T11:00:00+08:00",
            "actor": "platform",
            "kind": "platform_ruled",
            "ruling": "full_refund",
        }
    ]
    assert "buyer_escalated" in errors_of(case_data)["timeline[0].kind"]


def test_return_events_are_impossible_on_refund_only(case_data: dict[str, Any]) -> None:
    case_data["timeline"] = [
        {"at": "2025-03-04T11:00:00+08:00", "actor": "buyer", "kind": "buyer_shipped_return"}
    ]
    assert "refund-only" in errors_of(case_data)["timeline[0].kind"]


def test_delivered_status_needs_delivery_time(case_data: dict[str, Any]) -> None:
    del case_data["order"]["delivered_at"]
    assert "order.delivered_at" in errors_of(case_data)


def test_every_problem_is_reported_at_once(case_data: dict[str, Any]) -> None:
    case_data["request"]["amount"] = "999"
    case_data["order"]["shipped_at"] = "2025-02-01T10:00:00+08:00"
    assert {"request.amount", "order.shipped_at"} <= set(errors_of(case_data))


def test_timeline_in_any_order_is_sorted_by_time(case_data: dict[str, Any]) -> None:
    case_data["request"]["kind"] = "return_and_refund"
    case_data["timeline"] = [
        {"at": "2025-03-05T11:00:00+08:00", "actor": "buyer", "kind": "buyer_shipped_return"},
        {"at": "2025-03-03T11:00:00+08:00", "actor": "seller", "kind": "seller_agreed"},
    ]
    case = Case.model_validate(case_data)
    assert [event.kind for event in case.timeline] == [
        EventKind.SELLER_AGREED,
        EventKind.BUYER_SHIPPED_RETURN,
    ]


def test_constructor_raises_case_error_too(case_data: dict[str, Any]) -> None:
    case_data["platform"] = "Amazon Marketplace"  # not an identifier
    with pytest.raises(CaseError) as info:
        Case(**case_data)
    assert info.value.field == "platform"


def test_case_is_frozen(case_data: dict[str, Any]) -> None:
    case = Case.model_validate(case_data)
    with pytest.raises(Exception, match="frozen"):
        case.case_id = "other"  # type: ignore[misc]


def test_load_case_reports_file_and_syntax(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("order: [unclosed\n", encoding="utf-8")
    with pytest.raises(CaseError) as info:
        load_case(bad)
    assert str(bad) in str(info.value) and "malformed YAML" in str(info.value)


def test_load_case_missing_file_is_a_case_error(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match="cannot read"):
        load_case(tmp_path / "missing.yaml")


def test_json_round_trip(case_data: dict[str, Any]) -> None:
    case = Case.model_validate(case_data)
    assert Case.model_validate_json(case.model_dump_json()) == case


def test_misspelt_enum_value_gets_a_suggestion(case_data: dict[str, Any]) -> None:
    case_data["request"]["reason"] = "quality_problm"
    assert "did you mean 'quality_problem'" in errors_of(case_data)["request.reason"]


def test_zero_refund_request_is_rejected(case_data: dict[str, Any]) -> None:
    case_data["request"]["amount"] = "0"
    assert "request.amount" in errors_of(case_data)
