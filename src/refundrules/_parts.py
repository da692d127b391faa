"""Shared parts: rules, parameters and sources written once and included by several families.

A part lives in ``rules/_shared/NAME/`` (``part.yaml``, ``parameters.yaml``, ``rules/*.yaml``),
beside the including pack's folder or among the bundled packs. A family names it in
``pack.yaml``::

    includes:
      - part: china_law
        priority: 38            # the part's rule priorities are added to this base
        extend:                 # pack-specific consequences merged into a part rule's `then`
          - {rule: cn_seven_day_return_refusal_overruled, then: {metrics: {...}}}
        overrides: []           # part parameters this pack's parameters.yaml replaces

Including a part is the same as having written its rules, parameters and sources in the pack:
they are checked against the pack's profile and hashed with the pack. Every conflict (a
missing part, an unknown rule in ``extend``, a rule, parameter or source id both sides define)
is a :class:`RulePackError` at the line of ``pack.yaml`` (or the pack file) to change.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from refundrules._installed import bundled_root
from refundrules._pack_files import (
    check_source,
    inside_pack,
    read_parameters,
    validate_model,
    yaml_files,
)
from refundrules._pack_model import (
    Effects,
    InForce,
    PackManifest,
    Parameter,
    PartInclude,
    PartManifest,
    RuleExtension,
    RulesFile,
    RuleSpec,
    SourceEntry,
)
from refundrules._yaml import KeyPath, YamlDocument, load_yaml_file
from refundrules.exceptions import RulePackError

__all__ = [
    "PARTS_FOLDER",
    "IncludedParts",
    "ReadParts",
    "SharedPart",
    "find_part",
    "include_parts",
    "read_includes",
    "read_part",
]

PARTS_FOLDER = "_shared"
"""The folder (beside the packs) that holds shared parts; it is not a pack."""

# A rule as read from a file: the spec, the document it came from and its index in `rules:`.
PlacedRule = tuple[RuleSpec, YamlDocument, int]
# Checks a rule's references (sources, parties, anchors and these parameters) against the family.
RuleCheck = Callable[[RuleSpec, YamlDocument, int, Mapping[str, Parameter]], None]


@dataclass(frozen=True)
class SharedPart:
    """A part as read from its folder, checked on its own (its sources and rule shapes)."""

    root: Path
    manifest: PartManifest
    raw: Any  # part.yaml as parsed, for the including family's content hash
    parameters: Mapping[str, Parameter]
    parameters_doc: YamlDocument | None
    rules: tuple[PlacedRule, ...]


@dataclass(frozen=True)
class IncludedParts:
    """What a family's includes add: the merged parameters, the part rules placed
    at the family's priorities (and extended), and the parts' data for the content hash."""

    parameters: Mapping[str, Parameter]
    rules: tuple[PlacedRule, ...]
    fingerprint: tuple[Any, ...]


def find_part(name: str, pack_root: Path) -> Path | None:
    """The folder of part ``name``: ``_shared/NAME`` beside the pack's folder, else bundled."""
    candidates = [pack_root.parent / PARTS_FOLDER / name]
    bundled = bundled_root()
    if bundled is not None:
        candidates.append(bundled / PARTS_FOLDER / name)
    return next((folder for folder in candidates if (folder / "part.yaml").is_file()), None)


def _known_parts(pack_root: Path) -> list[str]:
    folders = [pack_root.parent / PARTS_FOLDER]
    bundled = bundled_root()
    if bundled is not None:
        folders.append(bundled / PARTS_FOLDER)
    return sorted(
        {
            child.name
            for folder in folders
            if folder.is_dir()
            for child in folder.iterdir()
            if (child / "part.yaml").is_file()
        }
    )


