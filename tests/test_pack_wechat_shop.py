"""The WeChat Shop pack: its example cases predict through the command line with cited
reasons; the merchant's dispute deadline is 72 h before 2024-03-25 and 48 h from that day
(W2-06), and a merchant who lets it run out is decided against: the platform backs the buyer
(W2-04, W2-07)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

import refundrules
from refundrules import Case, RulePack
from refundrules._cli import main

from .conftest import ROOT
from .pack_examples import (
    assert_deadlines,
    assert_every_example_expected,
    example_folder,
    predict_json,
    predict_text,
)

EXAMPLES, AS_OF = example_folder("wechat_shop")

# name -> (stage, resolution, deciding rule, {deadline id: due time})
EXPECTED: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "01_dispute_unanswered.yaml": (
        "closed",
        "full_refund",
        "merchant_dispute_timeout_buyer_wins",
        {},
    ),
    "02_return_in_transit.yaml": (
        "awaiting_seller_receipt",
        "return_and_refund",
        "awaiting_seller_receipt",
        {"seller_confirms_return": "2025-06-16T11:00:00+08:00"},
    ),
    "03_counterfeit_guarantee.yaml": (
        "platform_reviewing",
        "return_and_refund",
        "guarantee_counterfeit_payout",
        {"merchant_answers_dispute": "2025-07-08T09:00:00+08:00"},
    ),
}


@pytest.fixture(scope="module")
def wechat() -> RulePack:
    return refundrules.load_rule_pack("wechat_shop")


def test_every_wechat_example_has_an_as_of_and_an_expectation() -> None:
    assert_every_example_expected(EXAMPLES, AS_OF, EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_predicts_with_cited_reasons(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = EXAMPLES / name
    data = predict_json(path, AS_OF[name], "wechat_shop", capsys)
    stage, resolution, rule_id, deadlines = EXPECTED[name]
    assert data["stage"] == stage
    assert data["resolution"]["outcome"] == resolution
    assert data["resolution"]["rule_id"] == rule_id
    assert data["resolution"]["currency"] == "CNY"
    assert_deadlines(data, deadlines)
    assert {reason["rule_id"] for reason in data["reasons"]} >= {rule_id}
    assert data["reasons"] and all(reason["sources"] for reason in data["reasons"])
    assert "阶段" in predict_text(path, AS_OF[name], "zh", capsys)


def _dispute(
    wechat: RulePack, requested_at: datetime, reply_after: timedelta | None = None
) -> Case:
    """A refused quality claim the buyer escalates 2 h after the refusal; the merchant
    answers the dispute ``reply_after`` the escalation (never if None)."""
    escalated = requested_at + timedelta(hours=4)
    timeline = [
        {
            "at": (requested_at + timedelta(hours=2)).isoformat(),
            "actor": "seller",
            "kind": "seller_refused",
            "refusal_reason": "goods_as_described",
        },
        {"at": escalated.isoformat(), "actor": "buyer", "kind": "buyer_escalated"},
    ]
    if reply_after is not None:
        timeline.append(
            {
                "at": (escalated + reply_after).isoformat(),
                "actor": "seller",
                "kind": "evidence_submitted",
                "evidence_kind": "chat_record",
            }
        )
    return wechat.load_case(
        {
            "case_id": "wx-boundary",
            "platform": "wechat_shop",
            "order": {
                "order_id": "B-1",
                "paid_amount": "89.00",
                "paid_at": (requested_at - timedelta(days=4)).isoformat(),
                "shipped_at": (requested_at - timedelta(days=3)).isoformat(),
                "delivered_at": (requested_at - timedelta(days=1)).isoformat(),
            },
            "request": {
                "kind": "refund_only",
                "reason": "quality_problem",
                "amount": "89.00",
                "requested_at": requested_at.isoformat(),
            },
            "timeline": timeline,
            "logistics": {"status": "signed"},
        }
    )


BEFORE = datetime.fromisoformat("2024-03-24T12:00:00+08:00")
AFTER = datetime.fromisoformat("2024-03-25T00:00:00+08:00")


def test_dispute_deadline_is_72h_before_2024_03_25_and_48h_from_it(wechat: RulePack) -> None:
    # 60 h after the escalation, merchant silent: under the old 72 h deadline the dispute is
    # still open with 12 h left; from 2024-03-25 the 48 h deadline has passed.
    old_case, new_case = _dispute(wechat, BEFORE), _dispute(wechat, AFTER)
    old = wechat.predict(old_case, BEFORE + timedelta(hours=4 + 60))
    new = wechat.predict(new_case, AFTER + timedelta(hours=4 + 60))
    assert (old.pack.version, new.pack.version) == ("2021.1", "2024.3")
    assert old.stage.value == "platform_reviewing"
    assert "merchant_dispute_timeout_buyer_wins" not in old.fired_rules
    (answer,) = [d for d in old.deadlines if d.id == "merchant_answers_dispute"]
    assert answer.due_at == BEFORE + timedelta(hours=4 + 72)
    assert new.resolution.rule_id == "merchant_dispute_timeout_buyer_wins"
    assert new.stage.value == "closed"
    # The new deadline falls exactly 48 h after the escalation: one second before it the
    # merchant may still answer.
    early = wechat.predict(new_case, AFTER + timedelta(hours=4 + 48) - timedelta(seconds=1))
    (due,) = [d for d in early.deadlines if d.id == "merchant_answers_dispute"]
    assert due.due_at == AFTER + timedelta(hours=4 + 48)
    assert early.stage.value == "platform_reviewing"


@pytest.mark.parametrize(
    "requested_at", [BEFORE, AFTER, datetime.fromisoformat("2026-03-01T10:00:00+08:00")]
)
def test_merchant_timeout_defaults_to_the_buyer(wechat: RulePack, requested_at: datetime) -> None:
    # Without photos the buyer would lose on the merits (ruling_buyer_without_proof); a
    # merchant who never answers the dispute loses anyway, in every version.
    escalated = requested_at + timedelta(hours=4)
    case = _dispute(wechat, requested_at)
    answered = wechat.predict(
        _dispute(wechat, requested_at, reply_after=timedelta(hours=1)),
        escalated + timedelta(hours=80),
    )
    silent = wechat.predict(case, escalated + timedelta(hours=80))
    assert answered.resolution.outcome.value == "request_rejected"
    assert answered.resolution.rule_id == "ruling_buyer_without_proof"
    assert silent.resolution.outcome.value == "full_refund"
    assert silent.resolution.decided_by == "platform"
    assert silent.resolution.rule_id == "merchant_dispute_timeout_buyer_wins"
    assert silent.seller_consequences.dispute_record
    # An answer that comes after the deadline does not save the merchant.
    late = wechat.predict(
        _dispute(wechat, requested_at, reply_after=timedelta(hours=75)),
        escalated + timedelta(hours=80),
    )
    assert late.resolution.rule_id == "merchant_dispute_timeout_buyer_wins"


def test_ruling_proof_deadline_and_its_consequence_change_on_2024_03_25(wechat: RulePack) -> None:
    def ruled(requested_at: datetime) -> Case:
        data = _dispute(wechat, requested_at).model_dump(mode="json", exclude_none=True)
        data["timeline"].append(
            {
                "at": (requested_at + timedelta(hours=30)).isoformat(),
                "actor": "platform",
                "kind": "platform_ruled",
                "ruling": "full_refund",
            }
        )
        return wechat.load_case(data)

    old = wechat.predict(ruled(BEFORE), BEFORE + timedelta(hours=31))
    new = wechat.predict(ruled(AFTER), AFTER + timedelta(hours=31))
    assert old.resolution.rule_id == "platform_ruling_stands_proof_72h"
    assert new.resolution.rule_id == "platform_ruling_stands_platform_refunds"
    (old_due,) = old.deadlines
    (new_due,) = new.deadlines
    assert old_due.due_at == BEFORE + timedelta(hours=30 + 72)
    assert new_due.due_at == AFTER + timedelta(hours=30 + 48)
    assert "312" in new_due.if_missed and "312" not in old_due.if_missed


def test_calibration_meets_the_declared_floor(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", "wechat_shop"]) == 0
    out = capsys.readouterr().out
    assert "tuning       2 records  fine 2/2" in out
    assert "held-aside   0 records" in out
    assert ": met" in out


def test_pack_outcomes_live_with_the_pack() -> None:
    assert not (ROOT / "outcomes" / "wechat_shop").exists()
    assert sorted(p.name for p in (ROOT / "rules" / "wechat_shop" / "outcomes").glob("*.yaml")) == [
        "cn_complaints.yaml",
        "cn_news.yaml",
    ]
