"""The bundled Douyin (抖音电商 / 抖店) pack: its examples predict through the command line with
cited reasons and deadlines in China time, the unshipped instant refund (under 300 yuan, within
6 h of payment) refunds at once with its boundaries either side, and its published outcomes
meet the declared floor."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

import refundrules
from refundrules._cli import main
from refundrules.testing import calibrate

from .conftest import ROOT

EXAMPLES = ROOT / "examples" / "douyin"
AS_OF: dict[str, str] = json.loads((EXAMPLES / "as_of.json").read_text("utf-8"))

# name -> (stage, resolution, decided_by, refund, {deadline id: due time})
EXPECTED: dict[str, tuple[str, str, str, str, dict[str, str]]] = {
    # 199 yuan, unshipped, asked 3 h 30 min after payment: refunded at once, nothing left to run.
    "01_unshipped_instant_refund.yaml": ("closed", "full_refund", "system", "199.00", {}),
    # Refused without shipping: the request's 48 h still run (3 March 18:00 + 48 h).
    "02_refusal_without_shipping.yaml": (
        "awaiting_seller",
        "full_refund",
        "system",
        "680.00",
        {"seller_response": "2026-03-05T18:00:00+08:00"},
    ),
    # The return left the buyer on 6 March 10:00: the 7-day hard stop is 13 March 10:00.
    "03_return_signed_inspection.yaml": (
        "awaiting_seller_receipt",
        "return_and_refund",
        "system",
        "259.00",
        {"seller_confirms_receipt": "2026-03-13T10:00:00+08:00"},
    ),
    # Escalated on 10 March 12:00: the platform decides within 5 days.
    "04_rejected_return_escalated.yaml": (
        "platform_reviewing",
        "return_and_refund",
        "platform",
        "389.00",
        {"platform_decides": "2026-03-15T12:00:00+08:00"},
    ),
}


def test_every_example_has_an_as_of_and_an_expectation() -> None:
    files = sorted(path.name for path in EXAMPLES.glob("*.yaml"))
    assert files == sorted(AS_OF) == sorted(EXPECTED)
    assert 2 <= len(files) <= 4


def _predict(name: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    path = str(EXAMPLES / name)
    args = ["predict", path, "--as-of", AS_OF[name], "--lang", "en", "--format", "json"]
    assert main(args) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_predicts_stage_resolution_and_deadline(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stage, resolution, decided_by, refund, deadlines = EXPECTED[name]
    data = _predict(name, capsys)
    assert data["pack"]["id"] == "douyin"
    assert data["stage"] == stage
    assert data["resolution"]["outcome"] == resolution
    assert data["resolution"]["decided_by"] == decided_by
    assert data["resolution"]["refund_amount"] == refund
    assert data["resolution"]["currency"] == "CNY"
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


def test_example_text_output_in_english(capsys: pytest.CaptureFixture[str]) -> None:
    name = "01_unshipped_instant_refund.yaml"
    assert main(["predict", str(EXAMPLES / name), "--as-of", AS_OF[name], "--lang", "en"]) == 0
    text = capsys.readouterr().out
    assert "Stage:" in text and "[decided] unshipped_instant_refund" in text
    assert "199.00 CNY" in text


def _unshipped(paid: str, paid_at: str, requested_at: str) -> refundrules.Case:
    pack = refundrules.load_rule_pack("douyin")
    return pack.load_case(
        {
            "case_id": "douyin-instant",
            "platform": "douyin",
            "order": {"order_id": "I-1", "paid_amount": paid, "paid_at": paid_at},
            "request": {
                "kind": "refund_only",
                "reason": "changed_mind",
                "amount": paid,
                "requested_at": requested_at,
            },
        }
    )


PAID_AT = "2026-03-02T08:00:00+08:00"


@pytest.mark.parametrize(
    ("paid", "requested_at", "instant"),
    [
        ("299.99", "2026-03-02T13:59:00+08:00", True),  # under 300, 5 h 59 min
        ("299.99", "2026-03-02T14:00:00+08:00", True),  # exactly 6 h counts as within
        ("299.99", "2026-03-02T14:01:00+08:00", False),  # 6 h 1 min: too late
        ("300.00", "2026-03-02T09:00:00+08:00", False),  # 300 is not under 300
        ("0.01", "2026-03-02T08:00:00+08:00", True),  # at the moment of payment
    ],
)
def test_unshipped_request_under_300_within_6h_is_refunded_at_once(
    paid: str, requested_at: str, instant: bool
) -> None:
    pack = refundrules.load_rule_pack("douyin")
    case = _unshipped(paid, PAID_AT, requested_at)
    prediction = pack.predict(case, datetime.fromisoformat(requested_at))
    if instant:
        assert prediction.stage == "closed"
        assert prediction.resolution.outcome == "full_refund"
        assert prediction.resolution.decided_by == "system"
        assert prediction.resolution.rule_id == "unshipped_instant_refund"
        assert str(prediction.resolution.refund_amount) == paid
        assert prediction.deadlines == ()
    else:
        assert prediction.stage == "awaiting_seller"
        assert prediction.resolution.rule_id == "awaiting_seller_response"
        assert [deadline.id for deadline in prediction.deadlines] == ["seller_response"]


def test_instant_refund_starts_on_2022_11_26() -> None:
    pack = refundrules.load_rule_pack("douyin")
    before = _unshipped("100.00", "2022-11-25T08:00:00+08:00", "2022-11-25T09:00:00+08:00")
    after = _unshipped("100.00", "2022-11-26T08:00:00+08:00", "2022-11-26T09:00:00+08:00")
    early = pack.predict(before, datetime.fromisoformat("2022-11-25T09:30:00+08:00"))
    late = pack.predict(after, datetime.fromisoformat("2022-11-26T09:30:00+08:00"))
    assert early.pack.version == "2022.4" and early.stage == "awaiting_seller"
    assert late.pack.version == "2022.11" and late.resolution.rule_id == "unshipped_instant_refund"


def test_published_outcomes_meet_the_declared_floor() -> None:
    report = calibrate(refundrules.load_rule_pack("douyin"))
    assert report.tuning.total == 3 and report.held_aside.total == 2
    assert report.passed
    assert report.fine_floor is not None and report.fine_floor <= report.tuning.fine_correct / 3
