from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

import refundrules
from refundrules._cli import EXIT_BAD_CASE, EXIT_BAD_PACK, EXIT_EVALUATION, EXIT_USAGE, main

from .conftest import ROOT

EXAMPLE = ROOT / "examples" / "01_awaiting_seller.yaml"
AS_OF = "2025-03-05T12:00:00+08:00"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_predict_text_names_stage_resolution_deadlines_and_rules(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "predict", str(EXAMPLE), "--as-of", AS_OF, "--lang", "en")
    assert code == 0
    assert "Stage:       awaiting seller" in out
    assert "Deadlines:" in out and "2025-03-06T08:00:00+08:00" in out
    assert "[decided] platform_fast_refund_only" in out
    assert "[shadowed] awaiting_seller_response" in out


def test_predict_json_is_the_prediction_itself(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "predict", str(EXAMPLE), "--as-of", AS_OF, "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert data["stage"] == "awaiting_seller"
    assert data["reasons"][0]["rule_id"] == data["resolution"]["rule_id"]


def test_bad_case_exits_with_its_code_and_no_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "case.yaml"
    bad.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace('"39.90"\n  paid_at', '"9.90"\n  paid_at'),
        encoding="utf-8",
    )
    code, out, err = run(capsys, "predict", str(bad), "--as-of", AS_OF)
    assert code == EXIT_BAD_CASE
    assert "request.amount" in err and "Traceback" not in err and out == ""


def test_naive_as_of_is_a_bad_case(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "predict", str(EXAMPLE), "--as-of", "2025-03-05T12:00:00")
    assert code == EXIT_BAD_CASE and "as_of" in err


def test_bad_pack_exits_with_its_code(capsys: pytest.CaptureFixture[str], pack_copy: Path) -> None:
    rules = pack_copy / "rules" / "10_closed.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("buyer_cancelled, eq", "buyer_cancel, eq"),
        encoding="utf-8",
    )
    code, _, err = run(capsys, "validate", str(pack_copy))
    assert code == EXIT_BAD_PACK
    assert f"{rules}:" in err and "buyer_cancelled_request" in err


def test_validate_and_packs_describe_the_bundled_pack(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "pinduoduo")
    assert code == 0 and out.startswith("ok: pinduoduo")
    code, out, _ = run(capsys, "packs")
    assert code == 0 and "pinduoduo" in out



def test_packs_names_the_shared_parts_a_pack_includes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "packs")
    assert code == 0
    blocks = {block.split(" ", 1)[0]: block for block in out.split("\n  from: bundled\n")}
    assert blocks["taobao"].endswith("\n  includes: china_law")
    assert "includes:" not in blocks["pinduoduo"]
    code, out, _ = run(capsys, "packs", "--format", "json")
    listed = {entry["name"]: entry for entry in json.loads(out)}
    assert code == 0 and listed["taobao"]["includes"] == ["china_law"]
    assert "includes" not in listed["pinduoduo"]

@pytest.mark.parametrize("kind", ["case", "rules", "pack", "part", "parameters", "tests"])
def test_schema_prints_json_schema(capsys: pytest.CaptureFixture[str], kind: str) -> None:
    code, out, _ = run(capsys, "schema", kind)
    assert code == 0 and json.loads(out)["title"].startswith("refundrules")


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["schema", "nonsense"])
    assert info.value.code == 2


def test_examples_lists_the_bundled_cases_with_their_as_of(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "examples")
    assert code == 0
    assert out.splitlines()[0] == "01_awaiting_seller.yaml  (as of 2025-03-05T12:00:00+08:00)"
    # every example, the top level's and those of each pack's folder, with its own as-of
    assert len(out.splitlines()) == len(list((ROOT / "examples").glob("**/*.yaml")))
    assert "ebay/01_inr_awaiting_seller_memorial_day.yaml  (as of 2025-" in out
    assert "(as of ?)" not in out


def test_examples_writes_cases_that_predict_at_their_own_as_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, _ = run(capsys, "examples", str(tmp_path / "mine"))
    assert code == 0 and (tmp_path / "mine" / "as_of.json").is_file()
    case = str(tmp_path / "mine" / "06_platform_reviewing_low_value.yaml")
    code, implicit, err = run(capsys, "predict", case, "--lang", "en")
    assert code == 0
    assert (
        err
        == "as of 2025-04-17T15:00:00+08:00 (from as_of.json beside the case; --as-of overrides)\n"
    )
    _, explicit, _ = run(
        capsys, "predict", case, "--as-of", "2025-04-17T15:00:00+08:00", "--lang", "en"
    )
    assert implicit == explicit and "platform reviewing" in implicit
    # a pack's own folder is written with its as_of.json, so its cases predict as bundled
    ebay = json.loads((ROOT / "examples" / "ebay" / "as_of.json").read_text("utf-8"))
    name = sorted(ebay)[0]
    code, _out, err = run(capsys, "predict", str(tmp_path / "mine" / "ebay" / name))
    assert code == 0 and err.startswith(f"as of {ebay[name]} (from as_of.json")


