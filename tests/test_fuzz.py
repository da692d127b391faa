"""A fuzz of hostile pack files and case files (issue 13, reliability).

Each mutant of the bundled Pinduoduo pack or of an example case must end in one of two ways:
a :class:`RefundRulesError` (a pack error naming its file, and its line where the file has
one), or a pack / case that really predicts. Nothing else may escape, no mutant may take long
or much memory, a failed load leaves nothing registered, and a pack that loads ("validate: ok")
must be able to predict.

Sized for CI (about 20 s on one core). The mutants are generated in one seeded sequence and
run in slices (``SLICES`` items per kind), so pytest-xdist can spread them over the cores; each
slice runs its own part of the same sequence. For a longer run::

    REFUNDRULES_FUZZ_MUTANTS=3000 .venv/bin/python -m pytest -q tests/test_fuzz.py

``REFUNDRULES_FUZZ_SEED`` picks another seed; a failure names the seed and the mutant.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

import refundrules
from refundrules import RulePackError
from refundrules._engine import RuleEngine
from refundrules.exceptions import CaseError, EngineError, EvaluationError

from .conftest import PDD_PACK, ROOT
from .fuzz_mutants import Mutant, case_mutants, pack_mutants, structural_mutants

PACK_MUTANTS = int(os.environ.get("REFUNDRULES_FUZZ_MUTANTS", "40"))
CASE_MUTANTS = 2 * PACK_MUTANTS
SEED = int(os.environ.get("REFUNDRULES_FUZZ_SEED", "13"))
# Each kind of mutant runs as this many test items, mutant i in slice i % SLICES.
SLICES = 4
# Generous bounds: the slowest honest load or prediction of a mutant takes well under a
# second; a hang or an expansion blows far past these.
SECONDS_PER_MUTANT = 20.0
MIB_PER_MUTANT = 300.0
EXAMPLES = ROOT / "examples"
AS_OF = json.loads((EXAMPLES / "as_of.json").read_text(encoding="utf-8"))
PACK_FILES = ("pack.yaml", "profile.yaml", "parameters.yaml", "rules", "outcomes")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0  # pragma: no cover - not Linux


@pytest.fixture(autouse=True)
def _frozen_heap() -> Iterator[None]:
    """What exists before the test is moved out of the collector's reach (``gc.freeze``), so
    the collections :func:`live_engines` makes look only at what the test made: a full
    collection of the suite's heap costs about 70 ms, and a slice makes twenty."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


def live_engines() -> int:
    """The engines made since the test began (:func:`_frozen_heap`) and not closed."""
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, RuleEngine) and not obj.closed)


def example_cases() -> list[tuple[refundrules.Case, datetime]]:
    cases = []
    for name in ("01_awaiting_seller.yaml", "06_platform_reviewing_low_value.yaml"):
        cases.append((refundrules.load_case(EXAMPLES / name), datetime.fromisoformat(AS_OF[name])))
    return cases


