"""Regression tests for the hostile inputs issue 13 lists (reliability and security).

Each test names one class of input that once escaped as a raw traceback, hung, blew up memory,
was accepted when it should not be, or read outside the pack; tests/test_fuzz.py looks for
new ones at random.
"""

from __future__ import annotations

import copy
import io
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import refundrules
from refundrules import CaseError, RulePackError, _rulepack, _yaml
from refundrules._cli import EXIT_BAD_CASE, main
from refundrules._loader import read_pack
from refundrules.exceptions import EngineError

from .conftest import BASE_CASE, ROOT, freed_among, spy_ruleset_deletes
from .test_loader import edit, line_of

EXAMPLES = ROOT / "examples"
AS_OF = json.loads((EXAMPLES / "as_of.json").read_text(encoding="utf-8"))


def pack_error(folder: Path) -> RulePackError:
    with pytest.raises(RulePackError) as info:
        read_pack(folder)
    return info.value


def case_error(data: dict[str, Any]) -> CaseError:
    with pytest.raises(CaseError) as info:
        refundrules.Case.model_validate(data)
    return info.value


def case_file_error(file: Path) -> CaseError:
    with pytest.raises(CaseError) as info:
        refundrules.load_case(file)
    return info.value


# --- YAML values PyYAML cannot build: an error at their line, not a ValueError -------------


@pytest.mark.parametrize(
    "value",
    [
        "!!float notafloat",
        "!!int notanint",
        "!!bool maybe",
        "!!timestamp 2025-13-01",
        "0000-01-01",  # year 0, a plain date
        "2025-02-30",
        "1" * 5000,  # past Python's integer-digit limit
    ],
)
def test_values_yaml_cannot_build_are_pack_errors_at_their_line(
    pack_copy: Path, value: str
) -> None:
    parameters = pack_copy / "parameters.yaml"
    edit(parameters, "    value: 48\n", f"    value: {value}\n")
    error = pack_error(pack_copy)
    assert error.path == str(parameters)
    assert error.line == 5 and "cannot read" in error.message


def test_nesting_below_libyamls_cap_is_an_error_not_a_recursion_error(pack_copy: Path) -> None:
    # 500 levels pass libyaml (it caps at 1,000) and overflowed the constructor's recursion.
    rules = pack_copy / "rules" / "99_deep.yaml"
    rules.write_text("rules:\n  - " + "[" * 500 + "]" * 500 + "\n", encoding="utf-8")
    error = pack_error(pack_copy)
    assert error.path == str(rules) and error.line == 2
    assert "nested more than 100 levels" in error.message


@pytest.mark.parametrize("key", ["0", "null", "1.5", "true", "[a, b]"])
def test_condition_key_retyped_to_a_number_or_null_is_a_pack_error(
    pack_copy: Path, key: str
) -> None:
    rules = pack_copy / "rules" / "10_closed.yaml"
    edit(rules, "{fact: buyer_cancelled, eq: true}", f"{{{key}: buyer_cancelled, eq: true}}")
    error = pack_error(pack_copy)
    assert error.path == str(rules)
    assert error.line == line_of(rules, "buyer_cancelled, eq: true}")
    assert "a key must be text" in error.message


def test_invalid_utf8_names_the_file_and_line(pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "10_closed.yaml"
    line = line_of(rules, "priority: 12")
    data = rules.read_bytes()
    rules.write_bytes(data.replace(b"priority: 12", b"priority: \xff\xfe12", 1))
    error = pack_error(pack_copy)
    assert error.path == str(rules) and "not UTF-8" in error.message
    assert error.line == line


# --- parameters: refused at load, not at the first prediction or never ---------------------


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("value", ".inf"),
        ("value", "-.inf"),
        ("value", ".nan"),
        ("value", "1e309"),
        ("value", "1e300"),  # finite, but a deadline past the end of the calendar
        ("alternative", ".nan"),
        ("alternative", "-.inf"),
        ("alternative", "1e300"),
    ],
)
def test_infinite_nan_and_huge_parameters_are_refused_at_their_line(
    pack_copy: Path, where: str, value: str
) -> None:
    parameters = pack_copy / "parameters.yaml"
    if where == "value":
        edit(parameters, "    value: 48\n", f"    value: {value}\n")
        needle = f"value: {value}"
    else:
        edit(parameters, "{value: 36, source", f"{{value: {value}, source")
        needle = f"{{value: {value}"
    error = pack_error(pack_copy)
    assert error.path == str(parameters)
    assert error.line == line_of(parameters, needle)


