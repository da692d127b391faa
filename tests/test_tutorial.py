"""The README shows real output: re-run it.

The "change a rule safely" tutorial runs whole, step after step, as a session document of
tests/test_docs.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

TUTORIAL = (ROOT / "docs" / "tutorial-change-a-rule.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLI = [sys.executable, "-m", "refundrules"]


def console_block(document: str, command: str) -> str:
    """The documented output of ``$ command`` (up to the end of its block)."""
    start = document.index(f"$ {command}\n") + len(command) + 3
    return document[start:document.index("```", start)].rstrip("\n")


def run(args: list[str], cwd: Path) -> tuple[int, str]:
    done = subprocess.run(CLI + args, cwd=cwd, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout.rstrip("\n")


def test_readme_example_output_is_real() -> None:
    block = README[README.index("```text\n") + 8:]
    documented = block[:block.index("\n...\n")]
    code, out = run(["predict", "examples/06_platform_reviewing_low_value.yaml",
                     "--as-of", "2025-04-17T15:00:00+08:00"], ROOT)
    assert code == 0 and out.startswith(documented)


def test_readme_python_snippet_runs(capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    snippet = re.search(r"```python\n(.*?)```", README, re.S)
    assert snippet is not None
    monkeypatch.chdir(ROOT)
    exec(compile(snippet.group(1), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert out.startswith("platform_reviewing refund_without_return")


def test_readme_starts_with_the_two_commands_and_says_how_to_run_the_cli() -> None:
    first_block = README[README.index("```console\n") + 11:]
    first_block = first_block[:first_block.index("```")]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()]
    assert commands[:2] == ["make example", "make test"]
    # Without these, a reader's next `refundrules ...` is "command not found", and `make test`
    # looks hung.
    assert ".venv/bin/refundrules" in README and "source .venv/bin/activate" in README
    assert re.search(r"suite itself takes about \d+ minutes", README)
    assert "as_of.json" in README and "pip install refundrules" in README
