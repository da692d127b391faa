"""Read a rule pack folder, validate every file, and return a checked ``PackDefinition``.

Loading is all-or-nothing: the first problem raises :class:`RulePackError` with the file,
line, rule id and field, and nothing half-loaded is returned.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from refundrules._case import Case, case_error_from
from refundrules._conditions import Condition, ConditionProblem, check_condition
from refundrules._facts import FactSpec
from refundrules._installed import installed_pack, installed_packs, looks_like_path
from refundrules._pack_model import (
    TIME_UNITS,
    PackManifest,
    PackTest,
    PackVersionSpec,
    Parameter,
    ParamRef,
    PropertiesFile,
    PropertySpec,
    RulesFile,
    RuleSpec,
    TestsFile,
)
from refundrules._prediction import SourceCitation
from refundrules._profile import PlatformProfile
from refundrules._seller_actions import ACTIONS_FILE, SellerActionsFile, check_seller_actions
from refundrules._yaml import YamlDocument, load_yaml_file
from refundrules.exceptions import CaseError, RulePackError

__all__ = [
    "CheckedProperty",
    "CheckedRule",
    "LoadedTest",
    "PackDefinition",
    "VersionDefinition",
    "bundled_pack_names",
    "read_pack",
    "read_profile",
    "read_properties",
    "read_seller_actions",
    "read_tests",
    "resolve_pack_path",
]

_Model = TypeVar("_Model", bound=BaseModel)
_UNITS_FOR = {
    "deadline": TIME_UNITS,
    "points": ("points",),
    "currency": ("currency",),
    "count": ("count",),
    "ratio": ("ratio",),
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
    """A declared property; its ``when`` checked against each version's parameters."""

    spec: PropertySpec
    conditions: Mapping[str, Condition | None]  # by version
    path: str
    line: int | None


@dataclass(frozen=True)
class VersionDefinition:
    """One dated version of a family, fully checked: its parameters and rules in force."""

    spec: PackVersionSpec
    effective_to: date | None
    manifest: PackManifest
    profile: PlatformProfile
    parameters: Mapping[str, Parameter]
    rules: tuple[CheckedRule, ...]
    content_hash: str

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def effective_from(self) -> date:
        return self.spec.effective_from

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    def parameter_value(self, name: str) -> float:
        return self.parameters[name].value

    @cached_property
    def citations(self) -> Mapping[str, tuple[SourceCitation, ...]]:
        """Each rule's sources as a prediction cites them, built once per version (they
        depend only on the rule and the manifest, not on the case)."""
        sources = self.manifest.sources
        return {
            rule.spec.id: tuple(
                SourceCitation(
                    key=key,
                    title=sources[key].title,
                    url=sources[key].url,
                    confidence=sources[key].confidence,
                )
                for key in rule.spec.sources
            )
            for rule in self.rules
        }


@dataclass(frozen=True)
class PackDefinition:
    """A fully checked family: manifest, profile, its dated versions (oldest first) and the
    seller actions it declares (``seller_actions.yaml``; only "do nothing" without one).

    Tests and properties are not part of it: :func:`read_tests` and :func:`read_properties`
    read them when a test, property or coverage run asks.
    """

    root: Path
    manifest: PackManifest
    profile: PlatformProfile
    versions: tuple[VersionDefinition, ...]
    seller_actions: SellerActionsFile = field(default_factory=SellerActionsFile)


def bundled_examples_root() -> Path | None:
    """The example cases shipped with the package (the repository's examples/ in a checkout)."""
    installed = resources.files("refundrules") / "examples"
    if installed.is_dir():
        return Path(str(installed))
    checkout = Path(__file__).resolve().parents[2] / "examples"
    return checkout if checkout.is_dir() else None


def bundled_pack_names() -> list[str]:
    """The names of the packs shipped with the library."""
    return [name for name, pack in installed_packs().items() if pack.origin == "bundled"]


