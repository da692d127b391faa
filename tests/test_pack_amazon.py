"""The Amazon A-to-z pack predicts its example cases from the command line: stage, resolution,
deadlines counted in US business days across a weekend and a public holiday, currencies per
case, and reasons that cite sources."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import refundrules
from refundrules._cli import main

from .conftest import ROOT

EXAMPLES = ROOT / "examples" / "amazon"
AS_OF: dict[str, str] = json.loads((EXAMPLES / "as_of.json").read_text("utf-8"))
PACIFIC = ZoneInfo("America/Los_Angeles")

# name -> (stage, resolution, currency, {deadline id: due time})
EXPECTED: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "01_contact_unanswered.yaml": (
        "awaiting_seller",
        "full_refund",
        "USD",
        {
            "seller_reply": "2025-09-01T17:00:00-07:00",  # 72 h: calendar hours
            "buyer_may_file_claim": "2025-08-31T17:00:00-07:00",  # 48 h
        },
    ),
    "02_return_refund_due_over_labor_day.yaml": (
        "awaiting_seller",
        "return_and_refund",
        "USD",
        # Friday 17:00 + 2 business days: not Saturday, Sunday or Labor Day (1 September).
        {"refund_return": "2025-09-03T17:00:00-07:00"},
    ),
    "03_uk_claim_open.yaml": ("platform_reviewing", "refund_without_return", "GBP", {}),
    "04_buy_shipping_protected.yaml": (
        "platform_reviewing",
        "refund_without_return",
        "USD",
        {"answer_delivery_questions": "2025-06-06T10:00:00-07:00"},
    ),
    "05_claim_granted_appeal_window.yaml": (
        "closed",
        "full_refund",
        "EUR",
        {"appeal_window": "2025-07-06T10:00:00+02:00"},
    ),
}


def _predict(name: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    path = str(EXAMPLES / name)
    assert main(["predict", path, "--as-of", AS_OF[name], "--format", "json"]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_every_amazon_example_has_an_as_of() -> None:
    assert sorted(AS_OF) == sorted(path.name for path in EXAMPLES.glob("*.yaml"))
    assert sorted(AS_OF) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_amazon_example_predicts_with_cited_reasons(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stage, resolution, currency, deadlines = EXPECTED[name]
    found = _predict(name, capsys)
    assert (found["pack"]["id"], found["pack"]["version"]) == ("amazon", "2024.1")
    assert found["stage"] == stage
    assert found["resolution"]["outcome"] == resolution
    assert found["resolution"]["currency"] == currency
    due = {item["id"]: datetime.fromisoformat(item["due_at"]) for item in found["deadlines"]}
    assert set(due) == set(deadlines)
    for deadline_id, text in deadlines.items():
        assert due[deadline_id] == datetime.fromisoformat(text), deadline_id
    assert found["reasons"], name
    for reason in found["reasons"]:
        assert reason["sources"], reason["rule_id"]
        assert all(source["confidence"] in "ABCD" for source in reason["sources"])
    decided = {reason["rule_id"] for reason in found["reasons"] if reason["role"] == "decided"}
    assert found["resolution"]["rule_id"] in decided


def _return_case(received: str) -> refundrules.Case:
    pack = refundrules.load_rule_pack("amazon")
    return pack.load_case(
        {
            "case_id": "az-bd",
            "platform": "amazon",
            "order": {
                "order_id": "AZ-BD",
                "paid_amount": "80.00",
                "paid_at": "2025-06-01T10:00:00-07:00",
                "shipped_at": "2025-06-02T10:00:00-07:00",
                "delivered_at": "2025-06-05T10:00:00-07:00",
            },
            "request": {
                "kind": "return_and_refund",
                "reason": "wrong_size",
                "amount": "80.00",
                "requested_at": "2025-06-10T10:00:00-07:00",
            },
            "logistics": {"status": "delivered"},
            "timeline": [
                {"at": "2025-06-10T11:00:00-07:00", "actor": "seller", "kind": "seller_replied"},
                {
                    "at": "2025-06-12T10:00:00-07:00",
                    "actor": "buyer",
                    "kind": "buyer_shipped_return",
                },
                {"at": received, "actor": "system", "kind": "return_delivered"},
            ],
        }
    )


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # Thursday 10:00 + 2 business days skips the weekend: Monday 10:00.
        ("2025-07-10T10:00:00-07:00", "2025-07-14T10:00:00-07:00"),
        # Thursday 3 July 10:00: Friday 4 July (Independence Day) and the weekend do not
        # count, so the refund is due on Tuesday 8 July, 10:00.
        ("2025-07-03T10:00:00-07:00", "2025-07-08T10:00:00-07:00"),
        # Friday before Labor Day, 17:00: due Wednesday 17:00.
        ("2025-08-29T17:00:00-07:00", "2025-09-03T17:00:00-07:00"),
    ],
)
def test_the_return_refund_deadline_counts_us_business_days(received: str, due: str) -> None:
    pack = refundrules.load_rule_pack("amazon")
    case = _return_case(received)
    start = datetime.fromisoformat(received)
    due_at = datetime.fromisoformat(due)
    just_after = pack.predict(case, start + timedelta(minutes=1))
    (deadline,) = just_after.deadlines
    assert deadline.id == "refund_return"
    assert deadline.due_at == due_at
    before = pack.predict(case, due_at - timedelta(seconds=1))
    assert before.resolution.rule_id != "return_refund_overdue"
    at_due = pack.predict(case, due_at)
    assert at_due.resolution.rule_id == "return_refund_overdue"
    assert at_due.deadlines == ()


def test_the_uk_site_waits_two_business_days_and_the_us_site_48_hours() -> None:
    pack = refundrules.load_rule_pack("amazon")
    base: dict[str, Any] = {
        "case_id": "az-wait",
        "platform": "amazon",
        "order": {
            "order_id": "AZ-W",
            "paid_amount": "30.00",
            "paid_at": "2025-08-20T10:00:00-07:00",
        },
        "request": {
            "kind": "refund_only",
            "reason": "not_received",
            "amount": "30.00",
            "requested_at": "2025-08-29T17:00:00-07:00",  # Friday before Labor Day
        },
    }
    as_of = datetime(2025, 8, 30, 9, 0, tzinfo=PACIFIC)
    us = pack.predict(pack.load_case(base), as_of)
    uk_data = {**base, "order": {**base["order"], "currency": "GBP"}}
    uk = pack.predict(pack.load_case(uk_data), as_of)
    us_due = {item.id: item.due_at for item in us.deadlines}["buyer_may_file_claim"]
    uk_due = {item.id: item.due_at for item in uk.deadlines}["buyer_may_file_claim"]
    assert us_due == datetime(2025, 8, 31, 17, 0, tzinfo=PACIFIC)
    # Two business days on the pack's (US) calendar: Tuesday and Wednesday, 17:00.
    assert uk_due == datetime(2025, 9, 3, 17, 0, tzinfo=PACIFIC)
    assert uk.resolution.currency == "GBP" and us.resolution.currency == "USD"


def test_a_currency_no_amazon_site_uses_is_refused() -> None:
    pack = refundrules.load_rule_pack("amazon")
    data: dict[str, Any] = {
        "platform": "amazon",
        "order": {
            "order_id": "AZ-J",
            "paid_amount": "30.00",
            "currency": "JPY",
            "paid_at": "2025-08-20T10:00:00-07:00",
        },
        "request": {
            "kind": "refund_only",
            "reason": "not_received",
            "amount": "30.00",
            "requested_at": "2025-08-29T17:00:00-07:00",
        },
    }
    with pytest.raises(refundrules.CaseError) as info:
        pack.predict(pack.load_case(data), datetime(2025, 8, 30, 9, 0, tzinfo=PACIFIC))
    assert info.value.field == "order.currency"


def test_the_platform_page_shows_the_calibration_report_as_it_is() -> None:
    from refundrules.testing import calibrate

    report = calibrate(refundrules.load_rule_pack("amazon"))
    assert report.passed
    assert report.tuning.total == 7 and report.held_aside.total == 4
    page = (ROOT / "docs" / "platforms" / "amazon.md").read_text("utf-8")
    for line in report.to_text().splitlines()[:3]:
        assert line in page, line
