"""RulePack.explain: the deciding rules and the near misses, with the fact values read."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import refundrules
from refundrules import Explanation, RulePack

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
AS_OF = json.loads((EXAMPLES / "as_of.json").read_text(encoding="utf-8"))
FICTIONAL = ROOT / "tests" / "packs" / "fictional_marketplace"


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return refundrules.load_rule_pack("pinduoduo")


def _explain(pack: RulePack, name: str, language: str | None = None) -> Explanation:
    case = refundrules.load_case(EXAMPLES / name)
    return pack.explain(case, datetime.fromisoformat(AS_OF[name]), language=language)


@pytest.mark.parametrize("name", sorted(AS_OF))
def test_every_example_names_its_deciding_rules_with_values_and_a_near_miss(
    pack: RulePack, name: str
) -> None:
    case = refundrules.load_case(EXAMPLES / name)
    as_of = datetime.fromisoformat(AS_OF[name])
    prediction = pack.predict(case, as_of)
    facts = pack.facts(case, as_of)
    found = pack.explain(case, as_of, language="en")
    decided = [reason.rule_id for reason in prediction.reasons if reason.role == "decided"]
    assert [rule.rule_id for rule in found.deciding] == decided
    for rule in found.deciding:
        assert rule.conditions and all(check.passed for check in rule.conditions)
        for check in rule.conditions:
            assert check.value == facts[check.fact]
            assert check.fact in check.text and check.texts["zh"] and check.texts["en"]
    winners = {slot: value for rule in found.deciding for slot, value in rule.sets.items()}
    assert found.near_misses, f"{name}: no near miss"
    for rule in found.near_misses:
        assert rule.rule_id not in prediction.fired_rules
        assert 0 < rule.failed == sum(not check.passed for check in rule.conditions)
        assert any(winners.get(slot) != value for slot, value in rule.sets.items())
        assert rule.rule_id in found.text


def test_the_language_defaults_to_the_profile_and_both_are_carried(pack: RulePack) -> None:
    name = "05_seller_refused_escalation_open.yaml"
    default = _explain(pack, name)
    english = _explain(pack, name, "en")
    assert default.language == "zh" and english.language == "en"
    assert default.texts == english.texts
    assert "决定结果的规则" in default.text and "Deciding rules" in english.text
    assert "2025-06-04T10:00:00+08:00" in english.text  # the pack's timezone, to the second


def test_a_pack_in_english_only_explains_in_english() -> None:
    fictional = refundrules.load_rule_pack(FICTIONAL)
    test = fictional.tests[0]
    found = fictional.explain(test.case, test.spec.as_of)
    assert found.language == "en"
    assert found.deciding and "Deciding rules" in found.text


def test_cli_explain_prints_json_and_survives_an_ascii_terminal() -> None:
    name = EXAMPLES / "05_seller_refused_escalation_open.yaml"
    run = subprocess.run(
        [sys.executable, "-m", "refundrules", "explain", str(name), "--format", "json"],
        capture_output=True,
        env={"PYTHONIOENCODING": "ascii", "PATH": ""},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["language"] == "zh" and set(data["texts"]) == {"en", "zh"}
    assert [rule["rule_id"] for rule in data["deciding"]] == [
        "escalation_window_open",
        "ruling_defect_return_seller_pays",
    ]
