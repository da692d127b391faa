"""The rule-author tools: pack properties, the pytest plugin, semantic diff and coverage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import refundrules
from refundrules import CaseError, RulePack
from refundrules._cli import main
from refundrules._properties import check_property
from refundrules.authoring import (
    check_pack_properties,
    compare_rule_packs,
    load_replay,
    measure_coverage,
)

from .conftest import ROOT


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def shorter_window(pack_copy: Path) -> RulePack:
    edit(pack_copy / "parameters.yaml", "seller_response_window_hours:\n    value: 48",
         "seller_response_window_hours:\n    value: 36")
    edit(pack_copy / "pack.yaml", "id: pinduoduo", "id: pinduoduo_shorter")
    return refundrules.load_rule_pack(pack_copy)


def test_bundled_properties_hold(pack: RulePack) -> None:
    results = check_pack_properties(pack, max_examples=60)
    assert len(results) == len(pack.properties) >= 4
    assert [result.report() for result in results if not result.passed] == []


def test_wrong_priority_is_caught_with_a_shrunk_counterexample(pack_copy: Path) -> None:
    rulings = pack_copy / "rules" / "40_intervention.yaml"
    edit(rulings, "    priority: 102\n", "    priority: 1102\n")  # excluded goods now lose
    broken = refundrules.load_rule_pack(pack_copy)
    (checked,) = [
        prop for prop in broken.properties
        if prop.spec.id == "excluded_goods_get_no_no_reason_return"
    ]
    result = check_property(broken, checked, max_examples=200)
    assert not result.passed and result.violation is not None
    case = result.violation.case
    flags = [case.order.custom_made, case.order.fresh, case.order.opened_digital,
             case.order.virtual]
    assert flags.count(True) == 1  # shrunk: exactly one exclusion is enough
    assert case.evidence == () and len(case.timeline) == 1
    assert "ruling_no_reason_return_granted" in result.report()


def test_pytest_collects_every_pack_test_and_property(pack: RulePack) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "rules/pinduoduo"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    items = [line for line in completed.stdout.splitlines() if "::" in line]
    assert len(items) == len(pack.tests) + len(pack.properties)
    assert any(line.endswith("::seller_silence_means_refund") for line in items)


def test_failing_pack_test_reads_expected_vs_predicted(pack_copy: Path) -> None:
    timeouts = pack_copy / "tests" / "timeouts.yaml"
    text = timeouts.read_text(encoding="utf-8")
    timeouts.write_text(text.replace("stage: closed", "stage: awaiting_seller", 1),
                        encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--refundrules",
         str(pack_copy / "tests" / "timeouts.yaml")],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert completed.returncode == 1
    assert "stage: expected 'awaiting_seller', predicted 'closed'" in completed.stdout
    assert "rules fired:" in completed.stdout


def test_identical_packs_have_no_diff(pack: RulePack) -> None:
    diff = compare_rule_packs(pack, refundrules.load_rule_pack("pinduoduo"), examples=60)
    assert diff.changed == 0 and diff.transitions == () and diff.generated == 60


def test_shorter_window_diff_shows_minimal_examples(pack: RulePack, pack_copy: Path) -> None:
    new = shorter_window(pack_copy)
    diff = compare_rule_packs(pack, new, examples=500)
    labels = {report.label: report for report in diff.transitions}
    assert "stage:awaiting_seller->closed" in labels
    report = labels["stage:awaiting_seller->closed"]
    assert report.shrunk
    assert report.old.deciding_rules[0] == "awaiting_seller_response"
    assert "seller_timeout_system_agrees" in report.new.deciding_rules
    assert "timeline" not in report.case and "evidence" not in report.case
    assert all(not r.allowed for r in diff.transitions)
    allowed = compare_rule_packs(
        pack, new, examples=150, allow=["stage:*", "points:*", "*"], shrink=False
    )
    assert allowed.changed and allowed.disallowed == ()


def test_diff_cli_exit_code_follows_allow(
    pack_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A recorded dispute the shorter window changes (silent for 36 h), so the exit code does
    # not hang on what the generator happens to reach in a few examples.
    shorter_window(pack_copy)
    example = refundrules.load_case(ROOT / "examples" / "01_awaiting_seller.yaml")
    record = {"case": example.model_dump(mode="json"), "as_of": "2025-03-05T21:00:00+08:00"}
    replay_file = tmp_path / "cases.jsonl"
    replay_file.write_text(json.dumps(record) + "\n", encoding="utf-8")
    diff = ["diff", "pinduoduo", str(pack_copy), "--examples", "20", "--replay", str(replay_file)]
    assert main(diff) == 1
    out = capsys.readouterr().out
    assert "not allowed" in out and "  NO" in out
    code = main([*diff, "--allow", "stage:*", "--allow", "points:*", "--allow", "*->*",
                 "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["changed"] > 0


def test_replay_uses_recorded_cases(pack: RulePack, pack_copy: Path, tmp_path: Path) -> None:
    example = refundrules.load_case(ROOT / "examples" / "01_awaiting_seller.yaml")
    record = {"case": example.model_dump(mode="json"), "as_of": "2025-03-05T21:00:00+08:00"}
    replay_file = tmp_path / "cases.jsonl"
    replay_file.write_text(json.dumps(record) + "\n", encoding="utf-8")
    diff = compare_rule_packs(pack, shorter_window(pack_copy), examples=0,
                              replay=load_replay(replay_file))
    assert diff.replayed == 1 and diff.changed == 1
    assert diff.transitions[0].case["case_id"] == example.case_id


def test_replay_errors_name_the_line(tmp_path: Path) -> None:
    replay_file = tmp_path / "cases.jsonl"
    replay_file.write_text('{"case": {}, "as_of": "2025-03-05T21:00:00+08:00"}\n',
                           encoding="utf-8")
    with pytest.raises(CaseError) as info:
        load_replay(replay_file)
    assert f"{replay_file}:1" in str(info.value)


def test_coverage_of_the_bundled_pack_has_no_unexplained_rule(pack: RulePack) -> None:
    report = measure_coverage(pack, examples=80, search=0)
    tests = report.sources[0]
    assert tests.never_fired == () and tests.fired_never_decided == ()
    assert report.unexplained == ()


def test_coverage_flags_a_rule_that_cannot_fire(pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "10_closed.yaml"
    edit(rules, "    when: {fact: buyer_cancelled, eq: true}",
         "    when: {all: [{fact: buyer_cancelled, eq: true}, {fact: buyer_cancelled, eq: false}]}")
    report = measure_coverage(refundrules.load_rule_pack(pack_copy), examples=300, search=12)
    assert "buyer_cancelled_request" in report.sources[0].never_fired
    assert "buyer_cancelled_request" in report.unexplained
    # The search does find witnesses for rules the generated cases missed; this one has none.
    found = {witness.rule_id for witness in report.witnesses if witness.found}
    assert found and "buyer_cancelled_request" not in found


def test_coverage_searches_a_consequence_rule_without_steering_on_decision_facts() -> None:
    # A consequence rule reads metric facts that only exist after the decision; the witness
    # search used to steer on the decision facts and failed with a KeyError.
    fictional = refundrules.load_rule_pack(ROOT / "tests" / "packs" / "fictional_marketplace")
    report = measure_coverage(fictional, examples=20, search=12)
    searched = {witness.rule_id for witness in report.witnesses}
    assert "below_defect_standard" in searched
def test_the_targeted_search_also_looks_for_consequence_rules(pack: RulePack) -> None:
    # Five generated cases leave consequence-phase rules unfired; steering their search with
    # the case's decision facts raised KeyError (a fact only the consequence phase has).
    report = measure_coverage(pack, examples=5, search=5)
    gaps = {*report.sources[-1].never_fired, *report.sources[-1].fired_never_decided}
    consequence = {rule.spec.id for rule in pack.rules if rule.spec.phase == "consequence"}
    assert gaps & consequence
    assert {witness.rule_id for witness in report.witnesses} == gaps
