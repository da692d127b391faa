"""Reading a rule pack's files safely: the YAML files of a folder, each validated into its
model with file, line and field on any problem, and the parameters file.

Shared by the pack loader and the shared-part reader (``_parts``), so a part's files are read and
checked exactly as a pack's are.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from refundrules._pack_model import Parameter, SourceEntry
from refundrules._yaml import YamlDocument
from refundrules.exceptions import RulePackError

__all__ = [
    "check_source",
    "inside_pack",
    "read_parameters",
    "validate_model",
    "yaml_files",
]

_Model = TypeVar("_Model", bound=BaseModel)


def validate_model(model: type[_Model], doc: YamlDocument) -> _Model:
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


def inside_pack(root: Path, file: Path) -> Path:
    """``file``, after checking that it lies inside the pack folder ``root`` once symlinks are
    resolved: a pack reads only its own files."""
    if not file.resolve().is_relative_to(root.resolve()):
        raise RulePackError(
            f"{file.name} links outside the pack folder (to {file.resolve()})",
            path=str(file),
            hint="copy the file into the pack instead of linking to it",
        )
    return file


def yaml_files(folder: Path, root: Path | None = None, *, subfolders: bool = False) -> list[Path]:
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
    inside_pack(root, folder)
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
        inside_pack(root, entry)
        if not entry.is_file():
            raise RulePackError(f"{entry.name} is not a regular file", path=str(entry))
        found.append(entry)
    return found


def read_parameters(doc: YamlDocument, sources: Mapping[str, SourceEntry]) -> dict[str, Parameter]:
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
            check_source(source, sources, doc, key_path)
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


def check_source(
    key: str,
    sources: Mapping[str, SourceEntry],
    doc: YamlDocument,
    key_path: tuple[str | int, ...],
    rule_id: str | None = None,
) -> None:
    if key not in sources:
        close = difflib.get_close_matches(key, list(sources), n=1)
        raise RulePackError(
            f"source {key!r} is not in pack.yaml's sources",
            path=doc.path,
            line=doc.line_of(key_path),
            rule_id=rule_id,
            hint=f"did you mean {close[0]!r}?" if close else None,
        )