def resolve_pack_path(name_or_path: str | Path) -> Path:
    """The folder of a pack: a path as given, or an installed pack's folder by name.

    A :class:`~pathlib.Path`, or a text that looks like a path (a separator, or a leading
    ``.`` or ``~``, which is expanded to the home folder), is a folder; any other text is an installed pack's name, even if a folder of that
    name exists in the working directory (``./NAME`` reads that folder).
    """
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or looks_like_path(text):
        try:
            candidate = Path(name_or_path).expanduser()
        except RuntimeError as exc:  # ~user of no such user, or no home folder
            raise RulePackError(f"no rule pack folder {text!r}: {exc}", path=text) from exc
        if candidate.is_dir():
            return candidate
        raise RulePackError(f"no rule pack folder {text!r}", path=text)
    found = installed_pack(text)
    if found is not None:
        return found.root()
    names = sorted(installed_packs())
    close = difflib.get_close_matches(text, names, n=1)
    hint = f"did you mean {close[0]!r}?" if close else None
    if Path(text).is_dir():
        hint = f"a folder {text!r} is in the working directory; to use it, write ./{text}"
    raise RulePackError(
        f"no installed rule pack named {text!r} (installed: {', '.join(names) or 'none'})",
        path=text,
        hint=hint,
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


def _inside_pack(root: Path, file: Path) -> Path:
    """``file``, after checking that it lies inside the pack folder ``root`` once symlinks are
    resolved: a pack reads only its own files."""
    if not file.resolve().is_relative_to(root.resolve()):
        raise RulePackError(
            f"{file.name} links outside the pack folder (to {file.resolve()})",
            path=str(file),
            hint="copy the file into the pack instead of linking to it",
        )
    return file


def _yaml_files(folder: Path, root: Path | None = None, *, subfolders: bool = False) -> list[Path]:
    """The ``.yaml`` / ``.yml`` files directly in ``folder`` (a subfolder of the pack at
    ``root``, by default ``folder``'s parent), in name order.

    Nothing that looks like a pack file is skipped silently: a subfolder (unless
    ``subfolders``: tests/ keeps case files in them), a name ending in ``.YAML`` or ``.Yml``,
    or an entry that is not a regular file is an error, and so is a file or folder that links
    outside the pack.
    """
    root = folder.parent if root is None else root
    if not folder.exists() and not folder.is_symlink():
        return []
    _inside_pack(root, folder)
    if not folder.is_dir():
        raise RulePackError(f"{folder.name} must be a folder", path=str(folder))
    found: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue  # editor and system files (.DS_Store, .swp)
        suffix = entry.suffix
        if entry.is_dir() and not entry.is_symlink():
            if subfolders:
                continue
            raise RulePackError(
                f"{folder.name}/ holds a subfolder {entry.name!r}; only the files directly in "
                f"{folder.name}/ are read",
                path=str(entry),
                hint=f"move its files up into {folder.name}/",
            )
        if suffix.lower() not in (".yaml", ".yml"):
            continue
        if suffix not in (".yaml", ".yml"):
            raise RulePackError(
                f"{entry.name!r} would not be read: pack files end in lower-case .yaml or .yml",
                path=str(entry),
                hint=f"rename it to {entry.stem}.yaml",
            )
        _inside_pack(root, entry)
        if not entry.is_file():
            raise RulePackError(f"{entry.name} is not a regular file", path=str(entry))
        found.append(entry)
    return found


def read_profile(root: Path) -> PlatformProfile:
    """The platform profile of the family at ``root`` (``profile.yaml``), checked."""
    doc = load_yaml_file(root / "profile.yaml")
    profile = _validate(PlatformProfile, doc)
    for message, key_path in profile.problems():
        raise RulePackError(
            message, path=doc.path, line=doc.line_of(key_path), field=".".join(map(str, key_path))
        )
    return profile


def read_seller_actions(
    root: Path, profile: PlatformProfile, parameters: Mapping[str, Parameter]
) -> SellerActionsFile:
    """The pack's ``seller_actions.yaml`` (read once, by the hardened reader, and checked
    against its profile and parameters); an empty file or none declares only "do nothing"."""
    file = root / ACTIONS_FILE
    if not file.exists() and not file.is_symlink():
        return SellerActionsFile()
    doc = load_yaml_file(_inside_pack(root, file))
    if doc.data is None:
        return SellerActionsFile()
    return check_seller_actions(_validate(SellerActionsFile, doc), doc, profile, parameters)


def _version_ends(manifest: PackManifest) -> list[date | None]:
    versions = manifest.versions
    ends: list[date | None] = [later.effective_from - timedelta(days=1) for later in versions[1:]]
    ends.append(versions[-1].effective_to)
    return ends


def _check_boundary(
    day: date | None,
    boundaries: set[date],
    what: str,
    doc: YamlDocument,
    key_path: tuple[str | int, ...],
    rule_id: str | None = None,
) -> None:
    if day is not None and day not in boundaries:
        listed = ", ".join(sorted(str(boundary) for boundary in boundaries))
        raise RulePackError(
            f"{what} {day} is not a version boundary ({listed}); add a version there so no "
            "version straddles the change",
            path=doc.path,
            line=doc.line_of(key_path),
            rule_id=rule_id,
        )


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, default=str, ensure_ascii=False).encode()


