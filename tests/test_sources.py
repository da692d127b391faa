"""The sources a bundled pack cites are public pages about the platform, graded honestly."""

from __future__ import annotations

import pytest

import refundrules
from refundrules._loader import bundled_pack_names

# Hosts of software documentation: a page there is about code, never a platform's own rules.
SOFTWARE_DOCS = ("docs.rs", "pypi.org", "readthedocs", "github.com", "crates.io")


@pytest.mark.parametrize("name", bundled_pack_names())
def test_no_source_points_at_a_file_of_ours(name: str) -> None:
    pack = refundrules.load_rule_pack(name)
    for key, source in pack.manifest.sources.items():
        text = f"{source.title} {source.url or ''} {source.note or ''}"
        assert "shared/domain" not in text and ".md)" not in text, key
        assert source.url is None or source.url.startswith(("http://", "https://")), key


@pytest.mark.parametrize("name", bundled_pack_names())
def test_no_software_documentation_is_graded_official(name: str) -> None:
    pack = refundrules.load_rule_pack(name)
    for key, source in pack.manifest.sources.items():
        on_software_docs = any(host in (source.url or "") for host in SOFTWARE_DOCS)
        assert not (on_software_docs and source.confidence == "A"), key