def read_part(root: Path) -> SharedPart:
    """Read and check the part at ``root``: ``part.yaml``, ``parameters.yaml`` (optional) and
    at least one ``rules/*.yaml``; every source a rule or parameter cites is the part's."""
    manifest_file = inside_pack(root, root / "part.yaml")
    doc = load_yaml_file(manifest_file)
    manifest = validate_model(PartManifest, doc)
    if manifest.id != root.name:
        raise RulePackError(
            f"the part's id {manifest.id!r} differs from its folder's name {root.name!r}",
            path=doc.path,
            line=doc.line_of(("id",)),
            field="id",
        )
    for index, version in enumerate(manifest.versions):
        for position, key in enumerate(version.sources):
            check_source(key, manifest.sources, doc, ("versions", index, "sources", position))
    parameters: dict[str, Parameter] = {}
    parameters_doc = None
    parameters_file = root / "parameters.yaml"
    if parameters_file.exists() or parameters_file.is_symlink():
        parameters_doc = load_yaml_file(inside_pack(root, parameters_file))
        parameters = read_parameters(parameters_doc, manifest.sources)
    files = yaml_files(root / "rules", root)
    if not files:
        raise RulePackError("a part needs at least one file in rules/", path=str(root / "rules"))
    rules: list[PlacedRule] = []
    seen: dict[str, str] = {}
    for file in files:
        rules_doc = load_yaml_file(file)
        for index, spec in enumerate(validate_model(RulesFile, rules_doc).rules):
            line = rules_doc.line_of(("rules", index))
            if spec.id in seen:
                raise RulePackError(
                    f"rule id already used in {seen[spec.id]}",
                    path=rules_doc.path,
                    line=line,
                    rule_id=spec.id,
                    field="id",
                )
            seen[spec.id] = f"{rules_doc.path}:{line}"
            for position, key in enumerate(spec.sources):
                check_source(
                    key, manifest.sources, rules_doc, ("rules", index, "sources", position), spec.id
                )
            rules.append((spec, rules_doc, index))
    return SharedPart(
        root=root,
        manifest=manifest,
        raw=doc.data,
        parameters=parameters,
        parameters_doc=parameters_doc,
        rules=tuple(rules),
    )


@dataclass(frozen=True)
class ReadParts:
    """The parts a family includes, read, with the sources they bring merged into the
    family's (read first: the family's parameters and rules may cite the parts' sources)."""

    parts: tuple[tuple[PartInclude, SharedPart], ...]
    sources: Mapping[str, SourceEntry]


def read_includes(manifest: PackManifest, manifest_doc: YamlDocument, root: Path) -> ReadParts:
    """Read the parts ``manifest`` includes (the family at ``root``) and merge their sources."""
    sources: dict[str, SourceEntry] = dict(manifest.sources)
    given_by: dict[str, str] = {}
    parts: list[tuple[PartInclude, SharedPart]] = []
    for position, include in enumerate(manifest.includes):
        at: KeyPath = ("includes", position)
        if include.part in (earlier.part for earlier, _ in parts):
            raise _error(f"part {include.part!r} is included twice", manifest_doc, (*at, "part"))
        folder = find_part(include.part, root)
        if folder is None:
            known = _known_parts(root)
            close = difflib.get_close_matches(include.part, known, n=1)
            raise _error(
                f"no shared part named {include.part!r} (known: {', '.join(known) or 'none'})",
                manifest_doc,
                (*at, "part"),
                hint=f"did you mean {close[0]!r}?"
                if close
                else f"add {PARTS_FOLDER}/{include.part}/part.yaml beside the pack",
            )
        part = read_part(folder)
        _merge_sources(part, include, sources, manifest_doc, given_by, at)
        parts.append((include, part))
    return ReadParts(parts=tuple(parts), sources=sources)


def include_parts(
    read: ReadParts,
    manifest_doc: YamlDocument,
    parameters: Mapping[str, Parameter],
    parameters_doc: YamlDocument,
    pack_rules: Sequence[PlacedRule],
    version_starts: set[date],
    check_rule: RuleCheck,
) -> IncludedParts:
    """Merge the parts of ``read`` into the family: parameters, then rules placed at the
    family's priorities and extended.

    ``check_rule`` checks an extension's references (its parameters, anchors, parties and
    sources) against the merged family, so an error names the ``extend`` line in ``pack.yaml``.
    """
    merged: dict[str, Parameter] = dict(parameters)
    placed: list[PlacedRule] = []
    fingerprint: list[Any] = []
    pack_ids = {spec.id: (doc, index) for spec, doc, index in pack_rules}
    first_day = min(version_starts)
    given_by: dict[str, str] = {}  # parameter name -> the part that gives it
    for position, (include, part) in enumerate(read.parts):
        at: KeyPath = ("includes", position)
        _merge_parameters(part, include, merged, parameters_doc, manifest_doc, at, given_by)
        for name, parameter in part.parameters.items():
            for change in parameter.changes:
                if change.start > first_day and change.start not in version_starts:
                    raise _error(
                        f"part parameter {name!r} changes on {change.start}, which is not a "
                        "version boundary of this family; add a version starting that day",
                        manifest_doc,
                        (*at, "part"),
                    )
        extensions = _extensions(part, include, manifest_doc, at)
        for spec, doc, index in part.rules:
            if spec.id in pack_ids:
                pack_doc, pack_index = pack_ids[spec.id]
                raise RulePackError(
                    f"rule id is also a rule of the included part {include.part!r} "
                    f"({doc.path}:{doc.line_of(('rules', index))}); rename the pack's rule, or "
                    "extend the part's rule instead",
                    path=pack_doc.path,
                    line=pack_doc.line_of(("rules", pack_index, "id")),
                    rule_id=spec.id,
                    field="id",
                )
            if spec.id in {other.id for other, _, _ in placed}:
                raise _error(
                    f"rule {spec.id!r} of part {include.part!r} is also a rule of another "
                    "included part",
                    manifest_doc,
                    (*at, "part"),
                )
            rule = _placed(spec, include, first_day, version_starts, manifest_doc, at)
            if rule is None:
                continue
            _check_priority(rule, pack_rules, manifest_doc, at)
            found = extensions.get(spec.id)
            if found is not None:
                rule = _extended(
                    rule,
                    found,
                    manifest_doc,
                    lambda probe, doc, index: check_rule(probe, doc, index, merged),
                )
            placed.append((rule, doc, index))
        fingerprint.append({"part": include.part, "manifest": part.raw})
    return IncludedParts(parameters=merged, rules=tuple(placed), fingerprint=tuple(fingerprint))