def test_a_pack_that_loads_builds_its_engines_and_predicts(pack_copy: Path) -> None:
    """``validate`` says ok only to a pack whose every version compiles and predicts."""
    parameters = pack_copy / "parameters.yaml"
    edit(parameters, "    value: 48\n", "    value: 876000\n")  # the largest deadline allowed
    pack = refundrules.load_rule_pack(pack_copy)
    with pack:
        for version in pack.versions:
            version.compile()
        name = "06_platform_reviewing_low_value.yaml"
        case = pack.load_case(EXAMPLES / name)
        assert pack.predict(case, datetime.fromisoformat(AS_OF[name])).stage


# --- the pack's layout: nothing skipped silently, nothing read from outside ----------------


def test_rules_file_in_a_subfolder_is_refused(pack_copy: Path) -> None:
    nested = pack_copy / "rules" / "more"
    nested.mkdir()
    (pack_copy / "rules" / "60_malicious.yaml").rename(nested / "60_malicious.yaml")
    error = pack_error(pack_copy)
    assert error.path == str(nested) and "subfolder" in error.message


@pytest.mark.parametrize("name", ["60_malicious.YAML", "60_malicious.Yml"])
def test_rules_file_with_an_upper_case_suffix_is_refused(pack_copy: Path, name: str) -> None:
    (pack_copy / "rules" / "60_malicious.yaml").rename(pack_copy / "rules" / name)
    error = pack_error(pack_copy)
    assert error.path == str(pack_copy / "rules" / name)
    assert error.hint == "rename it to 60_malicious.yaml"


