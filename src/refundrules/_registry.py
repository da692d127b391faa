"""The installed rule packs and their platform profiles.

Installed packs are the ones bundled with the library (``rules/`` in the wheel or the
checkout) and those other distributions install through the ``refundrules.packs`` entry point
(:mod:`refundrules._installed`). A case names its platform; :func:`installed_profiles` is how the case model finds
that platform's profile to check the case against.

A bundled pack's profile always serves its platform: an entry-point pack declaring the same
platform does not replace it (name that pack, e.g. ``predict --pack NAME``, to check a case
against its profile). An entry-point pack whose profile cannot be read is left out, logged
(logger ``refundrules``) and listed by :func:`profile_problems`, so one broken distribution
does not stop the cases of every other platform from loading.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cache

from refundrules._installed import installed_packs
from refundrules._loader import read_profile
from refundrules._profile import PlatformProfile
from refundrules.exceptions import RulePackError

__all__ = ["LOGGER", "InstalledProfiles", "installed_profiles", "profile_problems"]

LOGGER = "refundrules"


class InstalledProfiles(dict[str, PlatformProfile]):
    """Profiles by platform; ``problems`` names each installed pack whose profile is not used,
    with why (it cannot be read, or its platform is a pack's listed before it)."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: dict[str, str] = {}


@cache
def installed_profiles() -> InstalledProfiles:
    """The profile of every installed pack, by platform (read once per process)."""
    found = InstalledProfiles()
    owners: dict[str, str] = {}
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
        owner = owners.setdefault(profile.platform, name)
        if owner != name:
            found.problems[name] = (
                f"platform {profile.platform!r} is pack {owner!r}'s: cases are checked against "
                f"{owner!r}'s profile unless this pack is named"
            )
            continue
        found[profile.platform] = profile
    return found


def profile_problems() -> Mapping[str, str]:
    """Installed packs whose profile :func:`installed_profiles` does not use, by name, with why."""
    return installed_profiles().problems
