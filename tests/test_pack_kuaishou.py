"""The Kuaishou pack: its example cases predict through the command line with cited reasons,
and its dated versions change the outcome on either side of 2023-12-04 (refund after refused
delivery, K2-02) and 2024-12-02 (end of the refund-without-return service, K2-06)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

import refundrules
from refundrules import Case, RulePack

from .conftest import ROOT
from .pack_examples import (
    assert_deadlines,
    assert_every_example_expected,
    example_folder,
    predict_json,
    predict_text,
)

EXAMPLES, AS_OF = example_folder("kuaishou")

# name -> (stage, resolution, {deadline id: due time}, buyer flags)
EXPECTED: dict[str, tuple[str, str, dict[str, str], list[str]]] = {
    "01_not_received_refused_delivery.yaml": (
        "awaiting_seller",
        "full_refund",
        {
            "intercept_parcel": "2025-05-13T10:00:00+08:00",
            "refused_delivery_answer": "2025-05-15T10:00:00+08:00",
        },
        [],
    ),
    "02_return_in_transit.yaml": (
        "awaiting_seller_receipt",
        "return_and_refund",
        {"seller_confirms_return": "2025-06-13T11:00:00+08:00"},
        [],
    ),
    "03_malicious_buyer_blacklist.yaml": (
        "escalation_open",
        "request_rejected",
        {},
        ["blacklist_candidate"],
    ),
}


@pytest.fixture(scope="module")
def kuaishou() -> RulePack:
    return refundrules.load_rule_pack("kuaishou")


def test_every_kuaishou_example_has_an_as_of_and_an_expectation() -> None:
    assert_every_example_expected(EXAMPLES, AS_OF, EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_predicts_with_cited_reasons(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = EXAMPLES / name
    data = predict_json(path, AS_OF[name], "kuaishou", capsys)
    stage, resolution, deadlines, flags = EXPECTED[name]
    assert data["stage"] == stage
    assert data["resolution"]["outcome"] == resolution
    assert data["resolution"]["currency"] == "CNY"
    assert_deadlines(data, deadlines)
    assert [flag["flag"] for flag in data["buyer_flags"]] == flags
    rule_ids = {reason["rule_id"] for reason in data["reasons"]}
    assert data["resolution"]["rule_id"] in rule_ids
    assert data["reasons"] and all(reason["sources"] for reason in data["reasons"])
    text = predict_text(path, AS_OF[name], "en", capsys)
    assert "Stage:" in text and "[decided] " in text


def _not_received(kuaishou: RulePack, requested_at: datetime) -> Case:
    return kuaishou.load_case(
        {
            "case_id": "ks-boundary",
            "platform": "kuaishou",
            "order": {
                "order_id": "B-1",
                "paid_amount": "79.00",
                "paid_at": (requested_at - timedelta(days=2)).isoformat(),
                "shipped_at": (requested_at - timedelta(days=1)).isoformat(),
            },
            "request": {
                "kind": "refund_only",
                "reason": "not_received",
                "amount": "79.00",
                "requested_at": requested_at.isoformat(),
            },
            "logistics": {"status": "in_transit"},
        }
    )


def test_refused_delivery_window_starts_on_2023_12_04(kuaishou: RulePack) -> None:
    # Three days after a not-received request: before 2023-12-04 the 48 h window has run out
    # and the system agrees; from that day the merchant still has until day 5.
    before = datetime.fromisoformat("2023-12-03T23:00:00+08:00")
    after = datetime.fromisoformat("2023-12-04T00:00:00+08:00")
    old = kuaishou.predict(_not_received(kuaishou, before), before + timedelta(days=3))
    new = kuaishou.predict(_not_received(kuaishou, after), after + timedelta(days=3))
    assert (old.pack.version, new.pack.version) == ("2021.11", "2023.12")
    assert old.resolution.rule_id == "seller_timeout_system_agrees"
    assert old.stage.value == "closed"
    assert new.resolution.rule_id == "awaiting_refused_delivery"
    assert new.stage.value == "awaiting_seller"
    (answer,) = [d for d in new.deadlines if d.id == "refused_delivery_answer"]
    assert answer.due_at == after + timedelta(days=5)
    closed = kuaishou.predict(_not_received(kuaishou, after), answer.due_at)
    assert closed.resolution.rule_id == "refused_delivery_timeout_refund"


def _badge_claim(kuaishou: RulePack, requested_at: datetime) -> Case:
    return kuaishou.load_case(
        {
            "case_id": "ks-badge",
            "platform": "kuaishou",
            "order": {
                "order_id": "B-2",
                "paid_amount": "49.90",
                "paid_at": (requested_at - timedelta(days=2)).isoformat(),
                "shipped_at": (requested_at - timedelta(days=1)).isoformat(),
                "delivered_at": (requested_at - timedelta(hours=5)).isoformat(),
                "fresh": True,
                "return_terms": ["refund_without_return_badge"],
            },
            "request": {
                "kind": "refund_only",
                "reason": "quality_problem",
                "amount": "49.90",
                "requested_at": requested_at.isoformat(),
            },
            "evidence": [{"party": "buyer", "kind": "photo"}],
            "logistics": {"status": "signed"},
        }
    )


def test_refund_without_return_service_ends_on_2024_12_02(kuaishou: RulePack) -> None:
    before = datetime.fromisoformat("2024-12-01T23:00:00+08:00")
    after = datetime.fromisoformat("2024-12-02T00:00:00+08:00")
    old = kuaishou.predict(_badge_claim(kuaishou, before), before + timedelta(hours=1))
    new = kuaishou.predict(_badge_claim(kuaishou, after), after + timedelta(hours=1))
    assert (old.pack.version, new.pack.version) == ("2023.12", "2024.12")
    assert old.resolution.outcome.value == "refund_without_return"
    assert old.resolution.rule_id == "refund_without_return_badge_claim"
    assert [d.id for d in old.deadlines] == ["top_up_deposit"]
    assert new.resolution.outcome.value == "full_refund"
    assert new.resolution.rule_id == "awaiting_seller_response"
    assert "refund_without_return_badge_claim" not in new.fired_rules


def test_pack_outcomes_live_with_the_pack() -> None:
    assert not (ROOT / "outcomes" / "kuaishou").exists()
    assert sorted(p.name for p in (ROOT / "rules" / "kuaishou" / "outcomes").glob("*.yaml")) == [
        "cn_other.yaml",
        "pdd_more.yaml",
    ]
