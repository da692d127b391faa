"""refundrules batch: order, broken lines, reconciling counts, workers, kill and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

import refundrules
from refundrules._batch import _Stop, run_batch
from tests.conftest import ROOT

MAKE_CASES = ROOT / "benchmarks" / "make_cases.py"


def make_cases(path: Path, count: int, broken: int) -> Path:
    subprocess.run(
        [sys.executable, str(MAKE_CASES), str(count), str(path), "--broken", str(broken)],
        check=True,
    )
    return path


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_cases(tmp_path_factory.mktemp("batch") / "cases.jsonl", 120, 6)


def test_a_batch_predicts_in_order_and_files_the_broken_lines(cases: Path, tmp_path: Path) -> None:
    out = tmp_path / "predictions.jsonl"
    summary = run_batch(cases, out, jobs=1, partition=25)
    assert summary.reconciles and (summary.lines, summary.errors) == (120, 6)
    good = records(out)
    bad = records(tmp_path / "predictions.errors.jsonl")
    assert len(good) == 114
    numbers = [record["line"] for record in good]
    assert numbers == sorted(numbers)
    assert sorted(numbers + [record["line"] for record in bad]) == list(range(1, 121))
    assert all(record["error"] for record in bad)
    lines = cases.read_text(encoding="utf-8").splitlines()
    pack = refundrules.load_rule_pack("pinduoduo")
    for record in good[:5]:
        source = json.loads(lines[int(str(record["line"])) - 1])
        expected = pack.predict(
            refundrules.load_case(source["case"]),
            datetime.fromisoformat(source["as_of"]),
        )
        assert record["prediction"] == expected.model_dump(mode="json")
        assert record["case_id"] == source["case"]["case_id"]
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob("*.checkpoint"))


def test_worker_processes_give_the_same_files(cases: Path, tmp_path: Path) -> None:
    run_batch(cases, tmp_path / "one.jsonl", jobs=1, partition=25)
    run_batch(cases, tmp_path / "two.jsonl", jobs=2, partition=25)
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    assert (tmp_path / "one.errors.jsonl").read_bytes() == (
        tmp_path / "two.errors.jsonl"
    ).read_bytes()


def test_a_stopped_run_leaves_no_output_and_resumes_without_duplicates(
    cases: Path, tmp_path: Path
) -> None:
    run_batch(cases, tmp_path / "clean.jsonl", jobs=1, partition=25)
    out = tmp_path / "resumed.jsonl"
    with pytest.raises(_Stop):
        run_batch(cases, out, jobs=1, partition=25, _stop_after=2)
    assert not out.exists()
    # a half-written line after the checkpoint, as a kill mid-write leaves
    with (tmp_path / "resumed.jsonl.partial").open("a", encoding="utf-8") as handle:
        handle.write('{"line": 51, "case_id": "half')
    summary = run_batch(cases, out, jobs=1, partition=25, resume=True)
    assert summary.resumed == 50 and summary.reconciles and summary.lines == 120
    assert out.read_bytes() == (tmp_path / "clean.jsonl").read_bytes()
    assert (tmp_path / "resumed.errors.jsonl").read_bytes() == (
        tmp_path / "clean.errors.jsonl"
    ).read_bytes()


def test_a_killed_cli_run_resumes(tmp_path: Path) -> None:
    cases = make_cases(tmp_path / "cases.jsonl", 500, 5)
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "refundrules", "batch", str(cases), "-o", str(out)]
    process = subprocess.Popen([*command, "--jobs", "1"], stderr=subprocess.DEVNULL)
    checkpoint = tmp_path / "out.jsonl.checkpoint"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    killed = process.poll() is None
    if killed:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    if killed:
        assert not out.exists()
    done = subprocess.run(
        [*command, "--jobs", "2", "--resume"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "500 lines" in done.stderr and "495 predictions" in done.stderr
    numbers = [record["line"] for record in records(out)]
    assert len(numbers) == len(set(numbers)) == 495 and numbers == sorted(numbers)


def test_stdin_and_the_summary_line(tmp_path: Path) -> None:
    cases = make_cases(tmp_path / "cases.jsonl", 30, 3)
    with cases.open("rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-m", "refundrules", "batch", "-", "-o", str(tmp_path / "o.jsonl")],
            stdin=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().startswith("30 lines: 27 predictions in")
    assert "3 errors in" in done.stderr
