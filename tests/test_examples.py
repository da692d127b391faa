"""Every bundled example predicts, from the command line, with a stage, a resolution, the
deadlines and reasons that cite rule ids; ``--format json`` parses."""

from __future__ import annotations

import json

import pytest

from refundrules._cli import main

from .conftest import ROOT

AS_OF: dict[str, str] = json.loads((ROOT / "examples" / "as_of.json").read_text("utf-8"))


def test_every_example_has_an_as_of() -> None:
    files = sorted(path.name for path in (ROOT / "examples").glob("*.yaml"))
    assert files == sorted(AS_OF) and len(files) >= 8


@pytest.mark.parametrize("name", sorted(AS_OF))
def test_example_predicts_with_reasons(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(ROOT / "examples" / name)
    assert main(["predict", path, "--as-of", AS_OF[name]]) == 0
    text = capsys.readouterr().out
    assert "Stage:" in text and "Resolution:" in text and "Deadlines:" in text
    assert "[decided] " in text
    assert main(["predict", path, "--as-of", AS_OF[name], "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rule_ids = {reason["rule_id"] for reason in data["reasons"]}
    assert data["resolution"]["rule_id"] in rule_ids
    assert set(rule_ids) <= set(data["fired_rules"])
    assert all(reason["sources"] for reason in data["reasons"])


def test_examples_cover_every_stage() -> None:
    import refundrules
    from refundrules import Stage

    pack = refundrules.load_rule_pack("pinduoduo")
    from datetime import datetime

    stages = {
        pack.predict(refundrules.load_case(ROOT / "examples" / name),
                     datetime.fromisoformat(moment)).stage
        for name, moment in AS_OF.items()
    }
    assert stages == set(Stage)
