"""Every bundled pack has a page under docs/platforms/ that names all its parameters and versions.

A pack is a folder under ``rules/`` (folders whose name starts with ``_`` are shared parts, not
packs). Its page is ``docs/platforms/<pack id>.md``, the id being ``pack.yaml``'s. The page must
name every parameter of ``parameters.yaml`` in backticks in its "Parameters" section, and list
every version of ``pack.yaml`` as the first cell of a row of the table in its "Versions"
section. The files are read with the library's own YAML reader and nothing is compiled, so a
pack still being written is checked as soon as its folder exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from refundrules._yaml import load_yaml_file

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "docs" / "platforms"
PACK_DIRS = sorted(
    folder
    for folder in (ROOT / "rules").iterdir()
    if folder.is_dir() and not folder.name.startswith("_") and (folder / "pack.yaml").is_file()
)
HEADING = re.compile(r"^## +(?P<title>.+?)\s*$", re.M)
FENCE = re.compile(r"^```.*?^```[ \t]*$", re.M | re.S)


def pack_id(folder: Path) -> str:
    data = load_yaml_file(folder / "pack.yaml").data
    return str(data["id"])


def section(page: Path, title: str) -> str:
    """The text of the ``## title...`` section of ``page``, code blocks left out."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    headings = list(HEADING.finditer(text))
    for index, heading in enumerate(headings):
        if heading["title"].lower().startswith(title.lower()):
            end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
            return text[heading.end() : end]
    shown = page.relative_to(ROOT) if page.is_relative_to(ROOT) else page
    raise AssertionError(f"{shown} has no '## {title}' section")


def first_cells(text: str) -> set[str]:
    """The first cell of every table row in ``text``, backticks and bold marks stripped."""
    cells: set[str] = set()
    for line in text.splitlines():
        if line.startswith("|"):
            cells.add(line.split("|")[1].strip().strip("`*").strip())
    return cells


def page_of(folder: Path) -> Path:
    page = PAGES / f"{pack_id(folder)}.md"
    assert page.is_file(), f"rules/{folder.name} has no page {page.relative_to(ROOT)}"
    return page


def test_the_bundled_packs_are_found() -> None:
    names = {folder.name for folder in PACK_DIRS}
    assert {"pinduoduo", "taobao", "ebay"} <= names
    assert not any(name.startswith("_") for name in names)


@pytest.mark.parametrize("folder", PACK_DIRS, ids=lambda folder: folder.name)
def test_every_parameter_is_named_on_the_page(folder: Path) -> None:
    parameters = load_yaml_file(folder / "parameters.yaml").data["parameters"]
    assert parameters, f"rules/{folder.name}/parameters.yaml names no parameter"
    named = set(re.findall(r"`([^`\n]+)`", section(page_of(folder), "Parameters")))
    missing = sorted(name for name in parameters if name not in named)
    assert not missing, f"docs/platforms/{pack_id(folder)}.md does not name {missing}"


@pytest.mark.parametrize("folder", PACK_DIRS, ids=lambda folder: folder.name)
def test_every_version_is_in_the_versions_table(folder: Path) -> None:
    versions = [
        str(entry["version"]) for entry in load_yaml_file(folder / "pack.yaml").data["versions"]
    ]
    assert versions, f"rules/{folder.name}/pack.yaml has no version"
    rows = first_cells(section(page_of(folder), "Versions"))
    missing = [version for version in versions if version not in rows]
    assert not missing, f"docs/platforms/{pack_id(folder)}.md's versions table lacks {missing}"


def test_a_missing_parameter_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# P\n\n## Parameters\n\n| Parameter |\n| --- |\n| `kept` |\n\n"
        "```text\n`hidden_in_code`\n## Versions\n```\n\n"
        "## Versions\n\n| Version |\n| --- |\n| 2020.1 |\n\n`outside`\n",
        encoding="utf-8",
    )
    named = set(re.findall(r"`([^`\n]+)`", section(page, "Parameters")))
    assert "kept" in named and "hidden_in_code" not in named and "outside" not in named
    assert first_cells(section(page, "Versions")) == {"Version", "---", "2020.1"}
    with pytest.raises(AssertionError, match="no '## Flow' section"):
        section(page, "Flow")
