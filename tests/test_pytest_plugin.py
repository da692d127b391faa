"""The pytest plugin is opt-in, and a pack that does not load is reported once, plainly."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import PDD_PACK


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    shutil.copytree(PDD_PACK, tmp_path / "pack")
    return tmp_path


def pytest_in(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", *args],
        cwd=folder, capture_output=True, text=True, check=False,
    )


def test_a_project_that_does_not_ask_collects_no_pack_items(project: Path) -> None:
    done = pytest_in(project, "pack")
    assert "no tests collected" in done.stdout
    assert "pack/tests/timeouts.yaml" not in done.stdout


def test_the_flag_or_the_ini_option_collects_pack_tests(project: Path) -> None:
    flagged = pytest_in(project, "--refundrules", "pack")
    assert "pack/tests/timeouts.yaml::seller_silent_exactly_48h_system_refunds" in flagged.stdout
    (project / "pytest.ini").write_text("[pytest]\nrefundrules = true\n", encoding="utf-8")
    configured = pytest_in(project, "pack")
    assert configured.stdout.splitlines()[:-1] == flagged.stdout.splitlines()[:-1]


def test_a_broken_pack_is_reported_once_without_a_traceback(project: Path) -> None:
    rules = project / "pack" / "rules" / "40_intervention.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n  - id: [unclosed\n", encoding="utf-8")
    done = pytest_in(project, "--refundrules", "pack")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert output.count("invalid rule pack: ") == 1
    assert "40_intervention.yaml:" in output and "malformed YAML" in output
    assert "Traceback" not in output and "raise " not in output
