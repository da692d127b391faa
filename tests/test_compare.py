"""One case under every pack side by side (`refundrules predict CASE --pack all`)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

import refundrules
from refundrules._cli import main

from .conftest import ROOT

EXAMPLE = str(ROOT / "examples" / "05_seller_refused_escalation_open.yaml")
AS_OF = datetime.fromisoformat("2025-06-04T10:00:00+08:00")
FICTIONAL = ROOT / "tests" / "packs" / "fictional_marketplace"


def test_own_platform_first_and_equal_to_its_own_prediction(pack: refundrules.RulePack) -> None:
    case = refundrules.load_case(EXAMPLE)
    other = refundrules.load_rule_pack(FICTIONAL)
    found = refundrules.compare_platforms(case, AS_OF, [other, pack])
    assert [answer.pack_id for answer in found.answers] == ["pinduoduo", "fictional_marketplace"]
    own = found.answers[0]
    assert own.own_platform and own.prediction == pack.predict(case, AS_OF)
    assert found.as_of == AS_OF and found.case_id == case.case_id


def test_a_platform_the_case_cannot_be_put_to_says_why(pack: refundrules.RulePack) -> None:
    case = refundrules.load_case(EXAMPLE)
    other = refundrules.load_rule_pack(FICTIONAL)
    answer = refundrules.compare_platforms(case, AS_OF, [pack, other]).answers[1]
    assert answer.prediction is None and not answer.own_platform
    assert answer.problem is not None and "seller_refused" in answer.problem


def test_a_case_valid_on_both_platforms_is_predicted_on_both(
    pack: refundrules.RulePack,
) -> None:
    # The fictional marketplace knows no Pinduoduo events and amounts in USD: a bare USD
    # request with no timeline is valid on both, and each predicts it under its own rules.
    data = {
        "case_id": "both", "platform": "maple_market",
        "order": {"order_id": "o", "paid_amount": "40.00", "currency": "USD",
                  "paid_at": "2025-06-01T10:00:00-04:00"},
        "request": {"kind": "refund_only", "reason": "not_received", "amount": "40.00",
                    "requested_at": "2025-06-02T10:00:00-04:00"},
    }
    other = refundrules.load_rule_pack(FICTIONAL)
    case = other.load_case(data)
    found = refundrules.compare_platforms(case, AS_OF, [pack, other])
    assert found.answers[0].pack_id == "fictional_marketplace" and found.answers[0].own_platform
    assert found.answers[0].prediction is not None
    # Pinduoduo's amounts are in CNY: it refuses the USD case rather than misread it.
    assert found.answers[1].problem is not None and "CNY" in found.answers[1].problem


def test_cli_prints_a_table_marking_the_own_platform(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", EXAMPLE, "--pack", "all", "--as-of", AS_OF.isoformat()]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["platform", "resolution", "refund", "deciding", "rule", "next",
                                "deadline", "seller"]
    own = next(line for line in lines if line.startswith("* "))
    assert own.split()[1] == "pinduoduo" and "ruling_defect_return_seller_pays" in own
    assert "buyer by 2025-06-05 15:00" in own  # the pack's timezone, no seconds


def test_cli_json_lists_every_bundled_pack(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["predict", EXAMPLE, "--pack", "all", "--as-of", AS_OF.isoformat(),
                 "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    from refundrules._loader import bundled_pack_names

    assert sorted(answer["pack_id"] for answer in data["answers"]) == bundled_pack_names()
    assert [answer["own_platform"] for answer in data["answers"]].count(True) == 1


def test_pack_version_is_refused_with_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", EXAMPLE, "--pack", "all", "--pack-version", "2025.7"]) == 2
    assert "--pack-version" in capsys.readouterr().err


def test_packs_it_loads_itself_are_closed_and_the_callers_stay_open(
    pack: refundrules.RulePack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import refundrules._compare as compare

    loaded: list[refundrules.RulePack] = []

    def load(name: str) -> refundrules.RulePack:
        loaded.append(refundrules.load_rule_pack(name))
        return loaded[-1]

    monkeypatch.setattr(compare, "load_rule_pack", load)
    case = refundrules.load_case(EXAMPLE)
    found = refundrules.compare_platforms(case, AS_OF)
    assert len(loaded) == len(found.answers) >= 2
    assert all(version.closed for item in loaded for version in item.versions)
    refundrules.compare_platforms(case, AS_OF, [pack])
    assert not any(version.closed for version in pack.versions)  # the caller's pack
