"""The Makefile: `make example` installs only the runtime, the environment follows the
interpreter, and a failed build leaves no half-made environment behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import tomllib
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def fake_python(
    folder: Path, name: str, *, venv_python: str = "exit 1", version: str = "3 99 0"
) -> Path:
    """An 'interpreter' that identifies itself as ``name`` (Python ``version``) and builds a
    venv whose python runs ``venv_python`` (by default: fails, as a broken pip install would)."""
    script = folder / name
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-c" ]; then echo "/opt/{name}/bin/python {version}"; exit 0; fi\n'
        'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then\n'
        '  mkdir -p "$3/bin"\n'
        f"  printf '#!/bin/sh\\n{venv_python}\\n' > \"$3/bin/python\"\n"
        '  chmod +x "$3/bin/python"; exit 0\n'
        "fi\n"
        "exit 1\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *args],
        capture_output=True, text=True, check=False,
    )


def test_make_example_installs_the_runtime_without_the_dev_tools(tmp_path: Path) -> None:
    python = fake_python(tmp_path, "py-a")
    venv = tmp_path / "venv"
    example = make("-n", "example", f"PYTHON={python}", f"VENV={venv}").stdout
    assert "pip install --quiet -e . " in example
    assert "[dev]" not in example
    assert "[dev]" in make("-n", "test", f"PYTHON={python}", f"VENV={venv}").stdout


def test_the_environment_is_rebuilt_when_the_interpreter_changes(tmp_path: Path) -> None:
    first, second = fake_python(tmp_path, "py-a"), fake_python(tmp_path, "py-b")
    venv = tmp_path / "venv"
    make("-n", "example", f"PYTHON={first}", f"VENV={venv}")  # records the interpreter
    assert (venv / ".interpreter").read_text().startswith("/opt/py-a/")
    # The stamps are newer than the interpreter record and than pyproject.toml (which may have
    # been written a moment ago, by a checkout or an edit).
    now = time.time()
    earlier = min(now, (ROOT / "pyproject.toml").stat().st_mtime) - 60
    os.utime(venv / ".interpreter", (earlier, earlier))
    for stamp in (".runtime", ".installed"):
        (venv / stamp).touch()
        os.utime(venv / stamp, (now, now))
    same = make("-n", "example", f"PYTHON={first}", f"VENV={venv}").stdout
    assert "-m venv" not in same and "refundrules predict" in same
    other = make("-n", "test", f"PYTHON={second}", f"VENV={venv}").stdout
    assert f"{second} -m venv {venv}" in other and "[dev]" in other


def test_a_failed_build_leaves_no_environment(tmp_path: Path) -> None:
    python = fake_python(tmp_path, "py-a")  # its venv's pip fails
    venv = tmp_path / "venv"
    done = make("example", f"PYTHON={python}", f"VENV={venv}")
    assert done.returncode != 0
    assert not venv.exists()


def test_a_missing_interpreter_is_named(tmp_path: Path) -> None:
    done = make("example", "PYTHON=python3.0-missing", f"VENV={tmp_path / 'venv'}")
    assert done.returncode != 0
    assert "'python3.0-missing' is not a working Python interpreter" in done.stderr


def dry_run(*args: str) -> list[str]:
    return [line.strip() for line in make("-n", *args).stdout.splitlines()]


def step(lines: list[str], command: str) -> int:
    return next(i for i, line in enumerate(lines) if f"python -m {command}" in line)


def test_make_test_measures_coverage_over_the_xdist_workers_then_combines(tmp_path: Path) -> None:
    python = fake_python(tmp_path, "py-12", version="3 12 1")
    lines = dry_run("test", "WORKERS=3", f"PYTHON={python}", f"VENV={tmp_path / 'venv'}")
    erase, run = step(lines, "coverage erase"), step(lines, "coverage run -m pytest -n 3")
    combine, report = step(lines, "coverage combine --quiet"), step(lines, "coverage report")
    assert erase < run < combine < report
    # Lines through sys.monitoring (Python 3.12+), the workers taking each other's tests.
    assert lines[run].startswith("COVERAGE_CORE=sysmon ")
    assert lines[run].endswith("-m pytest -n 3 --dist worksteal")
    # The workers are subprocesses: measured only when coverage patches subprocess start-up
    # and each process writes its own data file.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["coverage"]["run"]["patch"] == ["subprocess"]
    assert config["tool"]["coverage"]["run"]["parallel"] is True


def test_make_test_on_python_3_11_runs_the_suite_without_the_c_tracer(tmp_path: Path) -> None:
    python, venv = fake_python(tmp_path, "py-11", version="3 11 7"), tmp_path / "venv"
    lines = dry_run("test", "WORKERS=2", f"PYTHON={python}", f"VENV={venv}")
    assert not [line for line in lines if "coverage" in line and "python -m" in line]
    assert any(line.endswith("python -m pytest -n 2 --dist worksteal -q") for line in lines)
    # Asked for, it measures there too: with the C tracer (no sysmon core before 3.12).
    measured = dry_run("test", "COVERAGE=yes", f"PYTHON={python}", f"VENV={venv}")
    run = measured[step(measured, "coverage run")]
    assert "COVERAGE_CORE" not in run


def test_make_coverage_measures_branches_too() -> None:
    lines = dry_run("coverage", "WORKERS=2")
    run = lines[step(lines, "coverage run")]
    assert "coverage run --branch -m pytest -n 2" in run and "COVERAGE_CORE" not in run