def test_a_case_without_an_as_of_entry_is_predicted_now(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    code, out, err = run(capsys, "predict", str(case), "--lang", "en")
    assert code == 0 and err == "" and "Stage:       closed" in out


def test_version_prints_the_library_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"refundrules {refundrules.__version__}"


@pytest.mark.parametrize(
    ("verb", "option", "function", "parameter"),
    [
        ("coverage", "examples", "measure_coverage", "examples"),
        ("coverage", "search", "measure_coverage", "search"),
        ("diff", "examples", "compare_rule_packs", "examples"),
        ("test", "examples", "check_pack_properties", "max_examples"),
    ],
)
def test_cli_defaults_are_the_python_defaults(
    verb: str, option: str, function: str, parameter: str
) -> None:
    import inspect

    import refundrules.authoring as authoring
    from refundrules._cli import build_parser

    parser = build_parser()
    subparsers = next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    verb_default = subparsers.choices[verb].get_default(option)
    python_default = inspect.signature(getattr(authoring, function)).parameters[parameter].default
    assert verb_default == python_default


def one_line_error(err: str) -> str:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("refundrules: "), err
    return lines[0]


def test_a_records_file_that_cannot_be_written_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    records = tmp_path / "no" / "dir" / "x.jsonl"
    code, _, err = run(capsys, "predict", str(EXAMPLE), "--as-of", AS_OF, "--records", str(records))
    assert code == EXIT_USAGE
    assert one_line_error(err) == f"refundrules: {records}: No such file or directory"



def test_a_plain_library_error_is_a_usage_error_on_stderr(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not a case, pack or evaluation error (3, 4, 5): docs/cli.md's table gives such errors
    # (packs that cannot be used together) exit 2, whichever verb raises them.
    from refundrules import _cli
    from refundrules.exceptions import RefundRulesError

    def refuse(args: argparse.Namespace) -> int:
        raise RefundRulesError("these packs cannot be used together")

    monkeypatch.setattr(_cli, "_command_packs", refuse)
    code, out, err = run(capsys, "packs")
    assert code == EXIT_USAGE and out == ""
    assert one_line_error(err) == "refundrules: these packs cannot be used together"

def test_serving_two_packs_with_one_id_is_a_usage_error(pack_copy: Path) -> None:
    import subprocess
    import sys

    # a subprocess: serve sets up the service's loggers, which must not leak into other tests
    run_ = subprocess.run(
        [
            sys.executable,
            "-m",
            "refundrules",
            "serve",
            "--pack",
            "pinduoduo",
            "--pack",
            str(pack_copy),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run_.returncode == EXIT_USAGE
    assert one_line_error(run_.stderr) == "refundrules: two packs have the id 'pinduoduo'"


def test_validate_in_json_reports_an_engine_failure_as_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from refundrules._rulepack import PackVersion
    from refundrules.exceptions import EngineError

    def refuse(self: PackVersion) -> None:  # what durable-rules refusing a ruleset raises
        raise EngineError("durable-rules refused the compiled rules: boom", pack_id=self.ref.id)

    monkeypatch.setattr(PackVersion, "compile", refuse)
    code, out, err = run(capsys, "validate", "pinduoduo", "--format", "json")
    assert code == EXIT_EVALUATION and err == ""
    assert json.loads(out) == {
        "ok": False,
        "error": {
            "message": "pinduoduo: durable-rules refused the compiled rules: boom",
            "pack_id": "pinduoduo",
        },
    }
    code, out, err = run(capsys, "validate", "pinduoduo")
    assert code == EXIT_EVALUATION and out == ""
    assert "durable-rules refused" in one_line_error(err)


def test_validate_in_json_reports_a_bad_pack_as_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "validate", str(tmp_path / "nowhere"), "--format", "json")
    assert code == EXIT_BAD_PACK
    assert json.loads(out)["error"]["path"] == str(tmp_path / "nowhere")
