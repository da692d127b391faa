"""The PayPal pack: its example cases predict through the command line with cited reasons, and
its windows are counted in calendar days in Los Angeles time, right across weekends and US
public holidays (PayPal's sources give every window in calendar days: platform_rules E8)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import refundrules
from refundrules import RulePack
from refundrules._calendar import BusinessCalendar
from refundrules._cli import main

from .conftest import ROOT

EXAMPLES = ROOT / "examples" / "paypal"
AS_OF: dict[str, str] = json.loads((EXAMPLES / "as_of.json").read_text("utf-8"))
LOS_ANGELES = ZoneInfo("America/Los_Angeles")

# name -> (stage, resolution, currency, {deadline id: due time})
EXPECTED: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "01_dispute_open_over_thanksgiving.yaml": (
        "awaiting_seller",
        "full_refund",
        "USD",
        {"escalate_to_claim": "2025-12-09T10:00:00-08:00"},
    ),
    "02_claim_unanswered_over_july_4th.yaml": (
        "awaiting_seller",
        "full_refund",
        "USD",
        {"answer_claim": "2025-07-07T09:00:00-07:00"},
    ),
    "03_high_value_no_signature.yaml": (
        "platform_reviewing",
        "full_refund",
        "USD",
        {"paypal_decides": "2025-04-11T10:00:00-07:00"},
    ),
    "04_counterfeit_claim_eur.yaml": (
        "platform_reviewing",
        "refund_without_return",
        "EUR",
        {"paypal_decides": "2025-04-11T10:00:00+01:00"},
    ),
    "05_uk_posting_receipt_gbp.yaml": (
        "escalation_open",
        "full_refund",
        "GBP",
        {"escalate_to_claim": "2025-04-09T10:00:00+00:00"},
    ),
}


@pytest.fixture(scope="module")
def paypal() -> RulePack:
    return refundrules.load_rule_pack("paypal")


def test_every_paypal_example_has_an_as_of_and_an_expectation() -> None:
    files = sorted(path.name for path in EXAMPLES.glob("*.yaml"))
    assert files == sorted(AS_OF) == sorted(EXPECTED)
    assert 3 <= len(files) <= 5


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_predicts_with_cited_reasons(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(EXAMPLES / name)
    assert main(["predict", path, "--as-of", AS_OF[name], "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    stage, resolution, currency, deadlines = EXPECTED[name]
    assert data["pack"]["id"] == "paypal"
    assert data["stage"] == stage
    assert data["resolution"]["outcome"] == resolution
    assert data["resolution"]["currency"] == currency
    due = {item["id"]: datetime.fromisoformat(item["due_at"]) for item in data["deadlines"]}
    assert due == {key: datetime.fromisoformat(value) for key, value in deadlines.items()}
    rule_ids = {reason["rule_id"] for reason in data["reasons"]}
    assert data["resolution"]["rule_id"] in rule_ids
    assert rule_ids <= set(data["fired_rules"])
    assert data["reasons"] and all(reason["sources"] for reason in data["reasons"])
    assert main(["predict", path, "--as-of", AS_OF[name]]) == 0
    text = capsys.readouterr().out
    assert "Stage:" in text and "Deadlines:" in text and "[decided] " in text


def _weekend_and_holidays_between(start: datetime, end: datetime) -> tuple[int, list[date]]:
    calendar = BusinessCalendar("America/Los_Angeles", country="US")
    days = [start.date() + timedelta(days=n) for n in range((end.date() - start.date()).days)]
    weekend = sum(1 for day in days if day.weekday() >= 5)
    return weekend, [day for day in days if day.weekday() < 5 and not calendar.is_business_day(day)]


def test_escalation_window_runs_over_thanksgiving_in_calendar_days(paypal: RulePack) -> None:
    case = paypal.load_case(EXAMPLES / "01_dispute_open_over_thanksgiving.yaml")
    prediction = paypal.predict(case, datetime.fromisoformat(AS_OF[case_file(1)]))
    (deadline,) = prediction.deadlines
    opened = case.request.requested_at
    weekend, holidays = _weekend_and_holidays_between(opened, deadline.due_at)
    assert weekend == 6 and holidays == [date(2025, 11, 27)]  # three weekends, Thanksgiving
    # 20 calendar days to the second: Tuesday 9 December, 10:00 in Los Angeles ...
    assert deadline.due_at == datetime(2025, 12, 9, 10, 0, tzinfo=LOS_ANGELES)
    assert deadline.due_at - opened == timedelta(days=20)
    # ... not the day 20 business days would give (weekends and the holiday skipped).
    business = BusinessCalendar("America/Los_Angeles", country="US")
    assert business.add_business_days(opened, 20).date() == date(2025, 12, 18)
    closed = paypal.predict(case, deadline.due_at)
    assert closed.resolution.rule_id == "dispute_closed_not_escalated"
    still_open = paypal.predict(case, deadline.due_at - timedelta(seconds=1))
    assert still_open.stage.value == "awaiting_seller"


def test_claim_answer_window_runs_over_independence_day_in_calendar_days(
    paypal: RulePack,
) -> None:
    case = paypal.load_case(EXAMPLES / "02_claim_unanswered_over_july_4th.yaml")
    prediction = paypal.predict(case, datetime.fromisoformat(AS_OF[case_file(2)]))
    (deadline,) = prediction.deadlines
    escalated = case.timeline[0].at
    weekend, holidays = _weekend_and_holidays_between(escalated, deadline.due_at)
    assert weekend == 4 and holidays == [date(2025, 7, 4)]  # two weekends, Independence Day
    assert deadline.due_at == datetime(2025, 7, 7, 9, 0, tzinfo=LOS_ANGELES)
    assert deadline.due_at - escalated == timedelta(days=10)
    lost = paypal.predict(case, deadline.due_at)
    assert lost.resolution.rule_id == "claim_default_judgement"
    assert lost.resolution.decided_by == "system" and lost.resolution.refund_amount == 200
    assert paypal.predict(case, deadline.due_at - timedelta(seconds=1)).stage.value == (
        "awaiting_seller"
    )


def test_cases_in_pounds_and_euros_keep_their_currency_and_fee(paypal: RulePack) -> None:
    for number, currency in ((4, "EUR"), (5, "GBP")):
        case = paypal.load_case(EXAMPLES / case_file(number))
        prediction = paypal.predict(case, datetime.fromisoformat(AS_OF[case_file(number)]))
        assert prediction.resolution.currency == currency
        assert prediction.resolution.refund_amount == case.order.paid_amount
    euro = paypal.load_case(EXAMPLES / case_file(4))
    prediction = paypal.predict(euro, datetime.fromisoformat(AS_OF[case_file(4)]))
    (fee,) = prediction.seller_consequences.compensation
    assert fee.paid_to == "platform" and fee.amount == 15


def case_file(number: int) -> str:
    (name,) = [name for name in AS_OF if name.startswith(f"{number:02d}_")]
    return name


def test_the_published_outcomes_meet_the_declared_floor() -> None:
    from refundrules.testing import calibrate

    report = calibrate(refundrules.load_rule_pack("paypal"))
    assert report.tuning.total == 5 and report.held_aside.total == 3
    assert report.passed, report.to_text()


def test_the_paypal_examples_are_files_of_the_checkout() -> None:
    assert all(Path(EXAMPLES / name).is_file() for name in AS_OF)
