"""The README and the "change a rule safely" tutorial show real output: re-run them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import PDD_PACK, ROOT

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


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tutorial")
    my_pack = root / "my-pack"
    shutil.copytree(PDD_PACK, my_pack)
    params = my_pack / "parameters.yaml"
    params.write_text(
        params.read_text(encoding="utf-8").replace(
            "seller_response_window_hours:\n    value: 48",
            "seller_response_window_hours:\n    value: 36",
        ),
        encoding="utf-8",
    )
    return root


def test_tutorial_diff_output_is_real(workspace: Path) -> None:
    command = "refundrules diff pinduoduo my-pack --examples 200"
    expected = console_block(TUTORIAL, command)
    code, out = run(command.split()[1:], workspace)
    assert f"{out}\n[exit {code}]" == expected


def test_tutorial_allow_makes_the_diff_pass(workspace: Path) -> None:
    command = (
        "refundrules diff pinduoduo my-pack --examples 200 "
        "--allow 'stage:*->closed' --allow 'partial_refund->return_and_refund'"
    )
    expected = console_block(TUTORIAL, command)
    args = ["diff", "pinduoduo", "my-pack", "--examples", "200",
            "--allow", "stage:*->closed", "--allow", "partial_refund->return_and_refund"]
    code, out = run(args, workspace)
    assert code == 0
    assert f"{out}\n[exit {code}]" == expected  # the whole output, as shown


def test_tutorial_validate_output_is_real(workspace: Path) -> None:
    code, out = run(["validate", "my-pack"], workspace)
    assert code == 0 and out == console_block(TUTORIAL, "refundrules validate my-pack")


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


PROPERTY_STEP = """
  - id: agreeing_in_time_costs_no_points
    description: A seller who agrees within the response window gets no penalty points and no dispute record.
    given: {seller_move: agreed, kind: refund_only}
    when:
      all:
        - {fact: seller_silence_hours, lt: {param: seller_response_window_hours}}
        - {fact: buyer_cancelled, eq: false}
    expect:
      max_metric_added: {penalty_points: 0}
      dispute_record: false
"""


def test_tutorial_test_output_is_real(workspace: Path) -> None:
    command = "refundrules test my-pack --examples 200"
    code, out = run(command.split()[1:], workspace)
    assert code == 1 and out == console_block(TUTORIAL, command)


def test_tutorial_property_and_broken_priority(workspace: Path) -> None:
    assert PROPERTY_STEP.strip() in TUTORIAL
    broken = workspace / "broken-pack"
    shutil.copytree(workspace / "my-pack", broken)
    properties = broken / "properties.yaml"
    properties.write_text(properties.read_text(encoding="utf-8") + PROPERTY_STEP,
                          encoding="utf-8")
    rulings = broken / "rules" / "40_intervention.yaml"
    rulings.write_text(
        rulings.read_text(encoding="utf-8").replace("    priority: 102\n", "    priority: 1102\n"),
        encoding="utf-8",
    )
    code, out = run(["test", "broken-pack", "--examples", "200"], workspace)
    documented = console_block(TUTORIAL, "refundrules test broken-pack --examples 200")
    assert documented.startswith("...\n")
    assert code == 1 and out.endswith(documented.removeprefix("...\n"))