@pytest.mark.parametrize("what", ["rules file", "parameters", "rules folder"])
def test_symlinks_out_of_the_pack_are_refused(pack_copy: Path, tmp_path: Path, what: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    relative = {
        "rules file": "rules/60_malicious.yaml",
        "parameters": "parameters.yaml",
        "rules folder": "rules",
    }[what]
    target = pack_copy / relative
    moved = outside / target.name
    target.rename(moved)
    target.symlink_to(moved)
    error = pack_error(pack_copy)
    assert error.path == str(target)
    assert "links outside the pack folder" in error.message


def test_symlink_inside_the_pack_is_followed(pack_copy: Path) -> None:
    target = pack_copy / "rules" / "60_malicious.yaml"
    kept = pack_copy / "shared_60.yaml"
    target.rename(kept)
    target.symlink_to(kept)
    assert len(read_pack(pack_copy).versions[-1].rules) == len(
        read_pack("pinduoduo").versions[-1].rules
    )


def test_rules_file_that_is_a_device_is_refused_without_reading_it(pack_copy: Path) -> None:
    error = pack_error_for_link(pack_copy, "/dev/zero")
    assert "links outside the pack folder" in error.message


def pack_error_for_link(pack_copy: Path, pointee: str) -> RulePackError:
    target = pack_copy / "rules" / "60_malicious.yaml"
    target.unlink()
    target.symlink_to(pointee)
    return pack_error(pack_copy)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_rules_file_that_is_a_fifo_is_refused_without_blocking(pack_copy: Path) -> None:
    target = pack_copy / "rules" / "60_malicious.yaml"
    target.unlink()
    os.mkfifo(target)
    error = pack_error(pack_copy)  # a blocking open would hang here
    assert error.path == str(target)


def test_file_past_the_size_limit_is_refused(
    pack_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_yaml, "MAX_FILE_BYTES", 1000)
    error = pack_error(pack_copy)
    assert error.path == str(pack_copy / "pack.yaml") and "larger than 1,000 bytes" in error.message


def test_ten_million_character_note_loads(pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "10_closed.yaml"
    edit(rules, "    note: A ruling against", "    note: " + "x" * 10_000_000 + " A ruling against")
    assert read_pack(pack_copy).versions[-1].rules


# --- case files in pack tests: only inside the pack folder ---------------------------------


def write_case_test(pack_copy: Path, case_file: str) -> Path:
    tests = pack_copy / "tests" / "zz_case_file.yaml"
    tests.write_text(
        "tests:\n"
        "  - name: from_a_case_file\n"
        f"    case_file: {json.dumps(case_file)}\n"
        '    as_of: "2025-04-17T15:00:00+08:00"\n'
        "    expect: {stage: platform_reviewing}\n",
        encoding="utf-8",
    )
    return tests


def pack_tests_error(pack_copy: Path) -> RulePackError:
    pack = refundrules.load_rule_pack(pack_copy)
    with pytest.raises(RulePackError) as info:
        pack.tests  # noqa: B018 - read on first use
    return info.value


def test_case_file_inside_the_pack_is_read(pack_copy: Path) -> None:
    cases = pack_copy / "tests" / "cases"
    cases.mkdir()
    (cases / "06.yaml").write_bytes(
        (EXAMPLES / "06_platform_reviewing_low_value.yaml").read_bytes()
    )
    write_case_test(pack_copy, "cases/06.yaml")
    pack = refundrules.load_rule_pack(pack_copy)
    assert "from_a_case_file" in {test.spec.name for test in pack.tests}


@pytest.mark.parametrize(
    "case_file", ["../../outside.yaml", "/etc/passwd", "/dev/zero", "cases/link.yaml"]
)
def test_case_file_outside_the_pack_is_refused_unread(
    pack_copy: Path, case_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = pack_copy.parent / "outside.yaml"
    outside.write_text("secret_key: 1\nanother_secret: 2\n", encoding="utf-8")
    (pack_copy / "tests" / "cases").mkdir()
    (pack_copy / "tests" / "cases" / "link.yaml").symlink_to(outside)
    tests = write_case_test(pack_copy, case_file)
    read: list[Path] = []
    real = _yaml.read_text
    monkeypatch.setattr(_yaml, "read_text", lambda file: read.append(file) or real(file))
    error = pack_tests_error(pack_copy)
    assert error.path == str(tests) and error.line == 3
    assert "must be a file inside the pack folder" in error.message
    assert "secret" not in str(error)
    assert all(file.resolve().is_relative_to(pack_copy.resolve()) for file in read)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_case_file_that_is_a_fifo_is_refused_without_blocking(pack_copy: Path) -> None:
    (pack_copy / "tests" / "cases").mkdir()
    os.mkfifo(pack_copy / "tests" / "cases" / "fifo.yaml")
    write_case_test(pack_copy, "cases/fifo.yaml")
    assert "must be a file inside the pack folder" in pack_tests_error(pack_copy).message


# --- each pack file is read once: the hash names the content the rules came from ----------


def test_each_file_is_read_once(pack_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[Path] = []
    real = _yaml.read_text
    monkeypatch.setattr(_yaml, "read_text", lambda file: read.append(file) or real(file))
    read_pack(pack_copy)
    assert len(read) == len(set(read))
    assert pack_copy / "rules" / "10_closed.yaml" in read


def test_file_replaced_during_the_load_does_not_change_the_hash_or_rules(
    pack_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = read_pack(pack_copy).versions[-1]
    rules = pack_copy / "rules" / "10_closed.yaml"
    real = _yaml.read_text

    def read_then_replace(file: Path) -> str:
        text = real(file)
        if file == rules:  # another process rewrites the file right after it was read
            file.write_text(text.replace("priority: 12", "priority: 9999"), encoding="utf-8")
        return text

    monkeypatch.setattr(_yaml, "read_text", read_then_replace)
    loaded = read_pack(pack_copy).versions[-1]
    assert loaded.content_hash == expected.content_hash
    priorities = {rule.spec.id: rule.spec.priority for rule in loaded.rules}
    assert priorities == {rule.spec.id: rule.spec.priority for rule in expected.rules}


# --- cases ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "moment"),
    [
        ("order.paid_at", "9999-12-31T10:00:00+08:00"),
        ("order.paid_at", "0001-01-01T00:00:00+14:00"),
        ("request.requested_at", "2200-01-01T00:00:00+08:00"),
    ],
)
def test_case_times_outside_1970_to_2199_are_case_errors(field: str, moment: str) -> None:
    data = copy.deepcopy(BASE_CASE)
    section, name = field.split(".")
    data[section][name] = moment
    error = case_error(data)
    assert any(
        path == field and "the year must be between 1970 and 2199" in message
        for path, message in error.errors
    )


def test_a_case_in_year_2199_predicts_without_overflow() -> None:
    data = copy.deepcopy(BASE_CASE)
    for section, name in [
        ("order", "paid_at"),
        ("order", "shipped_at"),
        ("order", "delivered_at"),
        ("request", "requested_at"),
        ("logistics", "carrier_pickup_at"),
    ]:
        data[section][name] = data[section][name].replace("2025-03", "2199-12")
    case = refundrules.Case.model_validate(data)
    prediction = refundrules.load_rule_pack("pinduoduo").predict(case, case.request.requested_at)
    assert prediction.deadlines  # deadlines from a December 2199 request stay in range


@pytest.mark.parametrize("as_of", ["9999-12-31T00:00:00+00:00", "2025-03-05T10:00:00"])
def test_as_of_out_of_range_or_naive_is_a_case_error(as_of: str) -> None:
    case = refundrules.Case.model_validate(BASE_CASE)
    with pytest.raises(CaseError) as info:
        refundrules.load_rule_pack("pinduoduo").predict(case, datetime.fromisoformat(as_of))
    assert info.value.field == "as_of"


@pytest.mark.parametrize("amount", ["１２０.００", "١٢٠.٠٠", "۱۲۰"])
def test_amounts_in_full_width_or_arabic_indic_digits_are_refused(amount: str) -> None:
    data = copy.deepcopy(BASE_CASE)
    data["request"]["amount"] = amount
    error = case_error(data)
    assert error.field == "request.amount" and "digits 0-9" in str(error)


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("case_id", "\x1b[2J\x1b[31mpwned"),
        ("order.order_id", "o\x00-1"),
        ("case_id", "abc\u202etxt"),
    ],
)
def test_control_characters_in_case_text_are_refused(field: str, text: str) -> None:
    data = copy.deepcopy(BASE_CASE)
    if "." in field:
        section, name = field.split(".")
        data[section][name] = text
    else:
        data[field] = text
    error = case_error(data)
    assert error.field == field and "control character" in str(error)
    assert "\x1b" not in str(error) and "\x00" not in str(error)


def test_line_breaks_in_free_text_stay_allowed() -> None:
    data = copy.deepcopy(BASE_CASE)
    data["request"]["description"] = "line one\nline two\twith a tab"
    assert refundrules.Case.model_validate(data).request.description


def test_escape_sequence_in_a_case_id_never_reaches_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "case.json"
    data = copy.deepcopy(BASE_CASE)
    data["case_id"] = "\x1b]0;owned\x07\x1b[2J"
    file.write_text(json.dumps(data), encoding="utf-8")
    code = main(["predict", str(file), "--as-of", "2025-03-05T10:00:00+08:00"])
    out, err = capsys.readouterr()
    assert code != 0
    assert "\x1b" not in out + err and "\x07" not in out + err


@pytest.mark.parametrize(
    ("suffix", "text"),
    [
        (".yaml", "case_id: a\nplatform: pinduoduo\ncase_id: b\n"),
        (".json", '{"case_id": "a", "platform": "pinduoduo", "case_id": "b"}'),
    ],
)
def test_duplicate_keys_in_case_files_are_refused(tmp_path: Path, suffix: str, text: str) -> None:
    file = tmp_path / f"case{suffix}"
    file.write_text(text, encoding="utf-8")
    error = case_file_error(file)
    assert "duplicate key 'case_id'" in str(error)
    if suffix == ".yaml":
        assert error.source == f"{file}:3"


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 5000 + "]" * 5000,
        "a: " + "[" * 500 + "]" * 500,
        "a: !!float notafloat",
        "a: 0000-01-01",
        "a: " + "1" * 5000,
        "a: &a [*a]",
        "0: zero",
    ],
)
def test_hostile_yaml_case_files_are_case_errors(tmp_path: Path, text: str) -> None:
    file = tmp_path / "case.yaml"
    file.write_text(text + "\n", encoding="utf-8")
    error = case_file_error(file)
    assert error.source == f"{file}:1"


