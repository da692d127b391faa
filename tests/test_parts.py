"""Shared parts (rules/_shared/NAME): loading, priority placement, ``extend``, every error path,
the content hash, and that including a part predicts exactly what writing it into the pack does."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import refundrules
from refundrules._loader import bundled_pack_names, read_pack
from refundrules.exceptions import RulePackError
from refundrules.testing import evaluations

from .test_loader import edit, line_of

ROOT = Path(__file__).resolve().parents[1]
PART = ROOT / "rules" / "_shared" / "china_law"
# Every family including the China-wide part, with the base priority its pack.yaml gives.
CHINESE = {"taobao": 38, "douyin": 70, "kuaishou": 50, "jd": 38, "wechat_shop": 38}
NOT_COVERED = "cn_seven_day_return_not_covered"
OVERRULED = "cn_seven_day_return_refusal_overruled"


def part_rules(name: str) -> dict[str, Any]:
    """The part's rules as placed in the latest version of family ``name``, by id."""
    version = read_pack(name).versions[-1]
    return {rule.spec.id: rule for rule in version.rules if "_shared" in rule.path}


@pytest.fixture
def family(tmp_path: Path) -> Path:
    """A writable Taobao family with a writable copy of the part beside it (found first)."""
    shutil.copytree(ROOT / "rules" / "taobao", tmp_path / "taobao")
    shutil.copytree(PART, tmp_path / "_shared" / "china_law")
    return tmp_path / "taobao"


def load_error(root: Path) -> RulePackError:
    with pytest.raises(RulePackError) as caught:
        read_pack(root)
    return caught.value


# --- loading and placement ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CHINESE))
def test_a_chinese_family_gets_the_part_rules_at_its_base_priority(name: str) -> None:
    placed = part_rules(name)
    assert sorted(placed) == [NOT_COVERED, OVERRULED]
    assert placed[NOT_COVERED].spec.priority == CHINESE[name]
    assert placed[OVERRULED].spec.priority == CHINESE[name] + 1


@pytest.mark.parametrize("name", sorted(CHINESE))
def test_a_chinese_family_cites_the_part_sources_and_parameter(name: str) -> None:
    pack = refundrules.load_rule_pack(name)
    assert {"cpl_article_25", "cn_seven_day_measures", "cn_decree_116"} <= set(
        pack.manifest.sources
    )
    version = read_pack(name).versions[-1]
    assert version.parameters["no_reason_return_days"].value == 7
    assert version.parameters["no_reason_return_days"].source == "cpl_article_25"


def test_the_shared_folder_is_not_a_pack() -> None:
    names = bundled_pack_names()
    assert "_shared" not in names and "china_law" not in names
    assert set(CHINESE) <= set(names)


def test_the_law_is_in_force_from_2014_03_15_where_a_family_starts_before() -> None:
    # JD's history starts in 2010: the seven-day return is not in its 2010.1 version.
    jd = read_pack("jd")
    ids = {version.version: {rule.spec.id for rule in version.rules} for version in jd.versions}
    assert NOT_COVERED not in ids["2010.1"]
    assert NOT_COVERED in ids["2014.3"]
    # Douyin's starts in 2021: the law is in force throughout.
    assert all(
        NOT_COVERED in {rule.spec.id for rule in version.rules}
        for version in read_pack("douyin").versions
    )


def test_the_part_rules_mean_the_same_in_every_family() -> None:
    specs = {name: part_rules(name) for name in CHINESE}
    for rule_id in (NOT_COVERED, OVERRULED):
        first = specs["taobao"][rule_id]
        for name in CHINESE:
            rule = specs[name][rule_id]
            assert rule.spec.when == first.spec.when, name
            assert rule.spec.then.stage == first.spec.then.stage, name
            assert rule.spec.then.resolution == first.spec.then.resolution, name
            assert rule.condition == first.condition, name


# --- extend ------------------------------------------------------------------------------


