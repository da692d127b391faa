from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import refundrules
from refundrules import RulePackError
from refundrules._loader import bundled_pack_names, read_pack

from .conftest import ROOT

FICTIONAL = ROOT / "tests" / "packs" / "fictional_marketplace"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_bundled_pack_is_found_by_name() -> None:
    assert "pinduoduo" in bundled_pack_names()
    assert read_pack("pinduoduo").manifest.platform == "pinduoduo"


def test_unknown_pack_name_suggests_a_bundled_one() -> None:
    with pytest.raises(RulePackError, match="did you mean 'pinduoduo'"):
        refundrules.load_rule_pack("pinduodou")


def test_fact_typo_fails_with_file_line_rule_and_suggestion(pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "10_closed.yaml"
    edit(rules, "{fact: buyer_cancelled, eq: true}", "{fact: buyer_canceled, eq: true}")
    with pytest.raises(RulePackError) as info:
        read_pack(pack_copy)
    error = info.value
    assert error.path == str(rules)
    assert error.line == line_of(rules, "buyer_canceled")
    assert error.rule_id == "buyer_cancelled_request"
    assert error.hint == "did you mean 'buyer_cancelled'?"


def test_unknown_operator_is_rejected_with_a_hint(pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "10_closed.yaml"
    edit(rules, "{fact: buyer_cancelled, eq: true}", "{fact: buyer_cancelled, eqq: true}")
    with pytest.raises(RulePackError, match="did you mean 'eq'"):
        read_pack(pack_copy)


def test_text_value_outside_the_vocabulary_is_rejected(pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "20_seller_response.yaml"
    edit(rules, "{fact: seller_response, eq: agreed}", "{fact: seller_response, eq: agred}")
    with pytest.raises(RulePackError, match="did you mean 'agreed'"):
        read_pack(pack_copy)


def test_number_literal_in_a_condition_must_be_a_parameter(pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "10_closed.yaml"
    edit(
        rules,
        "{fact: seller_silence_hours, gte: {param: seller_response_window_hours}}",
        "{fact: seller_silence_hours, gte: 48}",
    )
    with pytest.raises(RulePackError, match="numbers are parameters"):
        read_pack(pack_copy)


def test_number_fact_compared_with_text_is_rejected(pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "10_closed.yaml"
    edit(
        rules,
        "{fact: seller_silence_hours, gte: {param: seller_response_window_hours}}",
        '{fact: seller_silence_hours, gte: "48"}',
    )
    with pytest.raises(RulePackError, match="seller_silence_hours"):
        read_pack(pack_copy)


def test_unknown_parameter_is_rejected(pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "10_closed.yaml"
    edit(rules, "param: seller_response_window_hours}", "param: seller_response_window_hour}")
    with pytest.raises(RulePackError, match="did you mean 'seller_response_window_hours'"):
        read_pack(pack_copy)


def test_duplicate_priority_is_rejected_naming_both_rules(pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "10_closed.yaml"
    edit(rules, "priority: 20", "priority: 25")
    with pytest.raises(RulePackError, match="already used by rule") as info:
        read_pack(pack_copy)
    assert info.value.field == "priority"


def test_duplicate_yaml_key_is_rejected_with_its_line(pack_copy: Path) -> None:
    params = pack_copy / "parameters.yaml"
    text = params.read_text(encoding="utf-8")
    params.write_text(text + "  escalation_window_hours:\n    value: 1\n", encoding="utf-8")
    with pytest.raises(RulePackError, match="duplicate key") as info:
        read_pack(pack_copy)
    assert info.value.line == len(text.splitlines()) + 1


def test_malformed_yaml_reports_the_line(pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "10_closed.yaml"
    edit(rules, "    priority: 20\n", "    priority: [20\n")
    with pytest.raises(RulePackError, match="malformed YAML") as info:
        read_pack(pack_copy)
    assert info.value.path == str(rules) and info.value.line is not None


def test_unknown_key_in_a_rule_is_rejected(pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "10_closed.yaml"
    edit(rules, "    priority: 20\n", "    priority: 20\n    salience: 3\n")
    with pytest.raises(RulePackError, match="unknown key 'salience'") as info:
        read_pack(pack_copy)
    assert info.value.rule_id == "buyer_cancelled_request"
    assert info.value.line == line_of(rules, "salience")


def test_missing_source_is_rejected(pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "10_closed.yaml"
    edit(rules, "sources: [pdd_states]", "sources: [pdd_state]")
    with pytest.raises(RulePackError, match="did you mean 'pdd_states'"):
        read_pack(pack_copy)


def test_deadline_with_a_non_time_parameter_is_rejected(pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "20_seller_response.yaml"
    edit(
        rules,
        "after: {param: seller_response_window_hours}",
        "after: {param: late_shipment_compensation}",
    )
    with pytest.raises(RulePackError, match="needs hours or days"):
        read_pack(pack_copy)


def test_yaml_tags_that_build_objects_are_refused(pack_copy: Path) -> None:
    params = pack_copy / "parameters.yaml"
    edit(params, "value: 48", "value: !!python/object/apply:os.system ['true']")
    with pytest.raises(RulePackError, match="malformed YAML"):
        read_pack(pack_copy)


def test_content_hash_changes_with_a_rule_file_only(pack_copy: Path) -> None:
    original = read_pack(pack_copy).versions[-1].content_hash
    assert read_pack(pack_copy).versions[-1].content_hash == original
    (pack_copy / "tests" / "extra.yaml").write_text("# tests are not part of the content\n")
    (pack_copy / "tests" / "extra.yaml").unlink()
    edit(pack_copy / "parameters.yaml", "value: 48", "value: 47")
    assert read_pack(pack_copy).versions[-1].content_hash != original
    assert re.fullmatch(r"[0-9a-f]{64}", original)



def test_content_hash_covers_the_seller_actions(pack_copy: Path) -> None:
    before = [version.content_hash for version in read_pack(pack_copy).versions]
    edit(pack_copy / "seller_actions.yaml", "Agree to the request now", "Agree to it now")
    after = [version.content_hash for version in read_pack(pack_copy).versions]
    assert all(one != other for one, other in zip(before, after, strict=True))


# The fictional pack's hash without seller actions, as it was before they were hashed: a family
# that declares none, with no file or an empty one, keeps the hash it always had.
MAPLE_HASH_WITHOUT_ACTIONS = "65ddf0bf0e8d54f4d05fe3265da5cc86a0a7cb0976d0f280ed8a4ff6f1927d3e"


@pytest.mark.parametrize("actions", [None, "# none yet\n"])
def test_a_pack_without_seller_actions_keeps_its_content_hash(
    tmp_path: Path, actions: str | None
) -> None:
    copy = tmp_path / "maple"
    shutil.copytree(FICTIONAL, copy)
    with_actions = read_pack(copy).versions[-1].content_hash
    if actions is None:
        (copy / "seller_actions.yaml").unlink()
    else:
        (copy / "seller_actions.yaml").write_text(actions, encoding="utf-8")
    assert read_pack(copy).versions[-1].content_hash == MAPLE_HASH_WITHOUT_ACTIONS
    assert with_actions != MAPLE_HASH_WITHOUT_ACTIONS

def test_failed_load_leaves_no_pack_behind(pack_copy: Path) -> None:
    edit(pack_copy / "rules" / "10_closed.yaml", "buyer_cancelled, eq", "buyer_cancelld, eq")
    result = None
    with pytest.raises(RulePackError):
        result = refundrules.load_rule_pack(pack_copy)
    assert result is None


def test_effect_that_would_be_ignored_is_refused(pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "10_closed.yaml"
    edit(
        rules,
        "      resolution: {outcome: request_closed, refund: none, decided_by: buyer, final: true}\n",
        "      resolution: {outcome: request_closed, refund: none, decided_by: buyer, final: true}\n"
        "      buyer_signals: [{flag: odd, signal: cancelled}]\n",
    )
    with pytest.raises(RulePackError, match="cannot carry buyer_signals") as info:
        read_pack(pack_copy)
    assert info.value.rule_id == "buyer_cancelled_request"


def test_parameter_of_the_wrong_unit_is_refused(pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "50_compensation.yaml"
    edit(rules, "{fact: paid_amount, lte: {param: low_value_threshold}}",
         "{fact: paid_amount, lte: {param: sanction_threshold_points}}")
    with pytest.raises(RulePackError, match="is in currency but parameter"):
        read_pack(pack_copy)
