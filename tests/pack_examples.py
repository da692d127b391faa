"""Shared steps of the per-pack example tests: each pack's ``examples/<id>/`` folder with its
``as_of.json``, predicted through the command line as a user would."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from refundrules._cli import main

from .conftest import ROOT


def example_folder(pack_id: str) -> tuple[Path, dict[str, str]]:
    """The pack's example folder and the ``as_of`` of each example in it."""
    folder = ROOT / "examples" / pack_id
    as_of: dict[str, str] = json.loads((folder / "as_of.json").read_text("utf-8"))
    return folder, as_of


def assert_every_example_expected(
    folder: Path, as_of: Mapping[str, str], expected: Mapping[str, object]
) -> None:
    """Every example file has an ``as_of`` and an expectation, and nothing else does."""
    files = sorted(path.name for path in folder.glob("*.yaml"))
    assert files == sorted(as_of) == sorted(expected)


def predict_json(
    path: Path, as_of: str, pack_id: str, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    """``refundrules predict PATH --as-of AS_OF --format json``, checked to succeed on ``pack_id``."""
    assert main(["predict", str(path), "--as-of", as_of, "--format", "json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert data["pack"]["id"] == pack_id
    return data


def predict_text(path: Path, as_of: str, lang: str, capsys: pytest.CaptureFixture[str]) -> str:
    """``refundrules predict PATH --as-of AS_OF --lang LANG``, checked to succeed."""
    assert main(["predict", str(path), "--as-of", as_of, "--lang", lang]) == 0
    return capsys.readouterr().out


def assert_deadlines(data: Mapping[str, Any], expected: Mapping[str, str]) -> None:
    """The prediction's running deadlines are exactly ``expected`` (id -> due time)."""
    due = {item["id"]: datetime.fromisoformat(item["due_at"]) for item in data["deadlines"]}
    assert due == {key: datetime.fromisoformat(value) for key, value in expected.items()}