@pytest.mark.parametrize(
    "text", ["[" * 100_000 + "]" * 100_000, '{"a": ' + "1" * 5000 + "}", '{"a": 1, "a": 2}']
)
def test_hostile_json_case_files_are_case_errors(tmp_path: Path, text: str) -> None:
    file = tmp_path / "case.json"
    file.write_text(text, encoding="utf-8")
    assert "malformed JSON" in str(case_file_error(file))


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_case_file_that_is_a_device_or_fifo_is_refused_without_reading(
    tmp_path: Path, special: str
) -> None:
    if special == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("needs FIFOs")
        path = tmp_path / "case.yaml"
        os.mkfifo(path)
    else:
        path = Path(special)
    assert "not a regular file" in str(case_file_error(path))


def test_mapping_with_a_key_that_is_not_text_is_a_case_error() -> None:
    data: dict[Any, Any] = copy.deepcopy(BASE_CASE)
    data[1] = "x"
    assert "a field name must be text" in str(case_error(data))


def test_unknown_fields_of_a_file_that_is_not_a_case_are_not_echoed(tmp_path: Path) -> None:
    file = tmp_path / "shadow.yaml"
    file.write_text(
        "root:$6$saltsalt$hashhashhash: 19000\nplatform: pinduoduo\n"
        + "".join(f"user{index}:$6$secret{index}: x\n" for index in range(50)),
        encoding="utf-8",
    )
    text = str(case_file_error(file))
    assert "$6$" not in text and "secret" not in text
    assert len(text.splitlines()) < 20


