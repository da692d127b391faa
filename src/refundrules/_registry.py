"""The installed rule packs and their platform profiles.

Installed packs are the ones bundled with the library (``rules/`` in the wheel or the
checkout). A case names its platform; :func:`installed_profiles` is how the case model finds
that platform's profile to check the case against.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from refundrules._loader import bundled_pack_names, read_profile, resolve_pack_path
from refundrules._profile import PlatformProfile

__all__ = ["installed_profiles"]


@cache
def installed_profiles() -> Mapping[str, PlatformProfile]:
    """The profile of every installed pack, by platform (read once per process)."""
    profiles: dict[str, PlatformProfile] = {}
    for name in bundled_pack_names():
        profile = read_profile(resolve_pack_path(name))
        profiles[profile.platform] = profile
    return profiles
