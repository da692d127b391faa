"""The installed rule packs and their platform profiles.

Installed packs are the ones bundled with the library (``rules/`` in the wheel or the
checkout) and those other distributions install through the ``refundrules.packs`` entry point
(:mod:`refundrules._installed`). A case names its platform; :func:`installed_profiles` is how the case model finds
that platform's profile to check the case against, and :func:`pack_for_platform` is the pack
that predicts it when none is named.

A pack serves its profile's platform and every platform its profile lists under
``also_serves`` (the Taobao family serves Tmall cases). A bundled pack's profile always serves
its platforms: an entry-point pack declaring one of them does not replace it (name that pack,
e.g. ``predict --pack NAME``, to check a case against its profile). Two packs of the same
origin (both bundled, or both from entry points) claiming one platform leave it to neither:
looking that platform up is a :class:`RulePackError` naming both. An entry-point pack whose
profile cannot be read is left out, logged (logger ``refundrules``) and listed by
:func:`profile_problems`, so one broken distribution does not stop the cases of every other
platform from loading.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping
from functools import cache

from refundrules._installed import installed_packs
from refundrules._loader import read_profile
from refundrules._profile import PlatformProfile
from refundrules.exceptions import CaseError, RulePackError

__all__ = [
    "LOGGER",
    "InstalledProfiles",
    "installed_profiles",
    "pack_for_platform",
    "profile_for_platform",
    "profile_problems",
]

LOGGER = "refundrules"


class InstalledProfiles(dict[str, PlatformProfile]):
    """Profiles by platform served. ``owners`` names the pack serving each platform;
    ``problems`` names each installed pack whose profile is not used for some platform, with
    why (it cannot be read, or the platform is a bundled pack's); ``conflicts`` lists, by
    platform, the packs of one origin that claim it alike (no pack serves it then)."""

    def __init__(self) -> None:
        super().__init__()
        self.owners: dict[str, str] = {}
        self.problems: dict[str, str] = {}
        self.conflicts: dict[str, tuple[str, ...]] = {}


@cache
def installed_profiles() -> InstalledProfiles:
    """The profile of every installed pack, by platform served (read once per process)."""
    found = InstalledProfiles()
    origins: dict[str, str] = {}
    log = logging.getLogger(LOGGER)
    # installed_packs() lists the bundled packs first, so their platforms are taken first.
    for name, pack in installed_packs().items():
        try:
            profile = read_profile(pack.root())
        except RulePackError as exc:
            if pack.origin == "bundled":
                raise  # the library's own pack: a broken install, not someone else's package
            found.problems[name] = f"its profile cannot be read: {exc}"
            log.warning("rule pack %r (%s) is skipped: %s", name, pack.source, exc)
            continue
        taken: list[str] = []
        for platform in profile.served_platforms:
            owner = found.owners.get(platform)
            if platform in found.conflicts:
                found.conflicts[platform] = (*found.conflicts[platform], name)
            elif owner is None:
                found.owners[platform] = name
                origins[platform] = pack.origin
                found[platform] = profile
            elif origins[platform] == pack.origin:
                found.conflicts[platform] = (owner, name)
                del found.owners[platform], found[platform]
            else:
                taken.append(f"platform {platform!r} is pack {owner!r}'s")
        if taken:
            found.problems[name] = (
                f"{'; '.join(taken)}: cases are checked against that pack's profile unless "
                "this pack is named"
            )
    return found


def profile_problems() -> Mapping[str, str]:
    """Installed packs whose profile :func:`installed_profiles` does not use, by name, with why."""
    return installed_profiles().problems


def pack_for_platform(platform: str) -> str:
    """The name of the installed pack that predicts cases of ``platform`` when none is named:
    the one whose profile's platform or ``also_serves`` is ``platform``.

    Raises :class:`CaseError` (field ``platform``) when no installed pack serves it, and
    :class:`RulePackError` naming them when two packs of one origin claim it.

    >>> pack_for_platform("tmall")
    'taobao'
    """
    installed = installed_profiles()
    claimants = installed.conflicts.get(platform)
    if claimants is not None:
        names = ", ".join(repr(name) for name in claimants[:-1]) + f" and {claimants[-1]!r}"
        raise RulePackError(
            f"platform {platform!r} is claimed by more than one installed pack: {names}",
            field="platform",
            hint="name the pack to use (predict --pack NAME, load_rule_pack(NAME)) or "
            "uninstall one of them",
        )
    owner = installed.owners.get(platform)
    if owner is None:
        served = sorted({*installed.owners, *installed.conflicts})
        close = difflib.get_close_matches(platform, served, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise CaseError(
            [
                (
                    "platform",
                    f"no installed rule pack is for platform {platform!r}{hint}; installed: "
                    f"{', '.join(served) or 'none'}",
                )
            ]
        )
    return owner


def profile_for_platform(platform: str) -> PlatformProfile:
    """The profile cases of ``platform`` are checked against (that of
    :func:`pack_for_platform`); the same errors."""
    pack_for_platform(platform)
    return installed_profiles()[platform]
