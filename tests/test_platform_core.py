"""One core for every marketplace: profiles, a fictional platform, dated versions."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

import refundrules
from refundrules import Case, CaseError, RulePack, RulePackError
from refundrules._calendar import BusinessCalendar
from refundrules._cli import main
from refundrules._pack_tests import run_pack_tests, untested_versions

from .conftest import ROOT, at

FICTIONAL = ROOT / "tests" / "packs" / "fictional_marketplace"
NEW_YORK = ZoneInfo("America/New_York")

CLAIM: dict[str, Any] = {
    "case_id": "mm-claim",
    "platform": "maple_market",
    "order": {"order_id": "MM", "paid_amount": "80.00", "paid_at": "2025-08-20T12:00:00-04:00"},
    "request": {
        "kind": "refund_only",
        "reason": "not_received",
        "amount": "80.00",
        "requested_at": "2025-08-29T17:00:00-04:00",
    },
    "timeline": [{"at": "2025-08-29T17:00:00-04:00", "actor": "buyer", "kind": "buyer_opened_claim"}],
    "store": {"metrics": {"orders_90d": 100, "defects_90d": 1}},
}


@pytest.fixture(scope="module")
def maple() -> RulePack:
    return refundrules.load_rule_pack(FICTIONAL)


def test_fictional_marketplace_predicts_a_business_day_deadline_in_usd(maple: RulePack) -> None:
    case = maple.load_case(CLAIM)
    assert case.currency == "USD"  # the profile's default currency
    prediction = maple.predict(case, at("2025-09-02T09:00:00-04:00"))
    (deadline,) = prediction.deadlines
    # Friday 17:00 + 3 business days, skipping the weekend and Labor Day (Monday 1 September).
    assert deadline.due_at == datetime(2025, 9, 4, 17, 0, tzinfo=NEW_YORK)
    assert deadline.due_at.utcoffset() == timedelta(hours=-4)
    assert deadline.party == "seller" and deadline.id == "seller_answers_claim"
    assert prediction.stage.value == "awaiting_seller"
    assert prediction.resolution.currency == "USD"
    decided = [reason for reason in prediction.reasons if reason.role == "decided"]
    assert decided and all(reason.sources for reason in decided)
    assert all(reason.title == reason.title_zh for reason in prediction.reasons)  # English only


def test_a_claim_decided_with_no_seller_refusal_moves_the_defect_rate(maple: RulePack) -> None:
    data = copy.deepcopy(CLAIM)
    data["timeline"].append(
        {"at": "2025-09-05T10:00:00-04:00", "actor": "platform", "kind": "platform_ruled",
         "ruling": "full_refund"}
    )
    late = maple.predict(maple.load_case(data), at("2025-09-05T12:00:00-04:00"))
    assert late.resolution.rule_id == "claim_decided" and late.resolution.final
    missed = maple.predict(maple.load_case(CLAIM), at("2025-09-04T17:00:00-04:00"))
    (change,) = missed.seller_consequences.metrics
    assert (change.metric, change.kind, change.added) == ("order_defect_rate", "rate", 1.0)
    assert (change.before, change.after) == (0.01, 0.02)
    assert [s.name for s in missed.seller_consequences.sanctions] == ["below_standard"]
    assert missed.seller_consequences.penalty_points_added == 0.0  # no points on this platform
    assert "order defect rate +1 defect (1.00% → 2.00%)" in refundrules_text(missed)


def refundrules_text(prediction: refundrules.Prediction) -> str:
    from refundrules._report import render_text

    return render_text(prediction)


def test_the_fictional_packs_own_tests_pass(maple: RulePack) -> None:
    results = run_pack_tests(maple)
    assert len(results) >= 9
    assert [result.report() for result in results if not result.passed] == []
    assert untested_versions(maple) == []


def test_a_platform_with_no_installed_pack_lists_the_installed_ones() -> None:
    with pytest.raises(CaseError) as info:
        refundrules.load_case(CLAIM)
    assert info.value.field == "platform"
    shape_only = Case.model_validate(CLAIM)  # the shape is fine; the platform is unknown here
    assert shape_only.currency is None
    assert "maple_market" in str(info.value) and "installed: " in str(info.value)
    assert "pinduoduo" in str(info.value).split("installed: ")[1]


def test_each_platform_allows_only_its_own_events(maple: RulePack) -> None:
    pdd_case = copy.deepcopy(CLAIM)
    pdd_case["platform"] = "pinduoduo"
    pdd_case["order"]["currency"] = "CNY"
    with pytest.raises(CaseError) as info:
        refundrules.load_case(pdd_case)
    assert "unknown event kind 'buyer_opened_claim'" in dict(info.value.errors)["timeline[0].kind"]
    wrong = copy.deepcopy(CLAIM)
    wrong["timeline"][0]["actor"] = "card_issuer"
    with pytest.raises(CaseError) as info:
        maple.load_case(wrong)
    assert "done by buyer, not by 'card_issuer'" in dict(info.value.errors)["timeline[0]"]


def test_a_case_of_another_platform_is_refused_by_predict(
    maple: RulePack, pack: RulePack, make_case: Any
) -> None:
    with pytest.raises(CaseError) as info:
        maple.predict(make_case(), at("2025-03-04T10:00:00+08:00"))
    assert info.value.field == "platform"


def test_business_days_and_deadlines_agree() -> None:
    calendar = BusinessCalendar("America/New_York", country="US")
    start = datetime(2025, 8, 29, 17, 0, tzinfo=NEW_YORK)
    due = calendar.add_business_days(start, 3)
    assert due == datetime(2025, 9, 4, 17, 0, tzinfo=NEW_YORK)
    assert calendar.business_days_between(start, due) == pytest.approx(3.0)
    assert calendar.business_days_between(start, due - timedelta(seconds=1)) < 3.0
    assert not calendar.is_business_day(datetime(2025, 9, 1).date())  # Labor Day
    assert calendar.business_days_between(start, datetime(2025, 9, 2, 0, 0, tzinfo=NEW_YORK)) == (
        pytest.approx(7 / 24)  # Friday 17:00–24:00 only
    )


# --- dated versions ---------------------------------------------------------------------------


def _same_case_on(day: str) -> dict[str, Any]:
    """The low-value damaged item of the version tests, requested on ``day`` (YYYY-MM-DD)."""
    return {
        "platform": "pinduoduo",
        "order": {"order_id": "V", "paid_amount": "39.90", "paid_at": f"{day}T08:00:00+08:00",
                  "shipped_at": f"{day}T08:30:00+08:00", "delivered_at": f"{day}T09:00:00+08:00"},
        "request": {"kind": "refund_only", "reason": "damaged", "amount": "39.90",
                    "requested_at": f"{day}T10:00:00+08:00"},
        "timeline": [
            {"at": f"{day}T16:00:00+08:00", "actor": "seller", "kind": "seller_refused",
             "refusal_reason": "goods_as_described"},
            {"at": f"{day}T18:00:00+08:00", "actor": "buyer", "kind": "buyer_escalated"},
        ],
        "evidence": [{"party": "buyer", "kind": "photo"}],
        "logistics": {"status": "signed"},
    }


def test_the_same_case_in_2024_and_2025_is_predicted_under_different_versions(
    pack: RulePack,
) -> None:
    early = Case.model_validate(_same_case_on("2024-03-05"))
    late = Case.model_validate(_same_case_on("2025-09-05"))
    before = pack.predict(early, at("2024-03-06T10:00:00+08:00"))
    after = pack.predict(late, at("2025-09-06T10:00:00+08:00"))
    assert (before.pack.version, after.pack.version) == ("2022.12", "2025.7")
    assert before.pack.content_hash != after.pack.content_hash
    assert before.resolution.outcome.value == "refund_without_return"
    assert after.resolution.outcome.value == "return_and_refund"
    assert after.resolution.return_shipping_paid_by.value == "seller"
    pinned = pack.predict(late, at("2025-09-06T10:00:00+08:00"), version="2022.12")
    assert pinned.resolution.outcome.value == "refund_without_return"
    assert "was pinned" in pinned.warnings[0]


def test_each_version_has_its_own_passing_tests(pack: RulePack) -> None:
    assert [version.version for version in pack.versions] == [
        "2015.9", "2021.1", "2022.12", "2024.12", "2025.7", "2026.2"
    ]
    assert untested_versions(pack) == []
    by_version: dict[str, int] = {}
    for test in pack.tests:
        chosen = test.spec.version or pack.version_for(test.case).version
        by_version[chosen] = by_version.get(chosen, 0) + 1
    assert set(by_version) == {version.version for version in pack.versions}


def test_versions_end_where_the_next_begins(pack: RulePack) -> None:
    for earlier, later in zip(pack.versions, pack.versions[1:], strict=False):
        assert earlier.effective_to == later.effective_from - timedelta(days=1)
    assert pack.versions[-1].effective_to is None
    assert "late_shipment_compensation" not in {r.spec.id for r in pack.version("2022.12").rules}
    assert "late_shipment_compensation" in {r.spec.id for r in pack.version("2024.12").rules}


def test_diff_between_two_versions_of_one_family(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # A low-value dispute the platform refunds without return under 2024.12 must go back to
    # return and refund under 2025.7 (the platform no longer imposes refund without return).
    # It is replayed, so the assertion does not depend on which cases the generator reaches.
    example = ROOT / "examples" / "06_platform_reviewing_low_value.yaml"
    replay = tmp_path / "replay.jsonl"
    case = yaml.safe_load(example.read_text(encoding="utf-8"))
    replay.write_text(
        json.dumps({"case": case, "as_of": "2025-04-17T15:00:00+08:00"}) + "\n", encoding="utf-8"
    )
    code = main(["diff", "pinduoduo@2024.12", "pinduoduo@2025.7", "--examples", "50",
                 "--replay", str(replay), "--allow", "*"])
    out = capsys.readouterr().out
    assert code == 0
    assert "diff pinduoduo 2024.12" in out and "-> pinduoduo 2025.7" in out
    assert "50 generated + 1 replayed cases" in out
    assert "refund_without_return->return_and_refund" in out


def test_predict_cli_pins_a_version(capsys: pytest.CaptureFixture[str]) -> None:
    example = ROOT / "examples" / "06_platform_reviewing_low_value.yaml"
    assert main(["predict", str(example), "--as-of", "2025-04-17T15:00:00+08:00",
                 "--pack-version", "2025.7", "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert '"version": "2025.7"' in out and "was pinned" in out


# --- load-time checks of profiles and dates --------------------------------------------------


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "maple"
    shutil.copytree(FICTIONAL, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("profile.yaml", "claim: {last: [buyer_opened_claim]}", "claim: {last: [buyer_opend_claim]}",
         "unknown event kind 'buyer_opend_claim' (did you mean 'buyer_opened_claim'?)"),
        ("profile.yaml", "field: order.paid_amount", "field: order.paid_amont",
         "order has no field 'paid_amont'"),
        ("profile.yaml", "languages: [en]", "languages: [en, zh]", "needs a 'zh' text"),
        ("rules/claims.yaml", "    priority: 60\n", "    priority: 60\n    in_force: {from: 2025-03-01}\n",
         "2025-03-01 is not a version boundary"),
        ("rules/claims.yaml", "from: claim\n", "from: clam\n", "unknown anchor 'clam'"),
        ("rules/claims.yaml", "metrics: {order_defect_rate:", "metrics: {order_defect_rat:",
         "unknown metric 'order_defect_rat'"),
    ],
)
def test_profile_and_date_mistakes_fail_at_load_with_a_line(
    tmp_path: Path, file: str, old: str, new: str, message: str
) -> None:
    root = _copy(tmp_path)
    _edit(root / file, old, new)
    with pytest.raises(RulePackError) as info:
        refundrules.load_rule_pack(root)
    assert message in str(info.value)
    assert info.value.path is not None and info.value.path.endswith(file.split("/")[-1])
    assert info.value.line is not None


def test_a_parameter_change_off_a_version_boundary_is_refused(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root / "parameters.yaml", "    value: 3\n",
          "    value: 3\n    changes: [{from: 2025-06-01, value: 5, source: fixture, confidence: D}]\n")
    with pytest.raises(RulePackError, match="not a version boundary"):
        refundrules.load_rule_pack(root)


def test_a_parameter_change_on_a_boundary_gives_the_new_version_its_value(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root / "pack.yaml", "    title: The only version\n",
          '    title: The first version\n  - version: "2025.6"\n    effective_from: 2025-06-01\n'
          "    title: A longer claim window\n")
    _edit(root / "parameters.yaml", "    value: 3\n",
          "    value: 3\n    changes: [{from: 2025-06-01, value: 5, source: fixture, confidence: D}]\n")
    maple = refundrules.load_rule_pack(root)
    assert maple.version("2025.1").parameters["seller_claim_window_business_days"].value == 3
    assert maple.version("2025.6").parameters["seller_claim_window_business_days"].value == 5
    prediction = maple.predict(maple.load_case(CLAIM), at("2025-09-02T09:00:00-04:00"))
    assert prediction.pack.version == "2025.6"
    assert prediction.deadlines[0].due_at == datetime(2025, 9, 8, 17, 0, tzinfo=NEW_YORK)


def test_a_request_before_the_first_version_names_it(maple: RulePack) -> None:
    data = copy.deepcopy(CLAIM)
    data["order"]["paid_at"] = "2024-12-01T12:00:00-05:00"
    data["request"]["requested_at"] = "2024-12-20T12:00:00-05:00"
    data["timeline"][0]["at"] = "2024-12-20T12:00:00-05:00"
    with pytest.raises(CaseError, match=r"first, 2025\.1, is in force from 2025-01-01"):
        maple.predict(maple.load_case(data), at("2024-12-21T12:00:00-05:00"))


def test_versions_register_their_rulesets_only_when_first_used(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root / "pack.yaml", "    title: The only version\n",
          '    title: The first version\n  - version: "2025.6"\n    effective_from: 2025-06-01\n'
          "    title: A second version\n")
    maple = refundrules.load_rule_pack(root)
    assert [version._engines for version in maple.versions] == [None, None]
    maple.predict(maple.load_case(CLAIM), at("2025-09-02T09:00:00-04:00"))
    first, second = maple.versions
    assert first._engines is None and second._engines is not None
    first.compile()
    assert first._engines is not None
    maple.close()
    with pytest.raises(refundrules.EngineError, match="closed"):
        first.predict(maple.load_case(CLAIM), at("2025-09-02T09:00:00-04:00"))



def _maple_with_currencies(tmp_path: Path, currencies: str) -> Path:
    folder = tmp_path / "maple"
    shutil.copytree(FICTIONAL, folder)
    profile = folder / "profile.yaml"
    text = profile.read_text("utf-8").replace(
        "defaults: {currency: USD,", f"defaults: {{currency: USD, currencies: {currencies},"
    )
    profile.write_text(text, "utf-8")
    return folder


def test_a_profile_may_accept_cases_in_several_currencies(tmp_path: Path) -> None:
    maple = refundrules.load_rule_pack(_maple_with_currencies(tmp_path, "[USD, GBP]"))
    data = copy.deepcopy(CLAIM)
    data["order"]["currency"] = "GBP"
    prediction = maple.predict(maple.load_case(data), at("2025-09-04T17:00:00-04:00"))
    assert prediction.resolution.currency == "GBP"
    assert prediction.resolution.refund_amount == 80
    data["order"]["currency"] = "EUR"
    with pytest.raises(CaseError) as info:
        maple.predict(maple.load_case(data), at("2025-09-04T17:00:00-04:00"))
    assert "amounts are in USD, GBP, the case is in EUR" in dict(info.value.errors)["order.currency"]