def fresh_pack(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name in PACK_FILES:
        source = PDD_PACK / name
        if source.is_dir():
            shutil.copytree(source, folder / name)
        else:
            shutil.copyfile(source, folder / name)
    return folder


def check_pack_error(error: RulePackError, folder: Path, mutant: Mutant) -> None:
    assert error.path is not None, f"{mutant.name}: no file in {error}"
    named = Path(error.path)
    assert named == folder or folder in named.parents, f"{mutant.name}: {error.path}"
    if mutant.loads is None and named.is_file() and named.stat().st_size:
        # An edit of a file's content: the error points at a line of it (or at the whole
        # file when it cannot be read as text at all).
        unreadable = "cannot read file" in error.message
        assert error.line is not None or unreadable, f"{mutant.name}: no line in {error}"


def check_predicts(pack: refundrules.RulePack, mutant: Mutant) -> None:
    for case, as_of in example_cases():
        try:
            pack.predict(case, as_of)
        except EngineError as exc:  # pragma: no cover - the failure the test looks for
            pytest.fail(f"{mutant.name}: loads but the engine refuses it: {exc}")
        except (CaseError, EvaluationError):
            pass  # a profile that no longer fits the case, or a rule gap: the pack's answer


def run_pack_mutant(mutant: Mutant, folder: Path) -> None:
    fresh_pack(folder)
    mutant.apply(folder)
    engines = live_engines()
    began, memory = time.perf_counter(), rss_mib()
    try:
        pack = refundrules.load_rule_pack(folder)
    except RulePackError as error:
        assert mutant.loads is not True, f"{mutant.name}: refused: {error}"
        check_pack_error(error, folder, mutant)
        assert live_engines() == engines, f"{mutant.name}: a failed load left engines behind"
    else:
        assert mutant.loads is not False, f"{mutant.name}: loaded, validate would say ok"
        with pack:
            check_predicts(pack, mutant)
    seconds, grown = time.perf_counter() - began, rss_mib() - memory
    assert seconds < SECONDS_PER_MUTANT, f"{mutant.name}: took {seconds:.1f} s"
    assert grown < MIB_PER_MUTANT, f"{mutant.name}: grew {grown:.0f} MiB"


with tempfile.TemporaryDirectory() as scratch:
    STRUCTURAL = [
        mutant.name for mutant in structural_mutants(PDD_PACK, random.Random(SEED), Path(scratch))
    ]


@pytest.mark.parametrize("name", STRUCTURAL)
def test_structural_mutant(tmp_path: Path, name: str) -> None:
    """A rearranged pack folder (a rules file moved, renamed, linked out, a bomb, thousands
    of rules, a huge note) loads and predicts, or is refused, as the mutant says."""
    outside = tmp_path / "outside"
    outside.mkdir()
    mutants = structural_mutants(PDD_PACK, random.Random(SEED), outside)
    run_pack_mutant(next(m for m in mutants if m.name == name), tmp_path / "pack")


@functools.cache
def seeded_pack_mutants() -> tuple[Mutant, ...]:
    """The run's pack mutants, made once per process (every slice walks the same sequence)."""
    return tuple(pack_mutants(PDD_PACK, random.Random(SEED), PACK_MUTANTS))


def in_slice(index: int, part: int) -> bool:
    return index % SLICES == part


@pytest.mark.parametrize("part", range(SLICES))
def test_pack_mutants_end_in_our_error_or_a_pack_that_predicts(tmp_path: Path, part: int) -> None:
    for index, mutant in enumerate(seeded_pack_mutants()):
        if not in_slice(index, part):
            continue
        try:
            run_pack_mutant(mutant, tmp_path / "pack")
        except AssertionError:
            raise
        except Exception as exc:  # the failure the test looks for: name the mutant
            raise AssertionError(f"seed {SEED}, {mutant.name}: {exc!r}") from exc


def run_case_mutant(
    name: str, data: bytes, folder: Path, suffix: str, pack: refundrules.RulePack
) -> None:
    file = folder / f"case{suffix}"
    file.write_bytes(data)
    began, memory = time.perf_counter(), rss_mib()
    try:
        case = refundrules.load_case(file)
    except CaseError:
        pass
    else:
        as_of = datetime.fromisoformat(AS_OF["06_platform_reviewing_low_value.yaml"])
        with contextlib.suppress(CaseError, EvaluationError):
            pack.predict(case, as_of)
    seconds, grown = time.perf_counter() - began, rss_mib() - memory
    assert seconds < SECONDS_PER_MUTANT, f"{name}: took {seconds:.1f} s"
    assert grown < MIB_PER_MUTANT, f"{name}: grew {grown:.0f} MiB"


@pytest.mark.parametrize("part", range(SLICES))
def test_case_mutants_end_in_a_case_error_or_a_prediction(
    tmp_path: Path, pack: refundrules.RulePack, part: int
) -> None:
    rng = random.Random(SEED)
    files = sorted(path for path in EXAMPLES.glob("*.yaml"))
    for index in range(CASE_MUTANTS):
        source = rng.choice(files)
        # Every mutant is drawn, so each slice sees the same sequence; only its own are run.
        for name, data in case_mutants(source.read_bytes(), rng, 1):
            if not in_slice(index, part):
                continue
            label = f"seed {SEED}, {source.name} {index} {name}"
            try:
                run_case_mutant(label, data, tmp_path, ".yaml", pack)
            except AssertionError:
                raise
            except Exception as exc:
                raise AssertionError(f"{label}: {exc!r}") from exc
