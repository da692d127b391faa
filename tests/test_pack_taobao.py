"""The Taobao / Tmall pack: its example cases predict through the command line with cited
reasons, and the 2024-08-09 experience-score rule (platform_rules T7, platform_rules_2 T2-05)
changes what happens to a 4.9-score shop's refused refund-only request."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

import refundrules
from refundrules import Case, RulePack
from refundrules._cli import main

from .conftest import ROOT

EXAMPLES = ROOT / "examples" / "taobao"
AS_OF: dict[str, str] = json.loads((EXAMPLES / "as_of.json").read_text("utf-8"))

# name -> (stage, resolution, deciding rule, {deadline id: due time})
EXPECTED: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "01_unshipped_refund_awaiting_seller.yaml": (
        "awaiting_seller",
        "full_refund",
        "awaiting_seller_unshipped",
        {"seller_response": "2025-10-21T21:30:00+08:00"},
    ),
    "02_return_in_transit_88vip.yaml": (
        "awaiting_seller_receipt",
        "return_and_refund",
        "awaiting_seller_confirm_return",
        {"seller_confirms_return": "2025-11-17T11:00:00+08:00"},
    ),
    "03_high_score_shop_refund_only.yaml": (
        "escalation_open",
        "request_closed",
        "high_score_shop_negotiates_first",
        {"buyer_escalates": "2024-09-11T15:00:00+08:00"},
    ),
    "04_no_reason_return_escalated.yaml": (
        "platform_reviewing",
        "return_and_refund",
        "seven_day_return_refusal_overruled",
        {"platform_decides": "2026-03-12T20:00:00+08:00"},
    ),
    # a Tmall case, predicted by this pack (profile also_serves: [tmall]; tests/test_tmall.py)
    "05_tmall_not_received_awaiting_seller.yaml": (
        "awaiting_seller",
        "full_refund",
        "awaiting_seller_not_received",
        {"seller_response": "2025-11-09T22:00:00+08:00"},
    ),
}


@pytest.fixture(scope="module")
def taobao() -> RulePack:
    return refundrules.load_rule_pack("taobao")


def test_every_taobao_example_has_an_as_of_and_an_expectation() -> None:
    files = sorted(path.name for path in EXAMPLES.glob("*.yaml"))
    assert files == sorted(AS_OF) == sorted(EXPECTED)
    assert all(Path(EXAMPLES / name).is_file() for name in AS_OF)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_predicts_with_cited_reasons(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(EXAMPLES / name)
    assert main(["predict", path, "--as-of", AS_OF[name], "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    stage, resolution, rule, deadlines = EXPECTED[name]
    assert data["pack"]["id"] == "taobao"
    assert data["stage"] == stage
    assert data["resolution"]["outcome"] == resolution
    assert data["resolution"]["rule_id"] == rule
    assert data["resolution"]["currency"] == "CNY"
    due = {item["id"]: datetime.fromisoformat(item["due_at"]) for item in data["deadlines"]}
    assert due == {key: datetime.fromisoformat(value) for key, value in deadlines.items()}
    rule_ids = {reason["rule_id"] for reason in data["reasons"]}
    assert rule in rule_ids
    assert data["reasons"] and all(reason["sources"] for reason in data["reasons"])
    assert main(["predict", path, "--as-of", AS_OF[name], "--lang", "en"]) == 0
    text = capsys.readouterr().out
    assert "Stage:" in text and "Deadlines:" in text and "[decided] " in text


def _shift(value: object, days: int) -> object:
    """Every ISO time in `value` moved by `days`."""
    if isinstance(value, dict):
        return {key: _shift(child, days) for key, child in value.items()}
    if isinstance(value, list):
        return [_shift(child, days) for child in value]
    if isinstance(value, str) and len(value) == 25 and value[10] == "T":
        return (datetime.fromisoformat(value) + timedelta(days=days)).isoformat()
    return value


def _example_3(taobao: RulePack, days: int, score: float = 4.9) -> tuple[Case, datetime]:
    """Example 3 with every time moved by `days` and the store's score set."""
    name = "03_high_score_shop_refund_only.yaml"
    raw = yaml.safe_load((EXAMPLES / name).read_text("utf-8"))
    data = _shift(raw, days)
    assert isinstance(data, dict)
    data["store"] = {"experience_score": score}
    return taobao.load_case(data), datetime.fromisoformat(AS_OF[name]) + timedelta(days=days)


def test_a_4_9_shop_loses_proactive_refund_only_support_from_2024_08_09(taobao: RulePack) -> None:
    after_case, after_as_of = _example_3(taobao, 0)
    before_case, before_as_of = _example_3(taobao, -35)  # requested 2024-08-02
    assert after_case.store.experience_score == before_case.store.experience_score == 4.9
    before = taobao.predict(before_case, before_as_of)
    after = taobao.predict(after_case, after_as_of)
    # Before: the platform steps in on its own and supports the refund-only request.
    assert before.pack.version == "2023.12"
    assert before.resolution.rule_id == "platform_supports_refund_only"
    assert before.resolution.outcome.value == "full_refund"
    assert before.resolution.refund_amount == after_case.order.paid_amount
    assert before.resolution.decided_by == "platform"
    assert before.seller_consequences.dispute_record is True
    # After: the 4.8+ shop negotiates first; the refusal stands unless the buyer escalates.
    assert after.pack.version == "2024.8"
    assert after.resolution.rule_id == "high_score_shop_negotiates_first"
    assert after.resolution.outcome.value == "request_closed"
    assert after.resolution.refund_amount == 0
    assert after.stage.value == "escalation_open"
    assert after.seller_consequences.dispute_record is False
    # Below 4.8 the platform still steps in after the rule.
    low_case, low_as_of = _example_3(taobao, 0, score=4.7)
    assert taobao.predict(low_case, low_as_of).resolution.rule_id == "platform_supports_refund_only"


def test_the_published_outcomes_meet_the_declared_floor() -> None:
    from refundrules.testing import calibrate

    report = calibrate(refundrules.load_rule_pack("taobao"))
    # six Taobao records (4 tuning, 2 aside) and Tmall's (1 predicted tuning, 2 aside; the
    # 2012 one predates the pack): tests/test_tmall.py splits them by platform
    assert report.tuning.total == 5 and report.held_aside.total == 4
    assert report.passed, report.to_text()
