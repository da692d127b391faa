"""JSON Schemas for case files and rule-pack files, for editors and other tools.

>>> schema = json_schema("rules")
>>> schema["$defs"]["Condition"]["oneOf"][0]["required"]
['all']
"""

from __future__ import annotations

from typing import Any

from refundrules._case import Case
from refundrules._conditions import OPERATORS
from refundrules._pack_model import PackManifest, RulesFile, TestsFile
from refundrules._profile import PlatformProfile
from refundrules._registry import installed_profiles

__all__ = ["SCHEMA_KINDS", "json_schema"]

SCHEMA_KINDS = ("case", "rules", "pack", "profile", "parameters", "tests")


def _condition_schema() -> dict[str, Any]:
    # The facts a rule may read are its platform profile's; the schema offers those of every
    # installed pack (a pack's own loader checks the exact set, with "did you mean").
    facts = sorted(
        {
            name
            for profile in installed_profiles().values()
            for name in (*profile.decision_facts, *profile.consequence_fact_specs)
        }
    )
    operand: dict[str, Any] = {
        "oneOf": [
            {"type": ["boolean", "string", "number"]},
            {"type": "array", "items": {"type": "string"}, "minItems": 1},
            {
                "type": "object",
                "properties": {"param": {"type": "string"}},
                "required": ["param"],
                "additionalProperties": False,
            },
        ]
    }
    leaf = {
        "type": "object",
        "properties": {"fact": {"enum": facts}, **{op: operand for op in OPERATORS}},
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
                "properties": {"all": {"type": "array", "items": branch, "minItems": 1}},
                "required": ["all"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {"any": {"type": "array", "items": branch, "minItems": 1}},
                "required": ["any"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {"not": branch},
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
                "type": "object",
                "additionalProperties": {"$ref": "#/$defs/Parameter"},
                "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
            }
        },
        "required": ["parameters"],
        "additionalProperties": False,
        "$defs": definitions,
    }


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of ``kind``: one of ``case``, ``rules``, ``pack``, ``parameters``, ``tests``."""
    if kind == "case":
        schema = Case.model_json_schema()
        schema["title"] = "refundrules case"
        return schema
    if kind == "rules":
        schema = RulesFile.model_json_schema()
        schema["title"] = "refundrules rules file (rules/*.yaml)"
        schema["$defs"]["Condition"] = _condition_schema()
        schema["$defs"]["RuleSpec"]["properties"]["when"] = {"$ref": "#/$defs/Condition"}
        return schema
    if kind == "pack":
        schema = PackManifest.model_json_schema()
        schema["title"] = "refundrules pack manifest (pack.yaml)"
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
    raise ValueError(f"unknown schema {kind!r}; choose one of {', '.join(SCHEMA_KINDS)}")