def _error(message: str, doc: YamlDocument, key_path: KeyPath, **extra: Any) -> RulePackError:
    return RulePackError(
        message,
        path=doc.path,
        line=doc.line_of(key_path),
        field=".".join(map(str, key_path)),
        **extra,
    )


def _merge_sources(
    part: SharedPart,
    include: PartInclude,
    sources: dict[str, SourceEntry],
    manifest_doc: YamlDocument,
    given_by: dict[str, str],
    at: KeyPath,
) -> None:
    for key, entry in part.manifest.sources.items():
        if key in given_by:
            raise _error(
                f"source {key!r} of part {include.part!r} is also a source of part "
                f"{given_by[key]!r}",
                manifest_doc,
                (*at, "part"),
            )
        if key in sources:
            raise _error(
                f"source {key!r} is also given by the included part {include.part!r}",
                manifest_doc,
                ("sources", key),
                hint="delete the pack's copy; its rules cite the part's",
            )
        sources[key] = entry
        given_by[key] = include.part


def _merge_parameters(
    part: SharedPart,
    include: PartInclude,
    merged: dict[str, Parameter],
    parameters_doc: YamlDocument,
    manifest_doc: YamlDocument,
    at: KeyPath,
    given_by: dict[str, str],
) -> None:
    for position, name in enumerate(include.overrides):
        where: KeyPath = (*at, "overrides", position)
        if name not in part.parameters:
            close = difflib.get_close_matches(name, list(part.parameters), n=1)
            raise _error(
                f"part {include.part!r} has no parameter {name!r} to override "
                f"(its: {', '.join(part.parameters) or 'none'})",
                manifest_doc,
                where,
                hint=f"did you mean {close[0]!r}?" if close else None,
            )
        if name not in merged:
            raise _error(
                f"overrides {name!r}, but parameters.yaml does not define it",
                manifest_doc,
                where,
                hint=f"add {name} to parameters.yaml, or drop it from overrides",
            )
    for name, parameter in part.parameters.items():
        if name in given_by:
            raise _error(
                f"parameter {name!r} of part {include.part!r} is also a parameter of part "
                f"{given_by[name]!r}",
                manifest_doc,
                (*at, "part"),
            )
        given_by[name] = include.part
        if name in include.overrides:
            continue  # the family's own value stands, as pack.yaml says
        if name in merged:
            raise RulePackError(
                f"parameter is also given by the included part {include.part!r}",
                path=parameters_doc.path,
                line=parameters_doc.line_of(("parameters", name)),
                field=name,
                hint="delete it here to use the part's, or list it under the include's "
                "'overrides' to replace the part's value",
            )
        merged[name] = parameter


def _extensions(
    part: SharedPart, include: PartInclude, manifest_doc: YamlDocument, at: KeyPath
) -> dict[str, tuple[RuleExtension, KeyPath]]:
    ids = [spec.id for spec, _, _ in part.rules]
    found: dict[str, tuple[RuleExtension, KeyPath]] = {}
    for position, extension in enumerate(include.extend):
        where: KeyPath = (*at, "extend", position)
        if extension.rule not in ids:
            close = difflib.get_close_matches(extension.rule, ids, n=1)
            raise _error(
                f"part {include.part!r} has no rule {extension.rule!r} (its: {', '.join(ids)})",
                manifest_doc,
                (*where, "rule"),
                hint=f"did you mean {close[0]!r}?" if close else None,
            )
        if extension.rule in found:
            raise _error(
                f"rule {extension.rule!r} is extended twice; put both in one entry",
                manifest_doc,
                (*where, "rule"),
            )
        found[extension.rule] = (extension, where)
    return found


