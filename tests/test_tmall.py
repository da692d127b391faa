"""Tmall cases are served by the Taobao family (issue 8): the taobao profile's
``also_serves: [tmall]``, the registry's choice of pack by platform and its errors, the
``case_platform`` fact, the ``--pack all`` row and calibration split by platform served."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import refundrules
from refundrules import Engine, pack_for_platform
from refundrules._cli import main
from refundrules._registry import installed_profiles, profile_problems
from refundrules.exceptions import CaseError, RulePackError
from refundrules.testing import calibrate

from .conftest import ROOT
from .test_installed import MAPLE, install_distribution, site

__all__ = ["site"]  # the fixture, imported for its use below

TAOBAO = ROOT / "rules" / "taobao"
EXAMPLE = ROOT / "examples" / "taobao" / "05_tmall_not_received_awaiting_seller.yaml"
EXAMPLE_AS_OF = "2025-11-08T20:00:00+08:00"
PDD_EXAMPLE = ROOT / "examples" / "01_awaiting_seller.yaml"
PDD_AS_OF = "2025-03-05T12:00:00+08:00"


@pytest.fixture(scope="module")
def taobao() -> refundrules.RulePack:
    return refundrules.load_rule_pack("taobao")


def _copy_of_taobao(tmp_path: Path) -> Path:
    copy = tmp_path / "taobao_copy"
    shutil.copytree(TAOBAO, copy)
    return copy


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- the profile and the case model -----------------------------------------------------------


def test_the_taobao_profile_serves_tmall(taobao: refundrules.RulePack) -> None:
    profile = taobao.profile
    assert profile.platform == "taobao" and profile.also_serves == ("tmall",)
    assert profile.served_platforms == ("taobao", "tmall")
    assert profile.serves("tmall") and not profile.serves("jd")


def test_a_tmall_case_keeps_its_platform_and_is_checked_against_the_taobao_profile() -> None:
    case = refundrules.load_case(EXAMPLE)
    assert case.platform == "tmall" and case.currency == "CNY"  # the taobao profile's default
    assert installed_profiles()["tmall"] is installed_profiles()["taobao"]
    # the profile's vocabulary applies: a Pinduoduo-only event is refused on a Tmall case
    data = refundrules.load_case(EXAMPLE).model_dump(mode="json", exclude_none=True)
    data["timeline"] = [
        {"at": "2025-11-08T12:00:00+08:00", "actor": "buyer", "kind": "no_such_event"}
    ]
    with pytest.raises(CaseError, match="no_such_event"):
        refundrules.load_case(data)


def test_a_pack_refuses_a_platform_it_does_not_serve_naming_those_it_does(
    taobao: refundrules.RulePack,
) -> None:
    data = refundrules.load_case(EXAMPLE).model_dump(mode="json", exclude_none=True)
    data["platform"] = "jd"
    with pytest.raises(CaseError) as caught:
        taobao.load_case(data)
    assert caught.value.field == "platform"
    assert "this pack is for 'taobao' or 'tmall', the case is 'jd'" in str(caught.value)


def test_also_serves_may_not_name_the_profiles_own_platform_or_repeat(tmp_path: Path) -> None:
    copy = _copy_of_taobao(tmp_path)
    profile = copy / "profile.yaml"
    _replace(profile, "also_serves: [tmall]", "also_serves: [tmall, taobao]")
    with pytest.raises(RulePackError, match="own platform 'taobao'") as caught:
        refundrules.load_rule_pack(copy)
    assert caught.value.path is not None and caught.value.path.endswith("profile.yaml")
    _replace(profile, "also_serves: [tmall, taobao]", "also_serves: [tmall, tmall]")
    with pytest.raises(RulePackError, match="names 'tmall' twice"):
        refundrules.load_rule_pack(copy)


# --- the registry -------------------------------------------------------------------------------


def test_the_pack_for_a_platform_is_the_one_that_serves_it() -> None:
    assert pack_for_platform("tmall") == "taobao"
    assert pack_for_platform("taobao") == "taobao"
    assert pack_for_platform("pinduoduo") == "pinduoduo"


def test_no_installed_pack_for_a_platform_is_a_case_error_with_a_suggestion() -> None:
    with pytest.raises(CaseError) as caught:
        pack_for_platform("tmal")
    assert caught.value.field == "platform"
    message = str(caught.value)
    assert "no installed rule pack is for platform 'tmal' (did you mean 'tmall'?)" in message
    assert "tmall" in message.split("installed: ")[1]


def test_predict_without_a_pack_picks_the_taobao_pack_for_a_tmall_case(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["predict", str(EXAMPLE), "--as-of", EXAMPLE_AS_OF, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["pack"]["id"] == "taobao"
    assert data["resolution"]["rule_id"] == "awaiting_seller_not_received"


def test_an_engine_predicts_a_tmall_case_with_the_taobao_pack() -> None:
    data = refundrules.load_case(EXAMPLE).model_dump(mode="json", exclude_none=True)
    with Engine(["pinduoduo", "taobao"]) as engine:
        assert engine.resolve(data) == "taobao"
        case, prediction = engine.predict_case(
            data, refundrules.load_case(EXAMPLE).request.requested_at
        )
        assert case.platform == "tmall" and prediction.pack.id == "taobao"
    with Engine(["pinduoduo"]) as engine, pytest.raises(CaseError, match="'tmall'"):
        engine.resolve(data)


def test_two_entry_point_packs_claiming_one_platform_are_an_error_naming_both(site: Path) -> None:
    install_distribution(
        site,
        {"maple_a": "acme_refund_packs.maple_a", "maple_b": "acme_refund_packs.maple_b"},
        {"maple_a": MAPLE, "maple_b": MAPLE},
    )
    with pytest.raises(RulePackError) as caught:
        pack_for_platform("maple_market")
    assert "'maple_a' and 'maple_b'" in str(caught.value) and caught.value.field == "platform"
    assert caught.value.hint is not None and "name the pack" in caught.value.hint
    # a case of that platform cannot pick a profile either; naming a pack still works
    data = refundrules.load_case(PDD_EXAMPLE).model_dump(mode="json", exclude_none=True)
    data["platform"] = "maple_market"
    with pytest.raises(RulePackError, match="'maple_a' and 'maple_b'"):
        refundrules.load_case(data)
    assert refundrules.load_rule_pack("maple_b").platform == "maple_market"
    # every other platform is untouched
    assert pack_for_platform("tmall") == "taobao"


def test_an_entry_point_pack_also_serving_tmall_does_not_take_it_from_the_bundled_pack(
    site: Path, tmp_path: Path
) -> None:
    rival = tmp_path / "rival"
    shutil.copytree(MAPLE, rival)
    _replace(
        rival / "profile.yaml",
        "platform: maple_market\n",
        "platform: maple_market\nalso_serves: [tmall]\n",
    )
    install_distribution(site, {"maple": "acme_refund_packs.rival"}, {"rival": rival})
    assert pack_for_platform("tmall") == "taobao"
    assert pack_for_platform("maple_market") == "maple"
    assert "platform 'tmall' is pack 'taobao''s" in profile_problems()["maple"]


# --- the case_platform fact -----------------------------------------------------------------------


def test_the_case_platform_fact_is_the_cases_own_platform(taobao: refundrules.RulePack) -> None:
    tmall = refundrules.load_case(EXAMPLE)
    assert taobao.facts(tmall, tmall.request.requested_at)["case_platform"] == "tmall"
    data = tmall.model_dump(mode="json", exclude_none=True)
    data["platform"] = "taobao"
    same = taobao.load_case(data)
    assert taobao.facts(same, same.request.requested_at)["case_platform"] == "taobao"
    spec = taobao.profile.decision_facts["case_platform"]
    assert spec.kind == "text" and spec.values == ("taobao", "tmall")


def test_a_rule_may_differ_for_tmall_and_a_misspelt_platform_fails_at_load(tmp_path: Path) -> None:
    copy = _copy_of_taobao(tmp_path)
    waiting = copy / "rules" / "50_waiting.yaml"
    condition = "        - {fact: goods_virtual, eq: false}\n"
    _replace(waiting, condition, condition + "        - {fact: case_platform, eq: tmal}\n")
    with pytest.raises(RulePackError, match="did you mean 'tmall'"):
        refundrules.load_rule_pack(copy)
    _replace(waiting, "{fact: case_platform, eq: tmal}", "{fact: case_platform, eq: taobao}")
    pack = refundrules.load_rule_pack(copy)
    tmall = pack.load_case(EXAMPLE)
    data = tmall.model_dump(mode="json", exclude_none=True)
    data["platform"] = "taobao"
    as_of = tmall.request.requested_at
    assert (
        pack.predict(pack.load_case(data), as_of).resolution.rule_id
        == "awaiting_seller_not_received"
    )
    assert pack.predict(tmall, as_of).resolution.rule_id != "awaiting_seller_not_received"


# --- predict --pack all --------------------------------------------------------------------------


def test_the_taobao_row_reads_as_tmall_for_a_tmall_case_and_is_its_own(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["predict", str(EXAMPLE), "--pack", "all", "--as-of", EXAMPLE_AS_OF]) == 0
    lines = capsys.readouterr().out.splitlines()
    header, first = lines[1], lines[2]
    assert first.startswith("* taobao (as tmall)")
    assert "awaiting_seller_not_received" in first
    # the columns stay aligned: every row's resolution starts where the header's does
    column = header.index("resolution")
    rows = lines[2 : lines.index("not predicted:")]
    assert len(rows) == len(refundrules._installed.installed_packs())
    for row in rows:
        assert row[column - 2 : column] == "  " and row[column] != " ", row


def test_the_json_comparison_carries_served_as(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            ["predict", str(EXAMPLE), "--pack", "all", "--as-of", EXAMPLE_AS_OF, "--format", "json"]
        )
        == 0
    )
    answers = json.loads(capsys.readouterr().out)["answers"]
    first = answers[0]
    assert (first["pack_id"], first["platform"], first["served_as"]) == (
        "taobao",
        "taobao",
        "tmall",
    )
    assert first["own_platform"] is True
    others = {answer["pack_id"]: answer for answer in answers[1:]}
    assert others["jd"]["served_as"] == "jd" and others["jd"]["own_platform"] is False


def test_a_case_of_another_platform_is_put_to_the_taobao_pack_as_taobao(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        main(
            ["predict", str(PDD_EXAMPLE), "--pack", "all", "--as-of", PDD_AS_OF, "--format", "json"]
        )
        == 0
    )
    answers = {
        answer["pack_id"]: answer for answer in json.loads(capsys.readouterr().out)["answers"]
    }
    assert answers["taobao"]["served_as"] == "taobao" and not answers["taobao"]["own_platform"]
    assert answers["pinduoduo"]["own_platform"]
    assert main(["predict", str(PDD_EXAMPLE), "--pack", "all", "--as-of", PDD_AS_OF]) == 0
    rows = capsys.readouterr().out.splitlines()[2:]
    assert any(row.startswith("  taobao ") for row in rows)
    assert not any("(as " in row for row in rows)


# --- calibration split by platform served ------------------------------------------------------


def test_calibration_splits_the_taobao_familys_records_by_platform_served() -> None:
    report = calibrate(refundrules.load_rule_pack("taobao"))
    assert report.platforms == ("taobao", "tmall")
    split = report.by_platform
    taobao_tuning, taobao_aside = split["taobao"]
    tmall_tuning, tmall_aside = split["tmall"]
    assert (taobao_tuning.total, taobao_aside.total) == (4, 2)
    # Tmall: two tuning records, one of which (2012) predates the pack; two set aside
    assert (len(tmall_tuning.results), tmall_tuning.total, tmall_aside.total) == (2, 1, 2)
    assert taobao_tuning.total + tmall_tuning.total == report.tuning.total
    assert taobao_aside.total + tmall_aside.total == report.held_aside.total
    assert all(
        result.platform == "tmall" for result in (*tmall_tuning.results, *tmall_aside.results)
    )
    # the split sums to the whole
    assert taobao_aside.fine_correct + tmall_aside.fine_correct == report.held_aside.fine_correct
    data = report.to_dict()["by_platform"]
    assert list(data) == ["taobao", "tmall"]
    assert data["tmall"]["tuning"] == {
        "records": 1,
        "fine_correct": 1,
        "fine_accuracy": 1.0,
        "coarse_correct": 1,
        "coarse_accuracy": 1.0,
        "not_predicted": 1,
    }
    text = report.to_text()
    assert "by platform served:" in text
    assert "  tmall   tuning       1 records  fine 1/1 = 100.0%" in text


def test_a_single_platform_pack_has_one_platform_and_no_split_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = calibrate(refundrules.load_rule_pack("pinduoduo"))
    assert list(report.by_platform) == ["pinduoduo"]
    assert "by platform served" not in report.to_text()
    assert main(["calibrate", "taobao", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["by_platform"]) == {"taobao", "tmall"}


def test_packs_and_validate_say_the_taobao_pack_also_serves_tmall(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["validate", "taobao"]) == 0
    assert capsys.readouterr().out.startswith("ok: taobao (taobao, also serves tmall): ")
    assert main(["packs", "--format", "json"]) == 0
    listed = {entry["name"]: entry for entry in json.loads(capsys.readouterr().out)}
    assert listed["taobao"]["also_serves"] == ["tmall"]
    assert "also_serves" not in listed["pinduoduo"]


def test_the_pack_tests_of_tmall_cases_pass(taobao: refundrules.RulePack) -> None:
    from refundrules.authoring import run_pack_tests

    results = [result for result in run_pack_tests(taobao) if result.test.case.platform == "tmall"]
    assert len(results) == 2
    assert all(result.passed for result in results), [result.mismatches for result in results]


def test_two_loaded_packs_also_serving_one_platform_are_an_error_naming_both(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for folder, name in ((first, "maple_one"), (second, "maple_two")):
        shutil.copytree(MAPLE, folder)
        _replace(folder / "pack.yaml", "id: fictional_marketplace", f"id: {name}")
        _replace(folder / "pack.yaml", "platform: maple_market", f"platform: {name}")
        _replace(
            folder / "profile.yaml",
            "platform: maple_market\n",
            f"platform: {name}\nalso_serves: [maple_market]\n",
        )
    data = refundrules.load_case(PDD_EXAMPLE).model_dump(mode="json", exclude_none=True)
    data["platform"] = "maple_market"
    with Engine([first, second]) as engine, pytest.raises(RulePackError) as caught:
        engine.resolve(data)
    assert "more than one loaded pack" in str(caught.value)
    with Engine([first]) as engine:
        assert engine.resolve(data) == "maple_one"
