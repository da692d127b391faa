"""The bundled eBay Money Back Guarantee pack: its examples predict through the command line
with cited reasons and business-day deadlines in US time (weekends and federal holidays
skipped), cases in USD, GBP and EUR, and its published outcomes meet the declared floor."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

import refundrules
from refundrules._cli import main
from refundrules.testing import calibrate

from .conftest import ROOT

_SECOND = timedelta(seconds=1)

EXAMPLES = ROOT / "examples" / "ebay"
AS_OF: dict[str, str] = json.loads((EXAMPLES / "as_of.json").read_text("utf-8"))

# name -> (stage, resolution, refund, currency, {deadline id: due time})
EXPECTED: dict[str, tuple[str, str, str, str, dict[str, str]]] = {
    # Friday 23 May 2025 10:00 + 3 business days: the weekend and Memorial Day skipped.
    "01_inr_awaiting_seller_memorial_day.yaml": (
        "awaiting_seller",
        "full_refund",
        "89.00",
        "USD",
        {"seller_responds": "2025-05-29T10:00:00-07:00"},
    ),
    # Wednesday 2 July 2025 12:00 + 3 business days: Independence Day and the weekend skipped.
    "02_return_silent_seller_independence_day.yaml": (
        "awaiting_seller",
        "return_and_refund",
        "45.50",
        "USD",
        {"seller_responds": "2025-07-08T12:00:00-07:00"},
    ),
    # eBay decides about 48 hours (not business days) after the step-in request.
    "03_inr_step_in_signed_gbp.yaml": (
        "platform_reviewing",
        "request_rejected",
        "0.00",
        "GBP",
        {"ebay_decides": "2025-03-16T03:00:00-07:00"},
    ),
    # Thursday 28 August 2025 15:00 + 2 business days: the weekend and Labor Day skipped.
    "04_return_arrived_labor_day.yaml": (
        "awaiting_seller",
        "return_and_refund",
        "120.00",
        "USD",
        {"refund_return": "2025-09-02T15:00:00-07:00"},
    ),
    "05_snad_step_in_eur.yaml": (
        "platform_reviewing",
        "full_refund",
        "60.00",
        "EUR",
        {"ebay_decides": "2025-04-13T01:00:00-07:00"},
    ),
}


def test_every_example_has_an_as_of_and_an_expectation() -> None:
    files = sorted(path.name for path in EXAMPLES.glob("*.yaml"))
    assert files == sorted(AS_OF) == sorted(EXPECTED)
    assert 3 <= len(files) <= 5


def _predict(name: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    path = str(EXAMPLES / name)
    assert main(["predict", path, "--as-of", AS_OF[name], "--format", "json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_predicts_stage_resolution_and_deadline(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stage, resolution, refund, currency, deadlines = EXPECTED[name]
    data = _predict(name, capsys)
    assert data["pack"]["id"] == "ebay"
    assert data["stage"] == stage
    assert data["resolution"]["outcome"] == resolution
    assert data["resolution"]["refund_amount"] == refund
    assert data["resolution"]["currency"] == currency
    assert {item["id"]: item["due_at"] for item in data["deadlines"]} == deadlines


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_reason_cites_sources(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = _predict(name, capsys)
    rule_ids = {reason["rule_id"] for reason in data["reasons"]}
    assert data["resolution"]["rule_id"] in rule_ids
    assert rule_ids <= set(data["fired_rules"])
    assert data["reasons"] and all(reason["sources"] for reason in data["reasons"])
    for reason in data["reasons"]:
        assert all(source["confidence"] in "ABCD" for source in reason["sources"])


def test_example_text_output_shows_the_business_day_deadline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = "04_return_arrived_labor_day.yaml"
    assert main(["predict", str(EXAMPLES / name), "--as-of", AS_OF[name]]) == 0
    text = capsys.readouterr().out
    assert "Stage:" in text and "Deadlines:" in text and "[decided] " in text
    assert "by 2025-09-02T15:00:00-07:00" in text


def _silent_return(requested_at: str) -> refundrules.Case:
    pack = refundrules.load_rule_pack("ebay")
    return pack.load_case(
        {
            "case_id": "ebay-holiday",
            "platform": "ebay",
            "order": {
                "order_id": "H-1",
                "paid_amount": "30.00",
                "paid_at": "2025-11-01T10:00:00-07:00",
            },
            "request": {
                "kind": "return_and_refund",
                "reason": "damaged",
                "amount": "30.00",
                "requested_at": requested_at,
            },
        }
    )


@pytest.mark.parametrize(
    ("requested_at", "due"),
    [
        # Tuesday before Thanksgiving (Thursday 27 November 2025): Thursday and the weekend skip
        # (the Friday after is not a federal holiday).
        ("2025-11-25T09:00:00-08:00", "2025-12-01T09:00:00-08:00"),
        # Tuesday before Christmas: Thursday 25 December and the weekend skip.
        ("2025-12-23T16:00:00-08:00", "2025-12-29T16:00:00-08:00"),
        # An ordinary Monday: three weekdays later.
        ("2025-11-03T09:00:00-08:00", "2025-11-06T09:00:00-08:00"),
    ],
)
def test_the_seller_window_skips_weekends_and_us_holidays(requested_at: str, due: str) -> None:
    pack = refundrules.load_rule_pack("ebay")
    case = _silent_return(requested_at)
    before = pack.predict(case, datetime.fromisoformat(due) - _SECOND)
    assert before.stage == "awaiting_seller"
    [deadline] = before.deadlines
    assert deadline.due_at == datetime.fromisoformat(due)
    at_end = pack.predict(case, datetime.fromisoformat(due))
    assert at_end.resolution.outcome == "refund_without_return"
    assert at_end.resolution.decided_by == "system"


def test_a_case_in_an_undeclared_currency_is_refused() -> None:
    pack = refundrules.load_rule_pack("ebay")
    case = pack.load_case(
        {
            "case_id": "ebay-jpy",
            "platform": "ebay",
            "order": {
                "order_id": "J-1",
                "paid_amount": "3000",
                "currency": "JPY",
                "paid_at": "2025-11-01T10:00:00-07:00",
            },
            "request": {
                "kind": "refund_only",
                "reason": "not_received",
                "amount": "3000",
                "requested_at": "2025-11-20T10:00:00-08:00",
            },
        }
    )
    with pytest.raises(refundrules.CaseError) as info:
        pack.predict(case, datetime.fromisoformat("2025-11-21T10:00:00-08:00"))
    assert "USD, GBP, EUR" in str(info.value)


def test_published_outcomes_meet_the_declared_floor() -> None:
    report = calibrate(refundrules.load_rule_pack("ebay"))
    assert report.tuning.total == 7 and report.held_aside.total == 3
    assert report.passed
    assert report.fine_floor is not None and report.fine_floor <= report.tuning.fine_correct / 7
