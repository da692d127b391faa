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

import difflib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from refundrules._case import Case, PlatformRules
from refundrules._registry import installed_profiles
from refundrules._yaml import describe_yaml_error
from refundrules.exceptions import CaseError

__all__ = ["load_case"]


def _installed_profile(data: Mapping[str, Any], source: str | None) -> PlatformRules | None:
    platform = data.get("platform")
    if not isinstance(platform, str):
        return None  # the case model names the missing or mistyped field
    installed = installed_profiles()
    if platform in installed:
        return installed[platform]
    names = ", ".join(sorted(installed)) or "none"
    close = difflib.get_close_matches(platform, list(installed), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise CaseError(
        [
            (
                "platform",
                f"no installed rule pack is for platform {platform!r}{hint}; installed: {names}",
            )
        ],
        source=source,
    )


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
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise CaseError([("", f"cannot read case file: {reason}")], source=where) from exc
        try:
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except json.JSONDecodeError as exc:
            raise CaseError(
                [("", f"malformed JSON: {exc.msg}")], source=f"{where}:{exc.lineno}"
            ) from exc
        except yaml.YAMLError as exc:
            problem, line = describe_yaml_error(exc, text, yaml.SafeLoader)
            at = where if line is None else f"{where}:{line}"
            raise CaseError([("", f"malformed YAML: {problem}")], source=at) from exc
        if not isinstance(data, dict):
            raise CaseError([("", "a case file must hold a mapping")], source=where)
    rules = profile if profile is not None else _installed_profile(data, where)
    context = {"profile": rules} if rules is not None else None
    try:
        return Case.model_validate(data, context=context)
    except CaseError as exc:
        if where is None:
            raise
        raise CaseError(exc.errors, source=where) from exc
