"""JSON Schemas for case files and rule-pack files, for editors and other tools.

Each schema is JSON Schema 2020-12 with an ``$id`` and a description on every field, so an
editor can complete and explain a file. The same schemas are committed under ``schemas/``.

>>> schema = json_schema("rules")
>>> schema["$schema"]
'https://json-schema.org/draft/2020-12/schema'
>>> schema["$defs"]["Condition"]["oneOf"][0]["required"]
['all']
"""

from __future__ import annotations

from typing import Any

from refundrules._case import Case
from refundrules._conditions import OPERATORS
from refundrules._outcomes import OutcomesFile
from refundrules._pack_model import (
    PackManifest,
    PartManifest,
    PropertiesFile,
    RulesFile,
    TestsFile,
)
from refundrules._profile import PlatformProfile
from refundrules._registry import installed_profiles

__all__ = ["SCHEMA_KINDS", "json_schema", "schema_id"]

SCHEMA_KINDS = (
    "case",
    "rules",
    "pack",
    "part",
    "profile",
    "parameters",
    "tests",
    "properties",
    "outcomes",
)
DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://raw.githubusercontent.com/refundrules/refundrules/main/schemas/"


def schema_id(kind: str) -> str:
    """Where the committed schema of ``kind`` is published (its ``$id``)."""
    return f"{ID_BASE}{kind}.schema.json"


_OPERATOR_TEXT = {
    "eq": "The fact equals the value",
    "ne": "The fact differs from the value",
    "lt": "The fact is less than the value",
    "lte": "The fact is at most the value",
    "gt": "The fact is greater than the value",
    "gte": "The fact is at least the value",
    "in": "The fact is one of the values",
    "not_in": "The fact is none of the values",
}


def _condition_schema() -> dict[str, Any]:
    # The facts a rule may read are its platform profile's; the schema suggests those of every
    # installed pack (a pack's own loader checks the exact set, with "did you mean").
    facts = sorted(
        {
            name
            for profile in installed_profiles().values()
            for name in (*profile.decision_facts, *profile.consequence_fact_specs)
        }
    )
    operand: dict[str, Any] = {
        "description": "A literal (number, true/false, text or a list of texts) or {param: NAME}",
        "oneOf": [
            {"type": ["boolean", "string", "number"]},
            {"type": "array", "items": {"type": "string"}, "minItems": 1},
            {
                "type": "object",
                "properties": {
                    "param": {"type": "string", "description": "The name of a parameter"}
                },
                "required": ["param"],
                "additionalProperties": False,
            },
        ],
    }
    leaf = {
        "type": "object",
        "properties": {
            "fact": {
                "type": "string",
                "pattern": "^[a-z][a-z0-9_]*$",
                "examples": facts,
                "description": "The fact the leaf reads, one the pack's profile declares",
            },
            **{op: {**operand, "description": _OPERATOR_TEXT.get(op, op)} for op in OPERATORS},
        },
        "required": ["fact"],
        "additionalProperties": False,
        "minProperties": 2,
        "maxProperties": 2,
        "description": "{fact: NAME, OP: VALUE}; numbers are {param: NAME} (or 0 / 1)",
    }
    branch = {"$ref": "#/$defs/Condition"}
    return {
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "all": {
                        "type": "array",
                        "items": branch,
                        "minItems": 1,
                        "description": "Every condition holds",
                    }
                },
                "required": ["all"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {
                    "any": {
                        "type": "array",
                        "items": branch,
                        "minItems": 1,
                        "description": "At least one condition holds",
                    }
                },
                "required": ["any"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {"not": {**branch, "description": "The condition does not hold"}},
                "required": ["not"],
                "additionalProperties": False,
            },
            leaf,
        ]
    }


def _parameters_schema() -> dict[str, Any]:
    from refundrules._pack_model import Parameter

    parameter = Parameter.model_json_schema(ref_template="#/$defs/{model}")
    definitions = parameter.pop("$defs", {})
    definitions["Parameter"] = parameter
    return {
        "title": "refundrules parameters.yaml",
        "type": "object",
        "properties": {
            "parameters": {
                "description": "Each parameter by name: a number with its unit and its source",
                "type": "object",
                "additionalProperties": {"$ref": "#/$defs/Parameter"},
                "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
            }
        },
        "required": ["parameters"],
        "additionalProperties": False,
        "$defs": definitions,
    }


def _built(kind: str) -> dict[str, Any]:
    if kind == "case":
        schema = Case.model_json_schema()
        schema["title"] = "refundrules case"
        return schema
    if kind == "rules":
        schema = RulesFile.model_json_schema()
        schema["title"] = "refundrules rules file (rules/*.yaml)"
        schema["$defs"]["Condition"] = _condition_schema()
        rule = schema["$defs"]["RuleSpec"]["properties"]
        rule["when"] = {"$ref": "#/$defs/Condition", "description": rule["when"]["description"]}
        return schema
    if kind == "pack":
        schema = PackManifest.model_json_schema()
        schema["title"] = "refundrules pack manifest (pack.yaml)"
        return schema
    if kind == "part":
        schema = PartManifest.model_json_schema()
        schema["title"] = "refundrules shared part manifest (rules/_shared/NAME/part.yaml)"
        return schema
    if kind == "profile":
        schema = PlatformProfile.model_json_schema()
        schema["title"] = "refundrules platform profile (profile.yaml)"
        return schema
    if kind == "parameters":
        return _parameters_schema()
    if kind == "tests":
        schema = TestsFile.model_json_schema()
        schema["title"] = "refundrules pack tests (tests/*.yaml)"
        return schema
    if kind == "properties":
        schema = PropertiesFile.model_json_schema()
        schema["title"] = "refundrules pack properties (properties.yaml)"
        return schema
    if kind == "outcomes":
        schema = OutcomesFile.model_json_schema()
        schema["title"] = "refundrules published outcomes (outcomes/*.yaml)"
        return schema
    raise ValueError(f"unknown schema {kind!r}; choose one of {', '.join(SCHEMA_KINDS)}")


def _one_line(node: Any) -> Any:
    # Descriptions come from docstrings: one paragraph each, on one line, for editors.
    if isinstance(node, dict):
        return {
            key: " ".join(value.split())
            if key == "description" and isinstance(value, str)
            else _one_line(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_one_line(item) for item in node]
    return node


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of ``kind``, one of :data:`SCHEMA_KINDS` (``case``, ``rules``, …)."""
    schema = _one_line(_built(kind))
    return {"$schema": DIALECT, "$id": schema_id(kind), **schema}
