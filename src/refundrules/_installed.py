"""Where installed rule packs come from: bundled with the library, or installed by another
distribution through an entry point.

A third-party pack is a pip-installable distribution that declares, in its
``pyproject.toml``::

    [project.entry-points."refundrules.packs"]
    shopee = "acme_refund_packs.shopee"   # an importable package whose folder holds pack.yaml

The entry point's name is the pack's name (``load_rule_pack("shopee")``). A bundled pack of
the same name wins, so installing a distribution never changes what a bundled name means.

A name and a path are told apart by their spelling, never by what happens to be on disk: a
text with a path separator, or starting with ``.`` or ``~``, is a folder (``./shopee``,
``rules/pinduoduo``); anything else is an installed pack's name, so a folder called
``pinduoduo`` in the working directory never shadows the installed pack.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Literal

from refundrules.exceptions import RulePackError

__all__ = [
    "ENTRY_POINT_GROUP",
    "InstalledPack",
    "bundled_root",
    "installed_pack",
    "installed_packs",
    "looks_like_path",
]

ENTRY_POINT_GROUP = "refundrules.packs"


def bundled_root() -> Path | None:
    """The folder of the packs shipped with the library (the repository's rules/ in a checkout)."""
    installed = resources.files("refundrules") / "rules"
    if installed.is_dir():
        return Path(str(installed))
    # An editable install or a source checkout: the packs live in the repository's rules/.
    checkout = Path(__file__).resolve().parents[2] / "rules"
    return checkout if checkout.is_dir() else None


def looks_like_path(text: str) -> bool:
    """Whether a pack argument names a folder (has a separator, or starts with ``.`` or ``~``,
    the home folder: ``~`` and ``~/packs/x`` are paths, expanded where they are read)."""
    separators = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    return any(separator in text for separator in separators) or text.startswith((".", "~"))


@dataclass(frozen=True)
class InstalledPack:
    """One installed pack: its name, where it comes from (``bundled`` or ``entry point``), the
    distribution that installed it (name and version) and the package its entry point names."""

    name: str
    origin: Literal["bundled", "entry point"]
    distribution: str | None = None
    target: str | None = None
    bundled_folder: Path | None = None

    @property
    def source(self) -> str:
        """Where it comes from, for people: ``bundled`` or ``DIST VERSION (entry point NAME =
        PACKAGE)``."""
        if self.origin == "bundled":
            return "bundled"
        return f"{self.distribution} (entry point {self.name} = {self.target})"

    def root(self) -> Path:
        """The pack's folder; a :class:`RulePackError` if an entry point does not lead to one."""
        if self.bundled_folder is not None:
            return self.bundled_folder
        target = self.target or ""
        where = f"entry point {self.name!r} of {self.distribution} (group {ENTRY_POINT_GROUP})"
        try:
            folder = resources.files(target)
        except (ImportError, TypeError, ValueError) as exc:
            raise RulePackError(
                f"{where} names {target!r}, which cannot be imported: {exc}",
                path=target,
                hint="the value must be an importable package whose folder holds pack.yaml",
            ) from exc
        root = Path(str(folder))
        if not (root / "pack.yaml").is_file():
            raise RulePackError(
                f"{where} names {target!r}, whose folder {root} has no pack.yaml",
                path=str(root),
            )
        return root


def _bundled() -> list[InstalledPack]:
    root = bundled_root()
    if root is None:
        return []
    return [
        InstalledPack(name=child.name, origin="bundled", bundled_folder=child)
        for child in sorted(root.iterdir())
        if (child / "pack.yaml").is_file()
    ]


def _from_entry_points() -> list[InstalledPack]:
    found = []
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = entry.dist
        label = f"{dist.metadata['Name']} {dist.version}" if dist is not None else "unknown"
        found.append(
            InstalledPack(
                name=entry.name, origin="entry point", distribution=label, target=entry.value
            )
        )
    return sorted(found, key=lambda pack: (pack.name, pack.distribution or ""))


def installed_packs() -> dict[str, InstalledPack]:
    """Every installed pack by name: the bundled ones, then those of entry points (a name
    already taken is kept by the first: bundled, then the alphabetically first distribution)."""
    packs: dict[str, InstalledPack] = {}
    for pack in [*_bundled(), *_from_entry_points()]:
        packs.setdefault(pack.name, pack)
    return packs


def installed_pack(name: str) -> InstalledPack | None:
    return installed_packs().get(name)
