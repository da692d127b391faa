"""A counterexample that `diff` or a failed property prints is a pack test that pastes as is:
appended under `tests:`, it loads, it passes where the answer it states is given and fails
where it is not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from refundrules import load_rule_pack
from refundrules._pack_tests import run_pack_tests
from refundrules._properties import check_property
from refundrules._regression import entry_name, pack_test_entry
from refundrules.authoring import compare_rule_packs

from .conftest import PDD_PACK

EXCLUDED_RULE_PRIORITY = "    priority: 102\n"  # ruling_no_reason_return_excluded


def copy_pack(target: Path, *, window: int | None = None, broken: bool = False) -> Path:
    shutil.copytree(PDD_PACK, target)
    if window is not None:
        params = target / "parameters.yaml"
        params.write_text(
            params.read_text(encoding="utf-8").replace(
                "seller_response_window_hours:\n    value: 48",
                f"seller_response_window_hours:\n    value: {window}",
            ),
            encoding="utf-8",
        )
    if broken:
        rulings = target / "rules" / "40_intervention.yaml"
        text = rulings.read_text(encoding="utf-8")
        assert text.count(EXCLUDED_RULE_PRIORITY) == 1
        rulings.write_text(text.replace(EXCLUDED_RULE_PRIORITY, "    priority: 1102\n"),
                           encoding="utf-8")
    return target


def paste(pack_folder: Path, entries: list[str]) -> Path:
    """What a rule author does: paste the printed entries under `tests:` in a new file."""
    pasted = pack_folder / "tests" / "pasted.yaml"
    pasted.write_text("tests:\n" + "\n".join(entries) + "\n", encoding="utf-8")
    return pasted


def pasted_results(pack_folder: Path) -> dict[str, bool]:
    pack = load_rule_pack(pack_folder)
    try:
        return {
            result.name: result.passed
            for result in run_pack_tests(pack)
            if result.test.path.endswith("pasted.yaml")
        }
    finally:
        pack.close()


def test_entry_name_is_an_identifier() -> None:
    assert entry_name("diff", "stage:awaiting_seller->closed") == "diff_stage_awaiting_seller_to_closed"
    assert entry_name("diff", "points:+1->+2") == "diff_points_1_to_2"
    assert entry_name("9 lives") == "t_9_lives"


def test_entry_is_one_item_of_a_tests_list() -> None:
    entry = pack_test_entry("a_test", "what it shows", {"case_id": "c", "platform": "x"},
                            "2025-01-01T00:00:00+08:00", {"stage": "closed"})
    parsed = yaml.safe_load("tests:\n" + entry + "\n" + entry.replace("a_test", "b_test"))
    assert [test["name"] for test in parsed["tests"]] == ["a_test", "b_test"]
    assert parsed["tests"][0]["expect"] == {"stage": "closed"}


def test_diff_counterexamples_paste_as_passing_tests(tmp_path: Path) -> None:
    old_folder = copy_pack(tmp_path / "old")
    new_folder = copy_pack(tmp_path / "new", window=36)
    old, new = load_rule_pack(old_folder), load_rule_pack(new_folder)
    try:
        diff = compare_rule_packs(old, new, examples=200)
    finally:
        old.close()
        new.close()
    assert diff.transitions, "a 12-hour shorter window changes some outcome"
    entries = [report.regression_test for report in diff.transitions]
    paste(new_folder, entries)
    paste(old_folder, entries)
    names = {yaml.safe_load("tests:\n" + entry)["tests"][0]["name"] for entry in entries}
    under_new, under_old = pasted_results(new_folder), pasted_results(old_folder)
    assert set(under_new) == names and all(under_new.values())
    # Each entry pins an answer that differs between the packs, so the old pack fails it.
    assert set(under_old) == names and not any(under_old.values())


@pytest.mark.parametrize("property_id", ["excluded_goods_get_no_no_reason_return"])
def test_property_counterexample_pastes_as_a_failing_then_passing_test(
    tmp_path: Path, property_id: str
) -> None:
    broken_folder = copy_pack(tmp_path / "broken", broken=True)
    fixed_folder = copy_pack(tmp_path / "fixed")
    broken = load_rule_pack(broken_folder)
    try:
        prop = next(item for item in broken.properties if item.spec.id == property_id)
        result = check_property(broken, prop, max_examples=200)
    finally:
        broken.close()
    assert result.violation is not None
    report = result.report()
    marker = "shrunk counterexample, as a pack test (paste under `tests:` in tests/*.yaml):\n"
    assert marker in report
    entry = report.split(marker, 1)[1]
    paste(broken_folder, [entry])
    paste(fixed_folder, [entry])
    name = f"{property_id}_counterexample"
    assert pasted_results(broken_folder) == {name: False}  # the regression is caught
    assert pasted_results(fixed_folder) == {name: True}  # and the fix makes it pass