def read_pack(name_or_path: str | Path) -> PackDefinition:
    """Load and check the family at ``name_or_path``; raise :class:`RulePackError` on any problem.

    Reads the manifest, profile, parameters, rules and seller actions once each; the tests and properties are
    left for :func:`read_tests` and :func:`read_properties`.
    """
    root = resolve_pack_path(name_or_path)
    manifest_file = root / "pack.yaml"
    parameters_file = root / "parameters.yaml"
    for required in (manifest_file, root / "profile.yaml", parameters_file):
        if not required.is_file():
            raise RulePackError(f"a rule pack needs {required.name}", path=str(required))
        _inside_pack(root, required)
    rule_files = _yaml_files(root / "rules")
    if not rule_files:
        raise RulePackError(
            "a rule pack needs at least one file in rules/", path=str(root / "rules")
        )

    manifest_doc = load_yaml_file(manifest_file)
    if isinstance(manifest_doc.data, dict) and "versions" not in manifest_doc.data:
        raise RulePackError(
            "pack.yaml lists the family's dated versions under 'versions:' "
            "(each with version, effective_from and title); see docs/rule-packs.md",
            path=manifest_doc.path,
            line=1,
            field="versions",
        )
    manifest = _validate(PackManifest, manifest_doc)
    profile = read_profile(root)
    if profile.platform != manifest.platform:
        raise RulePackError(
            f"pack.yaml is for platform {manifest.platform!r} but profile.yaml for "
            f"{profile.platform!r}",
            path=manifest_doc.path,
            line=manifest_doc.line_of(("platform",)),
            field="platform",
        )
    parameters_doc = load_yaml_file(parameters_file)
    parameters = _read_parameters(parameters_doc, manifest)
    ends = _version_ends(manifest)
    starts = {version.effective_from for version in manifest.versions}
    finishes = {end for end in ends if end is not None}
    for name, parameter in parameters.items():
        for position, change in enumerate(parameter.changes):
            _check_boundary(
                change.start,
                starts,
                f"parameter {name!r} changes on",
                parameters_doc,
                ("parameters", name, "changes", position),
            )

    specs: list[tuple[RuleSpec, YamlDocument, int]] = []
    for file in rule_files:
        doc = load_yaml_file(file)
        rules_file = _validate(RulesFile, doc)
        for index, spec in enumerate(rules_file.rules):
            where = ("rules", index, "in_force")
            for span in spec.in_force_spans:
                _check_boundary(span.start, starts, "in force from", doc, where, spec.id)
                _check_boundary(span.until, finishes, "in force until", doc, where, spec.id)
            _check_rule_references(spec, manifest, profile, parameters, doc, index)
            specs.append((spec, doc, index))

    shared = _SharedWork(
        base=_canonical(
            {
                "family": {k: v for k, v in manifest_doc.data.items() if k != "versions"},
                # A field added to the profile model after packs were hashed is left out
                # while unused, so the content hash of a pack that does not use it stays.
                "profile": profile.model_dump(
                    mode="json",
                    by_alias=True,
                    exclude=None if profile.also_serves else {"also_serves"},
                ),
            }
        )
    )
    versions = tuple(
        _read_version(version, end, manifest, profile, parameters, specs, root, shared)
        for version, end in zip(manifest.versions, ends, strict=True)
    )
    actions = read_seller_actions(root, profile, parameters)
    return PackDefinition(
        root=root, manifest=manifest, profile=profile, versions=versions, seller_actions=actions
    )