def _placed(
    spec: RuleSpec,
    include: PartInclude,
    first_day: date,
    version_starts: set[date],
    manifest_doc: YamlDocument,
    at: KeyPath,
) -> RuleSpec | None:
    """The part rule at the family's priority, its dates fitted to the family's versions: a
    start on or before the family's first version is no start (in force throughout); a rule
    that ended before the family's first version is left out (``None``)."""
    priority = include.priority + spec.priority
    if priority > 65535:
        raise _error(
            f"part rule {spec.id!r} would take priority {priority} (base {include.priority} + "
            f"{spec.priority}), above the largest, 65535",
            manifest_doc,
            (*at, "priority"),
        )
    spans: list[InForce] = []
    for span in spec.in_force_spans:
        start = span.start
        if start is not None and start <= first_day:
            start = None
        elif start is not None and start not in version_starts:
            raise _error(
                f"part rule {spec.id!r} is in force from {start}, which is not a version boundary "
                "of this family; add a version starting that day",
                manifest_doc,
                (*at, "part"),
            )
        if span.until is not None and span.until < first_day:
            continue  # ended before the family's first version
        spans.append(InForce.model_validate({"from": start, "until": span.until}))
    if not spans:
        return None
    whole = spans == [InForce()]
    in_force = None if whole else spans[0] if len(spans) == 1 else tuple(spans)
    return spec.model_copy(update={"priority": priority, "in_force": in_force})


def _overlap(one: RuleSpec, other: RuleSpec) -> bool:
    return any(
        (a.start is None or b.until is None or a.start <= b.until)
        and (b.start is None or a.until is None or b.start <= a.until)
        for a in one.in_force_spans
        for b in other.in_force_spans
    )


def _check_priority(
    rule: RuleSpec, pack_rules: Sequence[PlacedRule], manifest_doc: YamlDocument, at: KeyPath
) -> None:
    for other, doc, index in pack_rules:
        if (other.phase, other.priority) == (rule.phase, rule.priority) and _overlap(rule, other):
            raise _error(
                f"part rule {rule.id!r} takes priority {rule.priority}, already used by the "
                f"pack's rule {other.id!r} ({doc.path}:{doc.line_of(('rules', index))}); "
                "choose another base priority",
                manifest_doc,
                (*at, "priority"),
            )


def _extended(
    spec: RuleSpec,
    found: tuple[RuleExtension, KeyPath],
    manifest_doc: YamlDocument,
    check_rule: Callable[[RuleSpec, YamlDocument, int], None],
) -> RuleSpec:
    """``spec`` with the extension's consequences merged into its ``then``."""
    extension, where = found
    then = spec.then
    for name in extension.then.metrics:
        if name in then.metrics:
            raise _error(
                f"the part's rule already adds to metric {name!r}; extend adds, it does not "
                "replace",
                manifest_doc,
                (*where, "then", "metrics", name),
                rule_id=spec.id,
            )
    taken = {deadline.id for deadline in then.deadlines}
    for position, deadline in enumerate(extension.then.deadlines):
        if deadline.id in taken:
            raise _error(
                f"the part's rule already starts deadline {deadline.id!r}",
                manifest_doc,
                (*where, "then", "deadlines", position, "id"),
                rule_id=spec.id,
            )
    for position, key in enumerate(extension.sources):
        if key in spec.sources:
            raise _error(
                f"the part's rule already cites {key!r}",
                manifest_doc,
                (*where, "sources", position),
                rule_id=spec.id,
            )
    try:
        effects = Effects.model_validate(
            {
                **dict(then),
                "deadlines": (*then.deadlines, *extension.then.deadlines),
                "metrics": {**then.metrics, **extension.then.metrics},
                "recommend": (*then.recommend, *extension.then.recommend),
                "buyer_signals": (*then.buyer_signals, *extension.then.buyer_signals),
            }
        )
    except ValidationError as exc:
        message = exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
        raise _error(message, manifest_doc, (*where, "then"), rule_id=spec.id) from exc
    merged = spec.model_copy(
        update={"then": effects, "sources": (*spec.sources, *extension.sources)}
    )
    # The extension's own references, checked where pack.yaml writes them.
    probe = spec.model_copy(
        update={
            "then": Effects.model_validate(
                {**dict(extension.then), "stage": then.stage, "resolution": then.resolution}
            ),
            "sources": extension.sources or spec.sources,
        }
    )
    check_rule(probe, _as_rule_document(manifest_doc, where), 0)
    return merged


def _as_rule_document(doc: YamlDocument, where: KeyPath) -> YamlDocument:
    """``doc`` with the lines under ``where`` (an ``extend`` entry) filed as those of rule 0 of a
    rules file, so a rule check reports pack.yaml's own lines."""
    depth = len(where)
    lines = {
        ("rules", 0, *key[depth:]): line
        for key, line in doc.lines.items()
        if tuple(key[:depth]) == tuple(where)
    }
    return YamlDocument(path=doc.path, data=None, lines=lines)
