"""The installed rule packs and their platform profiles.

Installed packs are the ones bundled with the library (``rules/`` in the wheel or the
checkout) and those other distributions install through the ``refundrules.packs`` entry point
(:mod:`refundrules._installed`). A case names its platform; :func:`installed_profiles` is how the case model finds
that platform's profile to check the case against.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from refundrules._installed import installed_packs
from refundrules._loader import read_profile
from refundrules._profile import PlatformProfile

__all__ = ["installed_profiles"]


@cache
def installed_profiles() -> Mapping[str, PlatformProfile]:
    """The profile of every installed pack, by platform (read once per process)."""
    profiles: dict[str, PlatformProfile] = {}
    for pack in installed_packs().values():
        profile = read_profile(pack.root())
        profiles[profile.platform] = profile
    return profiles
