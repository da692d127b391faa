"""The JSON Schemas explain every field, are valid 2020-12 schemas, match the committed copies
under ``schemas/``, and accept every file the repository ships of their kind.

Refresh the committed copies with ``.venv/bin/python tests/test_schemas.py --refresh``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from refundrules._pack_model import PartManifest
from refundrules._schema import SCHEMA_KINDS, json_schema, schema_id

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "schemas"
PACKS = (  # every bundled pack, and the fictional one
    *sorted(folder for folder in (ROOT / "rules").iterdir() if (folder / "pack.yaml").is_file()),
    ROOT / "tests" / "packs" / "fictional_marketplace",
)
PARTS = sorted(  # every bundled shared part
    folder for folder in (ROOT / "rules" / "_shared").iterdir() if (folder / "part.yaml").is_file()
)


def committed_text(kind: str) -> str:
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"


def undescribed(node: Any, path: str = "#") -> Iterator[str]:
    """Every property, at any depth, that has no description (itself or on its $ref target)."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from undescribed(item, f"{path}/{index}")
        return
    if not isinstance(node, dict):
        return
    for keyword, value in node.items():
        if keyword == "properties" and isinstance(value, dict):
            for name, sub in value.items():
                if "description" not in sub:
                    yield f"{path}/properties/{name}"
                yield from undescribed(sub, f"{path}/properties/{name}")
        elif keyword in {"$defs", "patternProperties"} and isinstance(value, dict):
            for name, sub in value.items():
                yield from undescribed(sub, f"{path}/{keyword}/{name}")
        elif isinstance(value, dict | list) and keyword not in {"default", "examples", "enum"}:
            yield from undescribed(value, f"{path}/{keyword}")


def as_json(data: Any) -> Any:
    """YAML as JSON would carry it: dates and times as ISO 8601 text."""

    def default(value: object) -> str:
        if isinstance(value, datetime | date):
            return value.isoformat()
        raise TypeError(type(value))

    return json.loads(json.dumps(data, default=default))


def load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return as_json(json.loads(text) if path.suffix == ".json" else yaml.safe_load(text))


def shipped_files() -> list[tuple[str, Path]]:
    found = [("case", path) for path in sorted((ROOT / "examples").rglob("*.yaml"))]
    for pack in PACKS:
        found += [("pack", pack / "pack.yaml"), ("profile", pack / "profile.yaml"),
                  ("parameters", pack / "parameters.yaml")]
        found += [("rules", path) for path in sorted((pack / "rules").glob("*.yaml"))]
        found += [("tests", path) for path in sorted((pack / "tests").glob("*.yaml"))]
        if (pack / "properties.yaml").exists():
            found.append(("properties", pack / "properties.yaml"))
    for part in PARTS:
        found.append(("part", part / "part.yaml"))
        if (part / "parameters.yaml").exists():
            found.append(("parameters", part / "parameters.yaml"))
        found += [("rules", path) for path in sorted((part / "rules").glob("*.yaml"))]
    outcome_files = [*ROOT.glob("rules/*/outcomes/*.yaml"), *ROOT.glob("outcomes/*/*.yaml")]
    found += [("outcomes", path) for path in sorted(outcome_files)]
    return found


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_schema_names_its_dialect_and_id(kind: str) -> None:
    schema = json_schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == schema_id(kind) and schema["$id"].endswith(f"/{kind}.schema.json")
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_every_field_has_a_one_line_description(kind: str) -> None:
    schema = json_schema(kind)
    assert list(undescribed(schema)) == []
    text = json.dumps(schema)
    assert "\\n" not in text  # descriptions are one line each, for editors' tooltips


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_committed_schema_is_current(kind: str) -> None:
    committed = SCHEMAS / f"{kind}.schema.json"
    assert committed.read_text(encoding="utf-8") == committed_text(kind), (
        f"schemas/{kind}.schema.json is stale: run python tests/test_schemas.py --refresh"
    )


@pytest.mark.parametrize(
    ("kind", "path"), shipped_files(), ids=lambda item: str(item.relative_to(ROOT))
    if isinstance(item, Path) else item
)
def test_shipped_files_validate_against_their_schema(kind: str, path: Path) -> None:
    validator = Draft202012Validator(json_schema(kind))
    problems = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(load(path))
    ]
    assert problems == []


def test_the_schema_refuses_what_the_loader_refuses() -> None:
    case = load(ROOT / "examples" / "01_awaiting_seller.yaml")
    validator = Draft202012Validator(json_schema("case"))
    assert validator.is_valid(case)
    misspelt = {**case, "order": {**case["order"], "paid_amout": "1.00"}}
    assert not validator.is_valid(misspelt)
    negative = {**case, "request": {**case["request"], "amount": -1}}
    assert not validator.is_valid(negative)
    rules = Draft202012Validator(json_schema("rules"))
    leaf = {"fact": "seller_silence_hours", "gte": {"param": "seller_response_window_hours"}}
    rule = {"id": "r", "title": {"en": "R"}, "priority": 1, "when": {"all": [leaf]},
            "then": {"stage": "closed"}, "sources": ["s"]}
    assert rules.is_valid({"rules": [rule]})
    two_operators = {**leaf, "lt": 3}
    assert not rules.is_valid({"rules": [{**rule, "when": two_operators}]})
    badly_named_fact = {"fact": "Seller Silence", "eq": True}
    assert not rules.is_valid({"rules": [{**rule, "when": badly_named_fact}]})



@pytest.mark.parametrize(
    "broken",
    [
        {"platform": "taobao"},  # a part has no platform (nor profile)
        {"id": "China Law"},
        {"sources": {}},
        {"versions": [{"version": "March 2014", "effective_from": "2014-03-15", "title": "T"}]},
    ],
    ids=["unknown key", "id not an identifier", "no sources", "version not YEAR.MONTH"],
)
def test_the_part_schema_refuses_a_broken_part_as_the_loader_does(broken: dict[str, Any]) -> None:
    part = load(PARTS[0] / "part.yaml")
    validator = Draft202012Validator(json_schema("part"))
    assert validator.is_valid(part)
    PartManifest.model_validate(part)  # and the loader reads it
    assert not validator.is_valid({**part, **broken})
    with pytest.raises(ValidationError):
        PartManifest.model_validate({**part, **broken})


if __name__ == "__main__":
    if sys.argv[1:] != ["--refresh"]:
        sys.exit("usage: python tests/test_schemas.py --refresh")
    SCHEMAS.mkdir(exist_ok=True)
    for kind in SCHEMA_KINDS:
        target = SCHEMAS / f"{kind}.schema.json"
        if not target.exists() or target.read_text(encoding="utf-8") != committed_text(kind):
            target.write_text(committed_text(kind), encoding="utf-8")
            print(f"refreshed {target.relative_to(ROOT)}")
