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
from typing import Any

from pydantic import ValidationError

from refundrules._case import Case, case_error_from
from refundrules._conditions import Condition, ConditionProblem, check_condition
from refundrules._facts import FactSpec
from refundrules._installed import installed_pack, installed_packs, looks_like_path
from refundrules._pack_files import check_source as _check_source_in
from refundrules._pack_files import inside_pack as _inside_pack
from refundrules._pack_files import read_parameters
from refundrules._pack_files import validate_model as _validate
from refundrules._pack_files import yaml_files as _yaml_files
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
from refundrules._parts import include_parts, read_includes
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
    # Shared parts first: the family's parameters and rules may cite the sources they bring.
    parts = read_includes(manifest, manifest_doc, root)
    if manifest.includes:
        manifest = manifest.model_copy(update={"sources": dict(parts.sources)})
    parameters_doc = load_yaml_file(parameters_file)
    parameters = read_parameters(parameters_doc, manifest.sources)
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
            specs.append((spec, doc, index))

    def check(
        spec: RuleSpec, doc: YamlDocument, index: int, known: Mapping[str, Parameter]
    ) -> None:
        _check_rule_references(spec, manifest, profile, known, doc, index)

    included = include_parts(parts, manifest_doc, parameters, parameters_doc, specs, starts, check)
    parameters = dict(included.parameters)
    specs += included.rules
    for spec, doc, index in specs:
        check(spec, doc, index, parameters)

    base: dict[str, Any] = {
        "family": {k: v for k, v in manifest_doc.data.items() if k != "versions"},
        # A field added to the profile model after packs were hashed is left out while
        # unused, so the content hash of a pack that does not use it stays.
        "profile": profile.model_dump(
            mode="json",
            by_alias=True,
            exclude=None if profile.also_serves else {"also_serves"},
        ),
    }
    if included.fingerprint:  # a family without parts keeps the hash it always had
        base["parts"] = included.fingerprint
    # What-if offers these actions, so editing them changes the hash (caches and reloads see it);
    # a family that declares none (no file, or an empty one) keeps the hash it always had.
    actions = read_seller_actions(root, profile, parameters)
    if actions != SellerActionsFile():
        base["seller_actions"] = actions.model_dump(mode="json", by_alias=True)
    shared = _SharedWork(base=_canonical(base))
    versions = tuple(
        _read_version(version, end, manifest, profile, parameters, specs, root, shared)
        for version, end in zip(manifest.versions, ends, strict=True)
    )
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
    # the family, profile and seller actions, the version entry, its parameter values and its rules.
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
        _check_source_in(source, manifest.sources, doc, (*base, "sources", position), spec.id)
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