def test_extend_adds_the_family_consequences_to_the_part_rule() -> None:
    taobao = part_rules("taobao")[OVERRULED].spec
    assert {name: ref.param for name, ref in taobao.then.metrics.items()} == {
        "penalty_points": "penalty_points_dispute_lost"
    }
    assert [deadline.id for deadline in taobao.then.deadlines] == ["platform_decides"]
    assert [item.action for item in taobao.then.recommend] == ["accept_no_reason_return"]
    assert taobao.sources == ("cpl_article_25", "cn_seven_day_measures", "tb_escalation_blog")
    wechat = part_rules("wechat_shop")[OVERRULED].spec
    assert not wechat.then.metrics
    assert [deadline.id for deadline in wechat.then.deadlines] == ["merchant_answers_dispute"]
    # The part's own rule is untouched by the families' extensions.
    jd = part_rules("jd")[OVERRULED].spec
    assert not jd.then.metrics and not jd.then.deadlines


def test_a_taobao_prediction_carries_the_extended_penalty_and_deadline() -> None:
    pack = refundrules.load_rule_pack("taobao")
    case = refundrules.Case.model_validate(
        {
            "case_id": "part-1",
            "platform": "taobao",
            "order": {
                "order_id": "P1",
                "paid_amount": "99.00",
                "paid_at": "2025-03-01T10:00:00+08:00",
                "shipped_at": "2025-03-01T12:00:00+08:00",
                "delivered_at": "2025-03-03T10:00:00+08:00",
            },
            "request": {
                "kind": "return_and_refund",
                "reason": "no_reason_7_day",
                "amount": "99.00",
                "requested_at": "2025-03-05T10:00:00+08:00",
            },
            "timeline": [
                {
                    "at": "2025-03-05T12:00:00+08:00",
                    "actor": "seller",
                    "kind": "seller_refused",
                    "refusal_reason": "goods_as_described",
                },
                {"at": "2025-03-05T14:00:00+08:00", "actor": "buyer", "kind": "buyer_escalated"},
            ],
            "logistics": {"status": "signed"},
        },
        context={"profile": pack.profile},
    )
    prediction = pack.predict(case, as_of=datetime.fromisoformat("2025-03-06T10:00:00+08:00"))
    assert prediction.resolution.rule_id == OVERRULED
    assert prediction.seller_consequences.penalty_points_added == 1
    assert "platform_decides" in {deadline.id for deadline in prediction.deadlines}


# --- errors: each names the file, line and field to change --------------------------------


def test_a_missing_part_is_named_at_its_include(family: Path) -> None:
    edit(family / "pack.yaml", "- part: china_law", "- part: china_lwa")
    error = load_error(family)
    assert error.path == str(family / "pack.yaml")
    assert error.line == line_of(family / "pack.yaml", "- part: china_lwa")
    assert error.field == "includes.0.part"
    assert error.hint == "did you mean 'china_law'?"


def test_extending_an_unknown_rule_is_named_at_the_extend(family: Path) -> None:
    edit(family / "pack.yaml", f"rule: {OVERRULED}", "rule: cn_seven_day_overruled")
    error = load_error(family)
    assert error.line == line_of(family / "pack.yaml", "rule: cn_seven_day_overruled")
    assert error.field == "includes.0.extend.0.rule"
    assert error.hint == f"did you mean {OVERRULED!r}?"


def test_an_unknown_parameter_in_an_extension_is_named_in_pack_yaml(family: Path) -> None:
    edit(family / "pack.yaml", "param: penalty_points_dispute_lost", "param: penalty_pionts")
    error = load_error(family)
    assert error.path == str(family / "pack.yaml")
    assert error.line == line_of(family / "pack.yaml", "param: penalty_pionts")
    assert error.field == "metrics.penalty_points"
    assert error.rule_id == OVERRULED
    assert "unknown parameter 'penalty_pionts'" in error.message


def test_an_extension_cannot_add_to_a_metric_the_part_sets(family: Path) -> None:
    part_rule = family.parent / "_shared" / "china_law" / "rules" / "10_seven_day_return.yaml"
    edit(
        part_rule,
        "      dispute_record: true\n",
        "      dispute_record: true\n      metrics: {penalty_points: {param: no_reason_return_days}}\n",
    )
    error = load_error(family)
    assert error.line == line_of(family / "pack.yaml", "metrics: {penalty_points")
    assert error.field == "includes.0.extend.0.then.metrics.penalty_points"


