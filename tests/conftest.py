from __future__ import annotations

import copy
import gc
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import durable_rules_engine
import pytest
from hypothesis import HealthCheck, settings

import refundrules

# Hypothesis profiles: a quick default for developers, a thorough one for CI
# (HYPOTHESIS_PROFILE=ci, set by `make test` under CI). Tests that must keep a documented
# example count (the tutorial, the authoring tools' own `examples=`) set it themselves.
settings.register_profile(
    "dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# What `coverage run` with `patch = ["subprocess"]` (pyproject.toml) sets so that every Python
# process below it measures itself: `make test` needs it for the pytest-xdist workers, but the
# commands tests run (the CLI, the documented sessions) are not measured, as under a serial
# `coverage run`: tracing them would slow the suite for lines the in-process tests already reach.
COVERAGE_STARTUP = ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START")

ROOT = Path(__file__).resolve().parents[1]
# The bundled families: every folder under rules/ with a pack.yaml (rules/_shared holds parts).
BUNDLED = sorted(
    folder.name for folder in (ROOT / "rules").iterdir() if (folder / "pack.yaml").is_file()
)
PDD_PACK = ROOT / "rules" / "pinduoduo"

BASE_CASE: dict[str, Any] = {
    "case_id": "t-1",
    "platform": "pinduoduo",
    "order": {
        "order_id": "o-1",
        "paid_amount": "120.00",
        "paid_at": "2025-03-01T10:00:00+08:00",
        "shipped_at": "2025-03-01T18:00:00+08:00",
        "delivered_at": "2025-03-03T09:00:00+08:00",
    },
    "request": {
        "kind": "refund_only",
        "reason": "quality_problem",
        "amount": "120.00",
        "requested_at": "2025-03-03T10:00:00+08:00",
    },
    "logistics": {"status": "signed", "carrier_pickup_at": "2025-03-01T20:00:00+08:00"},
    "store": {"item_quality_complaint_rate": 0.05},
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(scope="session", autouse=True)
def _unmeasured_subprocesses() -> Iterator[None]:
    """Commands started by tests run without coverage (the workers themselves already started)."""
    saved = {name: os.environ.pop(name) for name in COVERAGE_STARTUP if name in os.environ}
    yield
    os.environ.update(saved)


@pytest.fixture(scope="session")
def pack() -> refundrules.RulePack:
    return refundrules.load_rule_pack("pinduoduo")


@pytest.fixture(scope="session")
def families() -> Iterator[dict[str, refundrules.RulePack]]:
    """Every bundled family (:data:`BUNDLED`), loaded once for the session."""
    loaded = {name: refundrules.load_rule_pack(name) for name in BUNDLED}
    yield loaded
    for family in loaded.values():
        family.close()


@pytest.fixture
def case_data() -> dict[str, Any]:
    return copy.deepcopy(BASE_CASE)


@pytest.fixture
def make_case() -> Callable[..., refundrules.Case]:
    def build(**changes: Any) -> refundrules.Case:
        data = copy.deepcopy(BASE_CASE)
        for dotted, value in changes.items():
            target = data
            *parents, leaf = dotted.split("__")
            for part in parents:
                target = target.setdefault(part, {})
            target[leaf] = value
        return refundrules.Case.model_validate(data)

    return build


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    """A writable copy of the Pinduoduo pack."""
    target = tmp_path / "pinduoduo"
    shutil.copytree(PDD_PACK, target)
    return target


def spy_ruleset_deletes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record every ruleset handle freed in durable's C extension from now on.

    Engines of earlier tests may be collected (and freed) at any time, so tests look only at
    their own handles (:func:`freed_among`); collecting first keeps that noise low.
    """
    gc.collect()
    deleted: list[int] = []
    original = durable_rules_engine.delete_ruleset

    def spy(handle: int) -> Any:
        deleted.append(handle)
        return original(handle)

    monkeypatch.setattr(durable_rules_engine, "delete_ruleset", spy)
    return deleted


def freed_among(deleted: list[int], handles: list[int]) -> list[int]:
    """The frees of these handles, in order (each should appear exactly once)."""
    return [handle for handle in deleted if handle in handles]

