"""One wording per mistake, and syntax errors that name the file and the line."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

import refundrules
from refundrules._cli import EXIT_BAD_CASE, main
from refundrules.authoring import load_replay

from .conftest import ROOT

EXAMPLE = ROOT / "examples" / "01_awaiting_seller.yaml"
NAIVE = "a timezone is required (e.g. '2025-03-01T10:00:00+08:00'); got a naive time"


def test_a_naive_time_reads_the_same_wherever_it_is_caught(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = refundrules.load_rule_pack("pinduoduo")
    case = refundrules.load_case(EXAMPLE)
    messages: list[str] = []

    data = case.model_dump(mode="json")
    data["order"]["paid_at"] = "2025-03-01T10:00:00"
    with pytest.raises(refundrules.CaseError) as in_case:
        refundrules.load_case(data)
    messages.append(dict(in_case.value.errors)["order.paid_at"])

    with pytest.raises(refundrules.CaseError) as in_predict:
        pack.predict(case, datetime(2025, 3, 5, 12))
    messages.append(dict(in_predict.value.errors)["as_of"])

    replay = tmp_path / "cases.jsonl"
    replay.write_text(json.dumps({"case": case.model_dump(mode="json"),
                                  "as_of": "2025-03-05T12:00:00"}) + "\n", encoding="utf-8")
    with pytest.raises(refundrules.CaseError) as in_replay:
        load_replay(replay)
    messages.append(dict(in_replay.value.errors)["as_of"])

    assert main(["predict", str(EXAMPLE), "--as-of", "2025-03-05T12:00:00"]) == EXIT_BAD_CASE
    messages.append(capsys.readouterr().err.strip().removeprefix("refundrules: invalid case: as_of: "))

    assert messages == [NAIVE] * 4


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        # Case files are parsed like pack files, by libyaml when PyYAML has it (the first
        # wording), else by PyYAML's pure-Python parser (the second).
        (
            "case_id: x\nplatform: [pinduoduo\n",
            3,
            ("did not find expected ',' or ']'", "expected ',' or ']', but got '<stream end>'"),
        ),
        (
            "case_id: x\n  platform: pinduoduo\n",
            2,
            ("mapping values are not allowed in this context", "mapping values are not allowed here"),
        ),
    ],
)
def test_a_yaml_syntax_error_in_a_case_names_the_file_and_line(
    tmp_path: Path, text: str, line: int, problem: tuple[str, str]
) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(refundrules.CaseError) as caught:
        refundrules.load_case(path)
    message = str(caught.value)
    assert message.startswith(f"invalid case in {path}:{line}: malformed YAML: ")
    assert message.endswith(problem)
    assert "<unicode string>" not in message


def test_a_json_syntax_error_in_a_case_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text('{"case_id": "x",\n "platform": }\n', encoding="utf-8")
    with pytest.raises(refundrules.CaseError) as caught:
        refundrules.load_case(path)
    assert str(caught.value) == f"invalid case in {path}:2: malformed JSON: Expecting value"


def test_measure_coverage_and_the_cli_share_their_defaults() -> None:
    import argparse
    import inspect

    from refundrules._cli import build_parser
    from refundrules.authoring import measure_coverage

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    cli = commands.choices["coverage"].parse_args(["pinduoduo"])
    signature = inspect.signature(measure_coverage).parameters
    assert (signature["examples"].default, signature["search"].default) == (cli.examples, cli.search)
