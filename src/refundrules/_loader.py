"""Read a rule pack folder, validate every file, and return a checked ``PackDefinition``.

Loading is all-or-nothing: the first problem raises :class:`RulePackError` with the file,
line, rule id and field, and nothing half-loaded is returned.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from refundrules._case import Case, case_error_from
from refundrules._conditions import Condition, ConditionProblem, check_condition
from refundrules._facts import CONSEQUENCE_FACTS, DECISION_FACTS, FactSpec
from refundrules._pack_model import (
    PackManifest,
    PackTest,
    Parameter,
    ParamRef,
    PropertiesFile,
    PropertySpec,
    RulesFile,
    RuleSpec,
    TestsFile,
)
from refundrules._yaml import YamlDocument, load_yaml_file
from refundrules.exceptions import CaseError, RulePackError

__all__ = [
    "CheckedProperty",
    "CheckedRule",
    "LoadedTest",
    "PackDefinition",
    "bundled_pack_names",
    "read_pack",
    "resolve_pack_path",
]

_Model = TypeVar("_Model", bound=BaseModel)
_UNITS_FOR = {
    "deadline": ("hours", "days"),
    "penalty_points": ("points",),
    "threshold": ("points",),
    "compensation": ("currency",),
    "refund": ("ratio",),
}


@dataclass(frozen=True, eq=False)
class CheckedRule:
    """A rule whose condition passed the checks; compared and hashed by identity."""

    spec: RuleSpec
    condition: Condition
    path: str
    line: int | None


@dataclass(frozen=True)
class LoadedTest:
    spec: PackTest
    case: Case
    path: str
    line: int | None


@dataclass(frozen=True, eq=False)
class CheckedProperty:
    spec: PropertySpec
    condition: Condition | None
    path: str
    line: int | None


@dataclass(frozen=True)
class PackDefinition:
    """A fully checked pack: manifest, parameters, rules by phase, tests, content hash."""

    root: Path
    manifest: PackManifest
    parameters: Mapping[str, Parameter]
    rules: tuple[CheckedRule, ...]
    tests: tuple[LoadedTest, ...]
    content_hash: str
    properties: tuple[CheckedProperty, ...] = ()

    def parameter_value(self, name: str) -> float:
        return self.parameters[name].value


def _bundled_root() -> Path | None:
    installed = resources.files("refundrules") / "rules"
    if installed.is_dir():
        return Path(str(installed))
    # An editable install or a source checkout: the packs live in the repository's rules/.
    checkout = Path(__file__).resolve().parents[2] / "rules"
    return checkout if checkout.is_dir() else None


def bundled_pack_names() -> list[str]:
    root = _bundled_root()
    if root is None:
        return []
    return sorted(child.name for child in root.iterdir() if (child / "pack.yaml").is_file())


def resolve_pack_path(name_or_path: str | Path) -> Path:
    """A folder path as given, or the folder of a bundled pack by name."""
    candidate = Path(name_or_path)
    if candidate.is_dir():
        return candidate
    root = _bundled_root()
    if isinstance(name_or_path, str) and root is not None and (root / name_or_path).is_dir():
        return root / name_or_path
    names = bundled_pack_names()
    close = difflib.get_close_matches(str(name_or_path), names, n=1)
    raise RulePackError(
        f"no rule pack folder or bundled pack named {str(name_or_path)!r} "
        f"(bundled: {', '.join(names) or 'none'})",
        path=str(name_or_path),
        hint=f"did you mean {close[0]!r}?" if close else None,
    )


def _validate(model: type[_Model], doc: YamlDocument) -> _Model:
    if not isinstance(doc.data, dict):
        raise RulePackError("the file must hold a mapping", path=doc.path, line=1)
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = tuple(part for part in first["loc"] if isinstance(part, int | str))
        clean = tuple(
            part
            for part in loc
            if not (
                isinstance(part, str)
                and ("[" in part or part.startswith(("function-", "literal", "enum")))
            )
        )
        field = ".".join(str(part) for part in clean)
        message = first["msg"].removeprefix("Value error, ")
        rule_id = _rule_id_at(doc, clean)
        if first["type"] == "extra_forbidden":
            message = f"unknown key {str(clean[-1])!r}"
        raise RulePackError(
            message, path=doc.path, line=doc.line_of(clean), field=field, rule_id=rule_id
        ) from exc


def _rule_id_at(doc: YamlDocument, loc: tuple[str | int, ...]) -> str | None:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = doc.data.get("rules") if isinstance(doc.data, dict) else None
        if isinstance(rules, list) and loc[1] < len(rules) and isinstance(rules[loc[1]], dict):
            rule_id = rules[loc[1]].get("id")
            return str(rule_id) if rule_id is not None else None
    return None


def _yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def read_pack(name_or_path: str | Path) -> PackDefinition:
    """Load and check the pack at ``name_or_path``; raise :class:`RulePackError` on any problem."""
    root = resolve_pack_path(name_or_path)
    manifest_file = root / "pack.yaml"
    parameters_file = root / "parameters.yaml"
    for required in (manifest_file, parameters_file):
        if not required.is_file():
            raise RulePackError(f"a rule pack needs {required.name}", path=str(required))
    rule_files = _yaml_files(root / "rules")
    if not rule_files:
        raise RulePackError(
            "a rule pack needs at least one file in rules/", path=str(root / "rules")
        )

    digest = hashlib.sha256()
    for file in (manifest_file, parameters_file, *rule_files):
        digest.update(file.relative_to(root).as_posix().encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")

    manifest_doc = load_yaml_file(manifest_file)
    manifest = _validate(PackManifest, manifest_doc)
    parameters = _read_parameters(load_yaml_file(parameters_file), manifest)

    rules: list[CheckedRule] = []
    seen_ids: dict[str, str] = {}
    seen_priorities: dict[tuple[str, int], str] = {}
    for file in rule_files:
        doc = load_yaml_file(file)
        rules_file = _validate(RulesFile, doc)
        for index, spec in enumerate(rules_file.rules):
            line = doc.line_of(("rules", index))
            if spec.id in seen_ids:
                raise RulePackError(
                    f"rule id already used in {seen_ids[spec.id]}",
                    path=doc.path,
                    line=line,
                    rule_id=spec.id,
                )
            seen_ids[spec.id] = f"{doc.path}:{line}"
            clash = seen_priorities.get((spec.phase, spec.priority))
            if clash is not None:
                raise RulePackError(
                    f"priority {spec.priority} is already used by rule {clash!r} in phase "
                    f"{spec.phase!r}; precedence must be explicit, so priorities are unique",
                    field="priority",
                    path=doc.path,
                    line=line,
                    rule_id=spec.id,
                )
            seen_priorities[(spec.phase, spec.priority)] = spec.id
            _check_rule_references(spec, manifest, parameters, doc, index)
            facts = DECISION_FACTS if spec.phase == "decision" else CONSEQUENCE_FACTS
            condition = _checked_condition(
                spec.when, facts, parameters, doc, ("rules", index, "when"), spec.id
            )
            rules.append(CheckedRule(spec=spec, condition=condition, path=doc.path, line=line))

    if not any(rule.spec.then.decides and rule.spec.phase == "decision" for rule in rules):
        raise RulePackError(
            "the pack has no deciding rule (one that sets stage and resolution)",
            path=str(root / "rules"),
        )
    tests = _read_tests(root)
    properties = _read_properties(root, parameters)
    return PackDefinition(
        root=root,
        manifest=manifest,
        parameters=parameters,
        rules=tuple(rules),
        tests=tests,
        content_hash=digest.hexdigest(),
        properties=properties,
    )


def _checked_condition(
    raw: Any,
    facts: Mapping[str, FactSpec],
    parameters: Mapping[str, Parameter],
    doc: YamlDocument,
    key_path: tuple[str | int, ...],
    rule_id: str | None,
) -> Condition:
    """Check a ``when`` tree; a problem becomes a RulePackError at its own line."""
    try:
        return check_condition(
            raw,
            facts=facts,
            parameters={name: parameter.value for name, parameter in parameters.items()},
            key_path=key_path,
            units={name: parameter.unit for name, parameter in parameters.items()},
        )
    except ConditionProblem as problem:
        raise RulePackError(
            problem.message,
            path=doc.path,
            line=doc.line_of(problem.key_path),
            rule_id=rule_id,
            field=".".join(map(str, problem.key_path[2:])),
            hint=problem.hint,
        ) from problem


def _read_properties(
    root: Path, parameters: Mapping[str, Parameter]
) -> tuple[CheckedProperty, ...]:
    file = root / "properties.yaml"
    if not file.is_file():
        return ()
    doc = load_yaml_file(file)
    properties_file = _validate(PropertiesFile, doc)
    checked: list[CheckedProperty] = []
    seen: set[str] = set()
    for index, spec in enumerate(properties_file.properties):
        line = doc.line_of(("properties", index))
        if spec.id in seen:
            raise RulePackError(f"property id {spec.id!r} is used twice", path=doc.path, line=line)
        seen.add(spec.id)
        condition = None
        if spec.when is not None:
            condition = _checked_condition(
                spec.when, DECISION_FACTS, parameters, doc, ("properties", index, "when"), None
            )
        checked.append(CheckedProperty(spec=spec, condition=condition, path=doc.path, line=line))
    return tuple(checked)


def _read_parameters(doc: YamlDocument, manifest: PackManifest) -> dict[str, Parameter]:
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("parameters"), dict):
        raise RulePackError(
            "parameters.yaml holds 'parameters:' mapping names to parameters", path=doc.path, line=1
        )
    extra = set(data) - {"parameters"}
    if extra:
        raise RulePackError(
            f"unknown key {sorted(extra)[0]!r}",
            path=doc.path,
            line=doc.line_of((sorted(extra)[0],)),
        )
    parameters: dict[str, Parameter] = {}
    for name, raw in data["parameters"].items():
        key_path: tuple[str | int, ...] = ("parameters", name)
        if not isinstance(name, str) or not name.isidentifier() or not name.islower():
            raise RulePackError(
                f"parameter name {name!r} must be a lower-case identifier",
                path=doc.path,
                line=doc.line_of(key_path),
            )
        try:
            parameter = Parameter.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            loc = tuple(part for part in first["loc"] if isinstance(part, int | str))
            message = first["msg"]
            if first["type"] == "extra_forbidden":
                message = f"unknown key {str(loc[-1])!r}"
            raise RulePackError(
                message,
                path=doc.path,
                line=doc.line_of((*key_path, *loc)),
                field=".".join(str(p) for p in (name, *loc)),
            ) from exc
        cited = [parameter.source, *(alt.source for alt in parameter.alternatives)]
        for source in cited:
            _check_source(source, manifest, doc, key_path)
        parameters[name] = parameter
    return parameters


def _check_source(
    key: str,
    manifest: PackManifest,
    doc: YamlDocument,
    key_path: tuple[str | int, ...],
    rule_id: str | None = None,
) -> None:
    if key not in manifest.sources:
        close = difflib.get_close_matches(key, list(manifest.sources), n=1)
        raise RulePackError(
            f"source {key!r} is not in pack.yaml's sources",
            path=doc.path,
            line=doc.line_of(key_path),
            rule_id=rule_id,
            hint=f"did you mean {close[0]!r}?" if close else None,
        )


def _check_rule_references(
    spec: RuleSpec,
    manifest: PackManifest,
    parameters: Mapping[str, Parameter],
    doc: YamlDocument,
    index: int,
) -> None:
    base: tuple[str | int, ...] = ("rules", index)
    for position, source in enumerate(spec.sources):
        _check_source(source, manifest, doc, (*base, "sources", position), spec.id)
    effects = spec.then
    if spec.phase == "consequence" and effects.decides:
        raise RulePackError(
            "a consequence-phase rule cannot set stage or resolution",
            path=doc.path,
            line=doc.line_of((*base, "then")),
            rule_id=spec.id,
        )
    ignored = []
    if effects.decides:
        ignored += [name for name in ("compensation", "buyer_signals") if getattr(effects, name)]
    if spec.phase == "consequence":
        ignored += [name for name in ("deadlines", "compensation") if getattr(effects, name)]
    if ignored:
        kind = "a deciding rule" if effects.decides else "a consequence-phase rule"
        raise RulePackError(
            f"{kind} cannot carry {' or '.join(ignored)}; put it in a separate additive "
            "decision rule",
            path=doc.path,
            line=doc.line_of((*base, "then", ignored[0])),
            rule_id=spec.id,
        )
    if spec.phase == "decision" and effects.sanction is not None:
        raise RulePackError(
            "sanctions depend on the points total: use phase 'consequence'",
            path=doc.path,
            line=doc.line_of((*base, "then", "sanction")),
            rule_id=spec.id,
        )

    def check(ref: ParamRef, role: str, key_path: tuple[str | int, ...]) -> None:
        where: dict[str, Any] = {
            "path": doc.path,
            "line": doc.line_of((*base, "then", *key_path)),
            "rule_id": spec.id,
            "field": ".".join(map(str, key_path)),
        }
        if ref.param not in parameters:
            close = difflib.get_close_matches(ref.param, list(parameters), n=1)
            raise RulePackError(
                f"unknown parameter {ref.param!r}",
                hint=f"did you mean {close[0]!r}?" if close else None,
                **where,
            )
        unit = parameters[ref.param].unit
        if unit not in _UNITS_FOR[role]:
            raise RulePackError(
                f"parameter {ref.param!r} is in {unit}; {role} needs "
                f"{' or '.join(_UNITS_FOR[role])}",
                **where,
            )

    for position, deadline in enumerate(effects.deadlines):
        check(deadline.after, "deadline", ("deadlines", position, "after"))
    if effects.penalty_points is not None:
        check(effects.penalty_points, "penalty_points", ("penalty_points",))
    for position, compensation in enumerate(effects.compensation):
        check(compensation.amount, "compensation", ("compensation", position, "amount"))
    if effects.sanction is not None:
        check(effects.sanction.threshold, "threshold", ("sanction", "threshold"))
    if effects.resolution is not None and isinstance(effects.resolution.refund, ParamRef):
        check(effects.resolution.refund, "refund", ("resolution", "refund"))


def _read_tests(root: Path) -> tuple[LoadedTest, ...]:
    loaded: list[LoadedTest] = []
    names: set[str] = set()
    for file in _yaml_files(root / "tests"):
        doc = load_yaml_file(file)
        tests_file = _validate(TestsFile, doc)
        for index, spec in enumerate(tests_file.tests):
            line = doc.line_of(("tests", index))
            if spec.name in names:
                raise RulePackError(
                    f"test name {spec.name!r} is used twice", path=doc.path, line=line
                )
            names.add(spec.name)
            data: Any = spec.case
            if spec.case_file is not None:
                case_path = file.parent / spec.case_file
                case_doc = load_yaml_file(case_path)
                data = case_doc.data
            try:
                case = Case.model_validate(data)
            except CaseError as exc:
                raise RulePackError(
                    f"invalid test case: {exc}",
                    path=doc.path,
                    line=doc.line_of(("tests", index, "case", *_split(exc))),
                    field=exc.field,
                ) from exc
            except ValidationError as exc:  # pragma: no cover - Case wraps its own errors
                raise RulePackError(str(case_error_from(exc)), path=doc.path, line=line) from exc
            loaded.append(LoadedTest(spec=spec, case=case, path=doc.path, line=line))
    return tuple(loaded)


def _split(exc: CaseError) -> tuple[str | int, ...]:
    if not exc.field:
        return ()
    parts: list[str | int] = []
    for chunk in exc.field.replace("]", "").split("."):
        name, _, index = chunk.partition("[")
        parts.append(name)
        if index:
            parts.append(int(index))
    return tuple(parts)