@dataclass
class _SharedWork:
    """Work the versions of one family share while it loads: rules checked under the same
    parameter values, and each rule's canonical form for the content hash."""

    base: bytes
    rules: dict[tuple[int, tuple[tuple[str, float], ...]], CheckedRule] = field(
        default_factory=dict
    )
    _rule_bytes: dict[int, bytes] = field(default_factory=dict)

    def rule_bytes(self, spec: RuleSpec) -> bytes:
        found = self._rule_bytes.get(id(spec))
        if found is None:
            found = self._rule_bytes[id(spec)] = _canonical(
                spec.model_dump(mode="json", by_alias=True)
            )
        return found


def _in_force(spec: RuleSpec, version: PackVersionSpec) -> bool:
    day = version.effective_from
    return any(
        (span.start is None or span.start <= day) and (span.until is None or day <= span.until)
        for span in spec.in_force_spans
    )


def _read_version(
    version: PackVersionSpec,
    end: date | None,
    manifest: PackManifest,
    profile: PlatformProfile,
    all_parameters: Mapping[str, Parameter],
    specs: list[tuple[RuleSpec, YamlDocument, int]],
    root: Path,
    shared: _SharedWork,
) -> VersionDefinition:
    parameters = {
        name: parameter.in_force_on(version.effective_from)
        for name, parameter in all_parameters.items()
    }
    values = tuple(sorted((name, parameter.value) for name, parameter in parameters.items()))
    rules: list[CheckedRule] = []
    seen_ids: dict[str, str] = {}
    seen_priorities: dict[tuple[str, int], str] = {}
    label = f"version {version.version}"
    for spec, doc, index in specs:
        if not _in_force(spec, version):
            continue
        line = doc.line_of(("rules", index))
        if spec.id in seen_ids:
            raise RulePackError(
                f"rule id already used in {seen_ids[spec.id]} ({label}); a rule that changes "
                "over time needs 'in_force' dates that do not overlap",
                path=doc.path,
                line=line,
                rule_id=spec.id,
            )
        seen_ids[spec.id] = f"{doc.path}:{line}"
        clash = seen_priorities.get((spec.phase, spec.priority))
        if clash is not None:
            raise RulePackError(
                f"priority {spec.priority} is already used by rule {clash!r} in phase "
                f"{spec.phase!r} ({label}); precedence must be explicit, so priorities are unique",
                field="priority",
                path=doc.path,
                line=line,
                rule_id=spec.id,
            )
        seen_priorities[(spec.phase, spec.priority)] = spec.id
        facts = (
            profile.decision_facts if spec.phase == "decision" else profile.consequence_fact_specs
        )
        # Versions whose parameters agree share the checked rule (conditions hold resolved values).
        key = (id(spec), values)
        checked = shared.rules.get(key)
        if checked is None:
            condition = _checked_condition(
                spec.when, facts, parameters, doc, ("rules", index, "when"), spec.id
            )
            checked = CheckedRule(spec=spec, condition=condition, path=doc.path, line=line)
            shared.rules[key] = checked
        rules.append(checked)
    if not any(rule.spec.then.decides and rule.spec.phase == "decision" for rule in rules):
        raise RulePackError(
            f"{label} has no deciding rule (one that sets stage and resolution)",
            path=str(root / "rules"),
        )
    # The hash covers what this version is, as parsed (the same single read the rules came from):
    # the family and profile, the version entry, its parameter values and its rules.
    digest = hashlib.sha256(shared.base)
    digest.update(_canonical(version.model_dump(mode="json")))
    digest.update(
        _canonical(
            {name: parameter.model_dump(mode="json") for name, parameter in parameters.items()}
        )
    )
    for rule in rules:
        digest.update(shared.rule_bytes(rule.spec))
    return VersionDefinition(
        spec=version,
        effective_to=end,
        manifest=manifest,
        profile=profile,
        parameters=parameters,
        rules=tuple(rules),
        content_hash=digest.hexdigest(),
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


def read_properties(definition: PackDefinition) -> tuple[CheckedProperty, ...]:
    """The family's declared properties (``properties.yaml``), each ``when`` checked per version."""
    file = definition.root / "properties.yaml"
    if not file.is_file():
        return ()
    _inside_pack(definition.root, file)
    doc = load_yaml_file(file)
    properties_file = _validate(PropertiesFile, doc)
    checked: list[CheckedProperty] = []
    seen: set[str] = set()
    facts = definition.profile.decision_facts
    known = [version.version for version in definition.versions]
    for index, spec in enumerate(properties_file.properties):
        line = doc.line_of(("properties", index))
        for name in spec.versions:
            if name not in known:
                raise RulePackError(
                    f"unknown version {name!r} (the family's: {', '.join(known)})",
                    path=doc.path,
                    line=doc.line_of(("properties", index, "versions")),
                    field="versions",
                )
        if spec.id in seen:
            raise RulePackError(f"property id {spec.id!r} is used twice", path=doc.path, line=line)
        seen.add(spec.id)
        conditions: dict[str, Condition | None] = {}
        for version in definition.versions:
            conditions[version.version] = (
                _checked_condition(
                    spec.when, facts, version.parameters, doc, ("properties", index, "when"), None
                )
                if spec.when is not None
                else None
            )
        checked.append(CheckedProperty(spec=spec, conditions=conditions, path=doc.path, line=line))
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
        _check_magnitude(name, parameter, doc, key_path)
        cited = [parameter.source, *(alt.source for alt in parameter.alternatives)]
        for source in cited:
            _check_source(source, manifest, doc, key_path)
        parameters[name] = parameter
    return parameters


# The largest value a parameter may have, by unit: a deadline of a century (so no deadline
# from a case's dates leaves Python's datetime range, and a business-day count stays short);
# any other number well inside the range the engine compares exactly (below 1e16).
_LARGEST = {"hours": 876_000.0, "days": 36_500.0, "business_days": 26_000.0}
_LARGEST_NUMBER = 1e12


def _check_magnitude(
    name: str, parameter: Parameter, doc: YamlDocument, key_path: tuple[str | int, ...]
) -> None:
    largest = _LARGEST.get(parameter.unit, _LARGEST_NUMBER)
    values: list[tuple[float, tuple[str | int, ...]]] = [(parameter.value, ("value",))]
    values += [
        (alt.value, ("alternatives", i, "value")) for i, alt in enumerate(parameter.alternatives)
    ]
    values += [
        (change.value, ("changes", i, "value")) for i, change in enumerate(parameter.changes)
    ]
    for value, where in values:
        if abs(value) > largest:
            raise RulePackError(
                f"{value:g} {parameter.unit} is out of range (at most {largest:g} either way)",
                path=doc.path,
                line=doc.line_of((*key_path, *where)),
                field=".".join(str(part) for part in (name, *where)),
            )


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
    profile: PlatformProfile,
    parameters: Mapping[str, Parameter],
    doc: YamlDocument,
    index: int,
) -> None:
    base: tuple[str | int, ...] = ("rules", index)
    for language in profile.defaults.languages:
        if getattr(spec.title, language) is None:
            raise RulePackError(
                f"the title needs a {language!r} text (the platform's languages: "
                f"{', '.join(profile.defaults.languages)})",
                path=doc.path,
                line=doc.line_of((*base, "title")),
                rule_id=spec.id,
                field="title",
            )
    _check_terms(spec, profile, doc, base)
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
        if unit not in _UNITS_FOR.get(role, (role,)):
            raise RulePackError(
                f"parameter {ref.param!r} is in {unit}; {role} needs "
                f"{' or '.join(_UNITS_FOR[role])}",
                **where,
            )

    for position, deadline in enumerate(effects.deadlines):
        check(deadline.after, "deadline", ("deadlines", position, "after"))
        if deadline.start not in profile.anchor_names:
            close = difflib.get_close_matches(deadline.start, list(profile.anchor_names), n=1)
            raise RulePackError(
                f"unknown anchor {deadline.start!r} (the profile's: "
                f"{', '.join(profile.anchor_names)})",
                path=doc.path,
                line=doc.line_of((*base, "then", "deadlines", position, "from")),
                rule_id=spec.id,
                hint=f"did you mean {close[0]!r}?" if close else None,
            )
    for name, ref in effects.metrics.items():
        metric = profile.metrics.get(name)
        if metric is None:
            close = difflib.get_close_matches(name, list(profile.metrics), n=1)
            raise RulePackError(
                f"unknown metric {name!r} (the profile's: {', '.join(profile.metrics) or 'none'})",
                path=doc.path,
                line=doc.line_of((*base, "then", "metrics", name)),
                rule_id=spec.id,
                hint=f"did you mean {close[0]!r}?" if close else None,
            )
        check(ref, "count" if metric.kind == "rate" else metric.unit, ("metrics", name))
    for position, compensation in enumerate(effects.compensation):
        check(compensation.amount, "compensation", ("compensation", position, "amount"))
    if effects.sanction is not None:
        threshold_unit = (
            parameters[effects.sanction.threshold.param].unit
            if effects.sanction.threshold.param in parameters
            else "points"
        )
        if threshold_unit not in ("points", "ratio", "count", "currency"):
            threshold_unit = "points"
        check(effects.sanction.threshold, threshold_unit, ("sanction", "threshold"))
    if effects.resolution is not None and isinstance(effects.resolution.refund, ParamRef):
        check(effects.resolution.refund, "refund", ("resolution", "refund"))


