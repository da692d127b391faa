"""CLI conventions: --format json on the verbs whose result decides the exit code, shell
completion, and no .hypothesis folder left where the authoring commands ran."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import refundrules
from refundrules._cli import main

from .conftest import PDD_PACK


def run_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, object]:
    code = main(args)
    return code, json.loads(capsys.readouterr().out)


def test_validate_json_says_ok_or_where_the_pack_is_broken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = run_json(["validate", "pinduoduo", "--format", "json"], capsys)
    assert code == 0 and isinstance(report, dict) and report["ok"] is True
    assert report["id"] == "pinduoduo" and report["versions"][0]["content_hash"]
    broken = tmp_path / "broken"
    shutil.copytree(PDD_PACK, broken)
    params = broken / "parameters.yaml"
    params.write_text(params.read_text(encoding="utf-8") + "\n  bogus: [\n", encoding="utf-8")
    code, report = run_json(["validate", str(broken), "--format", "json"], capsys)
    assert code == 4 and isinstance(report, dict) and report["ok"] is False
    assert report["error"]["path"].endswith("parameters.yaml") and report["error"]["line"]


def test_test_json_gives_the_counts_its_exit_code_follows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = run_json(["test", "pinduoduo", "--examples", "0", "--format", "json"], capsys)
    assert code == 0 and isinstance(report, dict) and report["passed"] is True
    assert report["tests"]["failed"] == 0 and report["tests"]["passed"] > 50
    changed = tmp_path / "changed"
    shutil.copytree(PDD_PACK, changed)
    params = changed / "parameters.yaml"
    text = params.read_text(encoding="utf-8")
    params.write_text(
        text.replace(
            "seller_response_window_hours:\n    value: 48",
            "seller_response_window_hours:\n    value: 36",
        ),
        encoding="utf-8",
    )
    code, report = run_json(["test", str(changed), "--examples", "0", "--format", "json"], capsys)
    assert code == 1 and isinstance(report, dict) and report["passed"] is False
    assert report["tests"]["failed"] == len(report["failures"]) > 0
    assert all(failure["mismatches"] for failure in report["failures"])


def test_examples_and_batch_speak_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, listed = run_json(["examples", "--format", "json"], capsys)
    assert code == 0 and isinstance(listed, list)
    assert {
        "file": "06_platform_reviewing_low_value.yaml",
        "as_of": "2025-04-17T15:00:00+08:00",
    } in listed
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"platform": "pinduoduo"}\nnot json\n', encoding="utf-8")
    code, counts = run_json(
        ["batch", str(cases), "-o", str(tmp_path / "out.jsonl"), "--jobs", "1", "--format", "json"],
        capsys,
    )
    assert code == 0 and isinstance(counts, dict)
    assert (counts["lines"], counts["predictions"], counts["errors"]) == (2, 0, 2)
    assert counts["reconciles"] is True


def test_bash_completion_completes_verbs_and_options(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("shtab")
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out

    def complete(*words: str) -> list[str]:
        command = (
            f"{script}\nCOMP_WORDS=(refundrules {' '.join(words)}); COMP_CWORD={len(words)}; "
            f"_shtab_refundrules refundrules {words[-1]} {words[-2] if len(words) > 1 else 'refundrules'}; "
            'printf "%s\\n" "${COMPREPLY[@]}"'
        )
        result = subprocess.run([bash, "-c", command], capture_output=True, text=True, check=True)
        return result.stdout.split()

    assert complete("rep") == ["replay"]
    assert "--records" in complete("predict", "--rec")
    assert main(["completion", "zsh"]) == 0
    assert "#compdef refundrules" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        ["test", "pinduoduo", "--examples", "3"],
        ["diff", "pinduoduo", "pinduoduo", "--examples", "3"],
        ["coverage", "pinduoduo", "--examples", "3", "--search", "0"],
    ],
)
def test_no_hypothesis_folder_is_left_in_the_working_directory(
    args: list[str], tmp_path: Path
) -> None:
    # A fresh process: Hypothesis fixes its default folder (the working directory's
    # .hypothesis) when it is imported, so this cannot run inside the test process.
    environment = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"}
    subprocess.run(
        [sys.executable, "-m", "refundrules", *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        check=True,
    )
    assert not (tmp_path / ".hypothesis").exists()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_long_runs_show_progress_on_a_terminal_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tqdm")
    records = len(refundrules.load_rule_pack("pinduoduo").outcomes)
    assert main(["calibrate", "pinduoduo", "--format", "json"]) in (0, 1)
    assert capsys.readouterr().err == ""  # not a terminal: silent
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["calibrate", "pinduoduo", "--format", "json"]) in (0, 1)
    # tqdm redraws at most every 0.1 s, so the bar is seen with its total, not every step
    assert "calibrate:" in terminal.getvalue() and f"0/{records}" in terminal.getvalue()
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    main(["test", "pinduoduo", "--examples", "2", "--format", "json"])
    shown = terminal.getvalue()
    tests = len(refundrules.load_rule_pack("pinduoduo").tests)
    assert "pack tests:" in shown and f"0/{tests}" in shown
    properties = len(refundrules.load_rule_pack("pinduoduo").properties)
    assert "properties:" in shown and f"0/{2 * properties}" in shown


def test_the_version_comes_from_the_distribution_whose_source_is_pyproject(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib
    import tomllib
    from importlib import metadata

    from refundrules import _version

    written = tomllib.loads((PDD_PACK.parents[1] / "pyproject.toml").read_text("utf-8"))
    expected = written["project"]["version"]
    assert metadata.version("refundrules") == expected == refundrules.__version__
    with pytest.raises(SystemExit):
        main(["-V"])
    assert capsys.readouterr().out == f"refundrules {expected}\n"
    # read from the metadata, not written twice: another installed version shows as that
    monkeypatch.setattr(metadata, "version", lambda name: "9.8.7" if name == "refundrules" else "")
    try:
        assert importlib.reload(_version).__version__ == "9.8.7"
    finally:
        monkeypatch.undo()
        importlib.reload(_version)
    assert _version.__version__ == expected