def test_a_pack_rule_with_a_part_rule_id_is_a_clash(family: Path) -> None:
    rules = family / "rules" / "20_timeouts.yaml"
    first_id = yaml.safe_load(rules.read_text(encoding="utf-8"))["rules"][0]["id"]
    edit(rules, f"id: {first_id}", f"id: {NOT_COVERED}")
    error = load_error(family)
    assert error.path == str(rules)
    assert error.line == line_of(rules, f"id: {NOT_COVERED}")
    assert error.field == "id"
    assert error.rule_id == NOT_COVERED


def test_a_pack_parameter_named_like_a_part_parameter_is_a_clash(family: Path) -> None:
    parameters = family / "parameters.yaml"
    parameters.write_text(
        parameters.read_text(encoding="utf-8")
        + "  no_reason_return_days:\n    value: 10\n    unit: days\n    description: x\n"
        "    source: cpl_article_25\n    confidence: D\n",
        encoding="utf-8",
    )
    error = load_error(family)
    assert error.path == str(parameters)
    assert error.line == line_of(parameters, "no_reason_return_days:")
    assert error.field == "no_reason_return_days"
    assert "overrides" in (error.hint or "")


def test_a_declared_override_replaces_the_part_parameter(family: Path) -> None:
    parameters = family / "parameters.yaml"
    parameters.write_text(
        parameters.read_text(encoding="utf-8")
        + "  no_reason_return_days:\n    value: 10\n    unit: days\n    description: x\n"
        "    source: cpl_article_25\n    confidence: D\n",
        encoding="utf-8",
    )
    edit(
        family / "pack.yaml",
        "    priority: 38\n",
        "    priority: 38\n    overrides: [no_reason_return_days]\n",
    )
    version = read_pack(family).versions[-1]
    assert version.parameters["no_reason_return_days"].value == 10


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("no_reason_days", "has no parameter 'no_reason_days' to override"),
        ("no_reason_return_days", "parameters.yaml does not define it"),
    ],
)
def test_an_override_must_name_a_parameter_of_both(
    family: Path, override: str, message: str
) -> None:
    edit(
        family / "pack.yaml",
        "    priority: 38\n",
        f"    priority: 38\n    overrides: [{override}]\n",
    )
    error = load_error(family)
    assert message in error.message
    assert error.line == line_of(family / "pack.yaml", "overrides:")
    assert error.field == "includes.0.overrides.0"


def test_a_pack_source_named_like_a_part_source_is_a_clash(family: Path) -> None:
    edit(
        family / "pack.yaml",
        "sources:\n",
        "sources:\n  cpl_article_25:\n    title: a copy\n    confidence: A\n",
    )
    error = load_error(family)
    assert error.line == line_of(family / "pack.yaml", "  cpl_article_25:")
    assert error.field == "sources.cpl_article_25"


def test_a_part_priority_taken_by_a_pack_rule_is_named_at_the_include(family: Path) -> None:
    edit(family / "pack.yaml", "    priority: 38\n", "    priority: 40\n")
    error = load_error(family)
    assert error.line == line_of(family / "pack.yaml", "    priority: 40")
    assert error.field == "includes.0.priority"
    assert "already used by the pack's rule" in error.message


def test_a_part_included_twice_is_an_error(family: Path) -> None:
    edit(family / "pack.yaml", "includes:\n", "includes:\n  - {part: china_law, priority: 1000}\n")
    error = load_error(family)
    assert error.field == "includes.1.part"
    assert "included twice" in error.message


def test_a_part_rule_dated_off_the_family_versions_is_named_at_the_include(family: Path) -> None:
    part_rule = family.parent / "_shared" / "china_law" / "rules" / "10_seven_day_return.yaml"
    edit(part_rule, "in_force: {from: 2014-03-15}", "in_force: {from: 2019-05-05}")
    error = load_error(family)
    assert error.path == str(family / "pack.yaml")
    assert error.field == "includes.0.part"
    assert "2019-05-05, which is not a version boundary" in error.message


def test_a_part_whose_id_is_not_its_folder_name_is_refused(family: Path) -> None:
    manifest = family.parent / "_shared" / "china_law" / "part.yaml"
    edit(manifest, "id: china_law", "id: china")
    error = load_error(family)
    assert error.path == str(manifest)
    assert error.line == line_of(manifest, "id: china")
    assert error.field == "id"


