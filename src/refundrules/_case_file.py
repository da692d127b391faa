"""Load a case from a file or a mapping and check it against its platform's profile.

``Case.model_validate`` checks a case's shape, times, amounts and logistics. Whether its
events, parties and reasons exist on its platform is the platform profile's to say: this
module finds that profile (the one given, or the installed pack's for the case's platform)
and validates the case against it.

>>> case = load_case("examples/01_awaiting_seller.yaml")  # doctest: +SKIP
>>> case.platform, case.currency  # doctest: +SKIP
('pinduoduo', 'CNY')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from refundrules._case import Case, PlatformRules
from refundrules._registry import profile_for_platform
from refundrules._yaml import load_yaml_document, read_text
from refundrules.exceptions import CaseError, RulePackError

__all__ = ["load_case"]


def _installed_profile(data: Mapping[str, Any], source: str | None) -> PlatformRules | None:
    platform = data.get("platform")
    if not isinstance(platform, str):
        return None  # the case model names the missing or mistyped field
    try:
        return profile_for_platform(platform)
    except CaseError as exc:
        raise CaseError(exc.errors, source=source) from exc


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise _DuplicateKeyError(key)
        data[key] = value
    return data


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"duplicate key {key!r}")


def _read_case_file(path: Path, where: str) -> dict[str, Any]:
    """The mapping in a JSON or YAML case file, read once under the pack files' limits: a
    regular file of bounded size, YAML without duplicate keys, aliases bombs or deep nesting
    (the same reader as pack files), JSON without duplicate keys."""
    try:
        text = read_text(path)
    except OSError as exc:
        raise CaseError(
            [("", f"cannot read case file: {exc.strerror or exc}")], source=where
        ) from exc
    except UnicodeDecodeError as exc:
        raise CaseError([("", "cannot read case file: not UTF-8 text")], source=where) from exc
    data: Any
    if path.suffix == ".json":
        try:
            data = json.loads(text, object_pairs_hook=_refuse_duplicates)
        except json.JSONDecodeError as exc:
            raise CaseError(
                [("", f"malformed JSON: {exc.msg}")], source=f"{where}:{exc.lineno}"
            ) from exc
        except _DuplicateKeyError as exc:
            raise CaseError([("", f"malformed JSON: {exc}")], source=where) from exc
        except (ValueError, RecursionError) as exc:  # past the integer-digit limit, too deep
            raise CaseError([("", f"malformed JSON: {str(exc)[:200]}")], source=where) from exc
    else:
        try:
            data = load_yaml_document(text, where).data
        except RulePackError as exc:
            at = where if exc.line is None else f"{where}:{exc.line}"
            problem = exc.message + (f" ({exc.hint})" if exc.hint else "")
            raise CaseError([("", problem)], source=at) from exc
    if not isinstance(data, dict):
        raise CaseError([("", "a case file must hold a mapping")], source=where)
    return data


def load_case(
    source: str | Path | Mapping[str, Any], *, profile: PlatformRules | None = None
) -> Case:
    """Load a case from a JSON/YAML file path or a mapping; errors raise :class:`CaseError`.

    The case is checked against ``profile`` if given (a pack that is not installed passes its
    own: ``pack.load_case(path)``), else against the installed pack for its platform; a
    platform with no installed pack is refused with the list of installed ones.
    """
    where: str | None = None
    if isinstance(source, Mapping):
        data: Any = dict(source)
    else:
        path = Path(source)
        where = str(path)
        data = _read_case_file(path, where)
    rules = profile if profile is not None else _installed_profile(data, where)
    context = {"profile": rules} if rules is not None else None
    try:
        return Case.model_validate(data, context=context)
    except CaseError as exc:
        if where is None:
            raise
        raise CaseError(exc.errors, source=where) from exc