# --- memory and state ----------------------------------------------------------------------


def test_failed_consequence_phase_frees_the_decision_engine_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deleted = spy_ruleset_deletes(monkeypatch)
    built: list[list[int]] = []
    real = _rulepack._Phase.engine

    def engine(phase: _rulepack._Phase) -> Any:
        if phase.label.endswith("/consequence"):
            raise EngineError("refused for the test")
        made = real(phase)
        built.append(list(made._handles))
        return made

    monkeypatch.setattr(_rulepack._Phase, "engine", engine)
    pack = refundrules.RulePack(read_pack("pinduoduo"))
    try:
        pack.latest.compile()
    except EngineError:
        # Checked while the error and its traceback (which holds the half-built engines)
        # are alive: the decision phase was freed at once, not by the garbage collector.
        assert built and freed_among(deleted, built[0]) == built[0]
    else:  # pragma: no cover - the failure the test looks for
        pytest.fail("the consequence phase was not refused")


def test_eight_threads_give_exactly_the_serial_answers(pack: refundrules.RulePack) -> None:
    work = [
        (pack.load_case(EXAMPLES / name), datetime.fromisoformat(moment))
        for name, moment in sorted(AS_OF.items())
    ] * 8
    serial = [pack.predict(case, as_of) for case, as_of in work]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(lambda item: pack.predict(*item), work))
    assert threaded == serial


def test_errors_survive_a_terminal_encoding_without_the_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    buffer = io.BytesIO()
    stream = io.TextIOWrapper(buffer, encoding="ascii", errors="strict")
    monkeypatch.setattr(sys, "stderr", stream)
    code = main(["predict", str(tmp_path / "案例.yaml"), "--as-of", "2025-03-05T10:00:00+08:00"])
    stream.flush()
    assert code == EXIT_BAD_CASE
    assert "\\u6848\\u4f8b.yaml" in buffer.getvalue().decode("ascii")


def test_cases_refuse_exactly_the_characters_the_cli_escapes() -> None:
    from refundrules._terminal import CONTROL_CHARACTERS, printable

    # one table: whatever output escapes, a case's text refuses, and nothing else
    escaped = {chr(code) for code in range(0x2100) if printable(chr(code)) != chr(code)}
    assert escaped == CONTROL_CHARACTERS
    for char in [*sorted(CONTROL_CHARACTERS), "\t", "é", "\u2029"]:
        data = copy.deepcopy(BASE_CASE)
        data["case_id"] = f"id{char}x"
        refused = char in CONTROL_CHARACTERS
        assert (printable(char) != char) is refused
        if refused:
            assert case_error(data).field == "case_id"
        else:
            refundrules.load_case(data)
