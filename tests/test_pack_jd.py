"""The JD pack: its example cases predict through the command line with cited reasons, and a
POP merchant's refused refund-only on received goods is decided differently before
2023-12-29, in the refund-only era (J2-01) and after its phase-out on 2025-04-30 (J2-02)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

import refundrules
from refundrules import Case, RulePack
from refundrules.testing import calibrate

from .conftest import ROOT
from .pack_examples import (
    assert_deadlines,
    assert_every_example_expected,
    example_folder,
    predict_json,
    predict_text,
)

EXAMPLES, AS_OF = example_folder("jd")

# name -> (stage, resolution, deciding rule, {deadline id: due time})
EXPECTED: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "01_pop_refund_only_2024.yaml": (
        "platform_reviewing",
        "refund_without_return",
        "platform_supports_refund_only",
        {},
    ),
    "02_flash_refund_return.yaml": (
        "awaiting_seller_receipt",
        "return_and_refund",
        "flash_refund_released",
        {},
    ),
    # Requested 21:00; the 24 h review window ends the next evening.
    "03_unshipped_review_window.yaml": (
        "awaiting_seller",
        "full_refund",
        "awaiting_seller_unshipped",
        {"seller_review": "2026-03-03T21:00:00+08:00"},
    ),
}


@pytest.fixture(scope="module")
def jd() -> RulePack:
    return refundrules.load_rule_pack("jd")


def test_every_jd_example_has_an_as_of_and_an_expectation() -> None:
    assert_every_example_expected(EXAMPLES, AS_OF, EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_predicts_with_cited_reasons(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = EXAMPLES / name
    data = predict_json(path, AS_OF[name], "jd", capsys)
    stage, resolution, rule_id, deadlines = EXPECTED[name]
    assert data["stage"] == stage
    assert data["resolution"]["outcome"] == resolution
    assert data["resolution"]["rule_id"] == rule_id
    assert data["resolution"]["currency"] == "CNY"
    assert_deadlines(data, deadlines)
    assert data["reasons"] and all(reason["sources"] for reason in data["reasons"])
    text = predict_text(path, AS_OF[name], "zh", capsys)
    # The Chinese rendering names the deciding rule and carries its Chinese title.
    assert "阶段" in text and rule_id in text


def _refused_refund_only(
    jd: RulePack, requested_at: datetime, *, self_operated: bool = False
) -> Case:
    """A refund-only on received goods: quality problem, the buyer's photo, the merchant refused,
    the buyer asked customer service in."""
    data: dict[str, object] = {
        "case_id": "jd-refund-only",
        "platform": "jd",
        "order": {
            "order_id": "B-1",
            "paid_amount": "268.00",
            "paid_at": (requested_at - timedelta(days=3)).isoformat(),
            "shipped_at": (requested_at - timedelta(days=3, hours=-8)).isoformat(),
            "delivered_at": (requested_at - timedelta(days=1)).isoformat(),
        },
        "request": {
            "kind": "refund_only",
            "reason": "quality_problem",
            "amount": "268.00",
            "requested_at": requested_at.isoformat(),
        },
        "timeline": [
            {
                "at": (requested_at + timedelta(hours=2)).isoformat(),
                "actor": "seller",
                "kind": "seller_refused",
                "refusal_reason": "goods_as_described",
            },
            {
                "at": (requested_at + timedelta(hours=3)).isoformat(),
                "actor": "buyer",
                "kind": "buyer_escalated",
            },
        ],
        "evidence": [{"party": "buyer", "kind": "photo"}],
        "logistics": {"status": "signed"},
    }
    if self_operated:
        data["store"] = {"metrics": {"self_operated": 1}}
    return jd.load_case(data)


def test_pop_refund_only_before_during_and_after_the_refund_only_era(jd: RulePack) -> None:
    # Requested at midnight on each boundary day and one second before it.
    before = datetime.fromisoformat("2023-12-28T23:59:59+08:00")
    start = datetime.fromisoformat("2023-12-29T00:00:00+08:00")
    last = datetime.fromisoformat("2025-04-29T23:59:59+08:00")
    end = datetime.fromisoformat("2025-04-30T00:00:00+08:00")
    found = {
        moment: jd.predict(_refused_refund_only(jd, moment), moment + timedelta(hours=5))
        for moment in (before, start, last, end)
    }
    assert [found[m].pack.version for m in (before, start, last, end)] == [
        "2022.3",
        "2023.12",
        "2023.12",
        "2025.4",
    ]
    old, era, era_last, new = (found[m] for m in (before, start, last, end))
    # Before: the POP merchant's refusal stands; nothing goes back to the buyer.
    assert old.resolution.rule_id == "refund_only_not_granted_before_pop_era"
    assert old.resolution.outcome.value == "request_rejected"
    assert old.resolution.refund_amount == 0
    # The era: JD refunds without return and the store gets a dispute on its record.
    for prediction in (era, era_last):
        assert prediction.resolution.rule_id == "platform_supports_refund_only"
        assert prediction.resolution.outcome.value == "refund_without_return"
        assert str(prediction.resolution.refund_amount) == "268.00"
        assert prediction.resolution.decided_by == "platform"
    assert "platform_supports_refund_only" not in old.fired_rules
    # After the phase-out it is the merchant's decision again.
    assert new.resolution.rule_id == "refund_only_merchant_decides"
    assert new.resolution.outcome.value == "request_rejected"
    assert new.resolution.decided_by == "seller"
    assert "platform_supports_refund_only" not in new.fired_rules


def test_self_operated_goods_had_refund_only_before_pop_merchants(jd: RulePack) -> None:
    moment = datetime.fromisoformat("2016-06-04T10:00:00+08:00")
    pop = jd.predict(_refused_refund_only(jd, moment), moment + timedelta(hours=5))
    own = jd.predict(
        _refused_refund_only(jd, moment, self_operated=True), moment + timedelta(hours=5)
    )
    assert pop.pack.version == own.pack.version == "2014.3"
    assert pop.resolution.outcome.value == "request_rejected"
    assert own.resolution.outcome.value == "refund_without_return"
    assert own.resolution.rule_id == "self_operated_refund_only"


def test_appeal_deadline_runs_seven_natural_days_from_the_push(jd: RulePack) -> None:
    requested = datetime.fromisoformat("2024-05-04T10:00:00+08:00")
    pushed = requested + timedelta(days=1)
    data = _refused_refund_only(jd, requested).model_dump(mode="json")
    data["timeline"].append(
        {
            "at": pushed.isoformat(),
            "actor": "platform",
            "kind": "platform_ruled",
            "ruling": "refund_without_return",
        }
    )
    case = jd.load_case(data)
    open_ = jd.predict(case, pushed + timedelta(days=7) - timedelta(seconds=1))
    (appeal,) = [d for d in open_.deadlines if d.id == "seller_appeal"]
    assert appeal.due_at == pushed + timedelta(days=7)
    assert open_.resolution.rule_id == "refund_only_appeal_window_open"
    closed = jd.predict(case, appeal.due_at)
    assert closed.resolution.rule_id == "platform_ruling_stands"
    assert [d.id for d in closed.deadlines] == []


def test_calibration_meets_the_declared_floor() -> None:
    report = calibrate(refundrules.load_rule_pack("jd"))
    assert report.tuning.total == 1 and report.held_aside.total == 1
    assert report.passed
    assert (
        report.fine_floor is not None
        and report.fine_floor <= report.tuning.fine_correct / report.tuning.total
    )


def test_pack_outcomes_live_with_the_pack() -> None:
    assert not (ROOT / "outcomes" / "jd").exists()
    assert sorted(p.name for p in (ROOT / "rules" / "jd" / "outcomes").glob("*.yaml")) == [
        "pdd_more.yaml"
    ]