def read_tests(definition: PackDefinition) -> tuple[LoadedTest, ...]:
    """The family's pack tests (``tests/*.yaml``), each case checked against the profile."""
    root = definition.root
    known_versions = {version.version for version in definition.versions}
    context = {"profile": definition.profile}
    loaded: list[LoadedTest] = []
    names: set[str] = set()
    for file in _yaml_files(root / "tests", subfolders=True):
        doc = load_yaml_file(file)
        tests_file = _validate(TestsFile, doc)
        for index, spec in enumerate(tests_file.tests):
            line = doc.line_of(("tests", index))
            if spec.name in names:
                raise RulePackError(
                    f"test name {spec.name!r} is used twice", path=doc.path, line=line
                )
            names.add(spec.name)
            if spec.version is not None and spec.version not in known_versions:
                raise RulePackError(
                    f"unknown version {spec.version!r} (the family's: {', '.join(sorted(known_versions))})",
                    path=doc.path,
                    line=doc.line_of(("tests", index, "version")),
                    field="version",
                )
            data: Any = spec.case
            if spec.case_file is not None:
                case_path = (file.parent / spec.case_file).resolve()
                if not case_path.is_relative_to(root.resolve()) or not case_path.is_file():
                    raise RulePackError(
                        f"case_file {spec.case_file!r} must be a file inside the pack folder",
                        path=doc.path,
                        line=doc.line_of(("tests", index, "case_file")),
                        field="case_file",
                    )
                data = load_yaml_file(case_path).data
            try:
                case = Case.model_validate(data, context=context)
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


def _check_terms(
    spec: RuleSpec, profile: PlatformProfile, doc: YamlDocument, base: tuple[str | int, ...]
) -> None:
    """The parties a rule names exist on the platform."""
    parties = profile.terms("parties")
    named: list[tuple[str, tuple[str | int, ...]]] = []
    if spec.then.resolution is not None:
        named.append((spec.then.resolution.decided_by, ("resolution", "decided_by")))
    named += [
        (deadline.party, ("deadlines", position, "party"))
        for position, deadline in enumerate(spec.then.deadlines)
    ]
    for party, key_path in named:
        if party not in parties:
            close = difflib.get_close_matches(party, list(parties), n=1)
            raise RulePackError(
                f"unknown party {party!r} (the platform's: {', '.join(parties)})",
                path=doc.path,
                line=doc.line_of((*base, "then", *key_path)),
                rule_id=spec.id,
                field=".".join(map(str, key_path)),
                hint=f"did you mean {close[0]!r}?" if close else None,
            )