def test_a_part_rule_citing_a_source_the_part_lacks_is_refused(family: Path) -> None:
    part_rule = family.parent / "_shared" / "china_law" / "rules" / "10_seven_day_return.yaml"
    edit(part_rule, "sources: [cpl_article_25, cn_seven_day_measures]", "sources: [tb_points]")
    error = load_error(family)
    assert error.path == str(part_rule)
    assert error.line == line_of(part_rule, "sources: [tb_points]")
    assert "source 'tb_points' is not in" in error.message


def test_a_part_rule_reading_a_fact_the_profile_lacks_names_the_part_file(family: Path) -> None:
    profile = family / "profile.yaml"
    text = profile.read_text(encoding="utf-8")
    kept = [
        line for line in text.splitlines(keepends=True) if "no_reason_return_requested:" not in line
    ]
    profile.write_text("".join(kept), encoding="utf-8")
    error = load_error(family)
    part_rule = family.parent / "_shared" / "china_law" / "rules" / "10_seven_day_return.yaml"
    assert error.path == str(part_rule)
    assert error.line == line_of(part_rule, "{fact: no_reason_return_requested")
    assert error.rule_id == NOT_COVERED


# --- the content hash covers the part's files ---------------------------------------------


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("part.yaml", 'title: "Decree 116', 'title: "Decree No. 116'),
        ("parameters.yaml", "value: 7", "value: 8"),
        ("rules/10_seven_day_return.yaml", "Sets only the resolution", "Sets the resolution only"),
    ],
)
def test_the_content_hash_covers_every_part_file(
    family: Path, file: str, old: str, new: str
) -> None:
    before = [version.content_hash for version in read_pack(family).versions]
    edit(family.parent / "_shared" / "china_law" / file, old, new)
    after = [version.content_hash for version in read_pack(family).versions]
    assert all(one != other for one, other in zip(before, after, strict=True))


# --- including predicts what writing the part into the pack does ----------------------------


def inlined(name: str, target: Path) -> Path:
    """Family ``name`` with its included part written into it (rules, parameters and sources),
    as the families were before the part existed."""
    definition = read_pack(name)
    folder = target / name
    shutil.copytree(definition.root, folder)
    manifest = yaml.safe_load((folder / "pack.yaml").read_text(encoding="utf-8"))
    del manifest["includes"]
    manifest["sources"] = {
        key: source.model_dump(mode="json", exclude_none=True)
        for key, source in definition.manifest.sources.items()
    }
    (folder / "pack.yaml").write_text(
        yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8"
    )
    parameters = yaml.safe_load((folder / "parameters.yaml").read_text(encoding="utf-8"))
    for key, parameter in yaml.safe_load((PART / "parameters.yaml").read_text("utf-8"))[
        "parameters"
    ].items():
        parameters["parameters"][key] = parameter
    (folder / "parameters.yaml").write_text(
        yaml.safe_dump(parameters, allow_unicode=True), encoding="utf-8"
    )
    rules = {}
    for version in definition.versions:
        for rule in version.rules:
            if "_shared" in rule.path:
                rules[rule.spec.id] = rule.spec.model_dump(
                    mode="json", by_alias=True, exclude_none=True
                )
    (folder / "rules" / "35_inlined_part.yaml").write_text(
        yaml.safe_dump({"rules": list(rules.values())}, allow_unicode=True), encoding="utf-8"
    )
    return folder


def comparable(prediction: refundrules.Prediction) -> dict[str, Any]:
    data = prediction.model_dump(mode="json")
    del data["pack"]  # the content hash differs: the files differ
    return data


@pytest.fixture(scope="module", params=sorted(CHINESE))
def twins(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Any, Any]:
    name = request.param
    copy = inlined(name, tmp_path_factory.mktemp("inlined"))
    return refundrules.load_rule_pack(name), refundrules.load_rule_pack(copy)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_including_the_part_predicts_what_writing_it_in_does(
    twins: tuple[refundrules.RulePack, refundrules.RulePack], data: Any
) -> None:
    included, written = twins
    case, as_of = data.draw(evaluations(included))
    assert comparable(included.predict(case, as_of=as_of)) == comparable(
        written.predict(case, as_of=as_of)
    )
