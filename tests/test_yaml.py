from __future__ import annotations

import functools
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from refundrules import RulePackError, _yaml
from refundrules._yaml import KeyPath, load_yaml_document, load_yaml_file

ROOT = Path(__file__).resolve().parents[1]
RULE_FILES = sorted((ROOT / "rules").rglob("*.yaml"))
LOADERS = [yaml.SafeLoader, *([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])]

BILLION_LAUGHS = (
    'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    + "".join(
        f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
        for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
)


def reference_lines(text: str) -> dict[KeyPath, int]:
    """The key path → line index as computed before the single-parse loader."""
    lines: dict[KeyPath, int] = {}

    def walk(node: yaml.Node, key_path: KeyPath) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                child = (*key_path, str(key_node.value))
                lines[child] = key_node.start_mark.line + 1
                walk(value_node, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines[(*key_path, index)] = item.start_mark.line + 1
                walk(item, (*key_path, index))

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        lines[()] = root.start_mark.line + 1
        walk(root, ())
    return lines


@pytest.fixture(params=LOADERS, ids=lambda loader: loader.__name__)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> type[Any]:
    monkeypatch.setattr(_yaml, "_LOADER", request.param)
    return request.param  # type: ignore[no-any-return]


def load_error(text: str, path: str = "rules/x.yaml") -> RulePackError:
    with pytest.raises(RulePackError) as info:
        load_yaml_document(text, path)
    return info.value


def test_libyaml_is_used_when_pyyaml_has_it() -> None:
    expected = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    assert _yaml._LOADER is expected


@pytest.mark.usefixtures("loader")
@pytest.mark.parametrize("file", RULE_FILES, ids=lambda file: str(file.relative_to(ROOT)))
def test_rule_files_give_the_data_and_lines_of_the_pure_python_loader(file: Path) -> None:
    doc = load_yaml_file(file)
    data, lines = pure_python_reading(file)
    assert doc.data == data
    assert doc.lines == lines


@functools.cache
def pure_python_reading(file: Path) -> tuple[Any, dict[KeyPath, int]]:
    """``file``'s data and key lines as the pure-Python loader reads them (once per file: each
    loader's test compares with the same reading)."""
    text = file.read_text(encoding="utf-8")
    return yaml.load(text, Loader=yaml.SafeLoader), reference_lines(text)


@pytest.mark.usefixtures("loader")
def test_safe_scalars_match_safe_load() -> None:
    text = (
        "day: 2024-01-01\nat: 2025-03-01T10:00:00+08:00\nint: 0x1f\nfloat: 1.5\n"
        "exponent: 1.5e3\nbool: yes\nnothing: ~\ntext: '48'\nbinary: !!binary aGk=\n"
    )
    data = load_yaml_document(text, "x.yaml").data
    assert data == yaml.safe_load(text)
    assert type(data["day"]) is date and data["day"] == date(2024, 1, 1)


@pytest.mark.usefixtures("loader")
def test_aliases_and_merge_keys_give_the_data_of_safe_load() -> None:
    text = "base: &base {x: 1, y: 2}\nderived:\n  <<: *base\n  y: 3\nlist: [*base, *base]\n"
    doc = load_yaml_document(text, "x.yaml")
    assert doc.data == yaml.safe_load(text)
    assert doc.lines == reference_lines(text)


@pytest.mark.usefixtures("loader")
def test_empty_document_has_no_data_and_no_lines() -> None:
    doc = load_yaml_document("# nothing here\n", "x.yaml")
    assert (doc.data, doc.lines, doc.line_of(("a",))) == (None, {}, None)


@pytest.mark.usefixtures("loader")
def test_duplicate_key_is_an_error_at_its_line() -> None:
    error = load_error("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")
    assert error.message == "duplicate key 'c'"
    assert (error.path, error.line) == ("rules/x.yaml", 4)


@pytest.mark.usefixtures("loader")
def test_same_key_in_different_mappings_is_not_a_duplicate() -> None:
    doc = load_yaml_document("a: {k: 1}\nb: {k: 2}\n", "x.yaml")
    assert doc.data == {"a": {"k": 1}, "b": {"k": 2}}


@pytest.mark.usefixtures("loader")
@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a:\n  b: [1\n  c: 2\n", 3),  # unclosed flow sequence
        ("a: 1\n\tb: 2\n", 2),  # tab indentation
        ("a: 1\nb: 2\n---\nc: 3\n", 3),  # two documents: the second starts at ---
        ("a: 1\nb: *missing\n", 2),  # undefined alias
        ("a: 1\nb: x\x07y\n", 2),  # a control character
        ("名前: 1\nb: x\x07y\n", 2),  # ... after multi-byte text (libyaml counts bytes)
    ],
    ids=["flow", "tab", "two-documents", "undefined-alias", "control-char", "control-char-utf8"],
)
def test_syntax_error_names_the_file_and_line(text: str, line: int) -> None:
    error = load_error(text)
    assert (error.path, error.line) == ("rules/x.yaml", line)
    assert str(error).startswith(f"rules/x.yaml:{line}: malformed YAML: ")
    assert "<unicode string>" not in str(error)


@pytest.mark.usefixtures("loader")
def test_tags_that_build_python_objects_are_refused() -> None:
    error = load_error("a: 1\nb: !!python/object/apply:os.system ['true']\n")
    assert error.line == 2 and "could not determine a constructor" in error.message


@pytest.mark.usefixtures("loader")
def test_alias_bomb_is_refused_quickly() -> None:
    started = time.perf_counter()
    error = load_error(BILLION_LAUGHS)
    elapsed = time.perf_counter() - started
    assert "aliases expand to more than" in error.message
    assert error.line == 6  # the first list whose expansion passes the budget
    # 9**9 nodes if expanded; refusing takes well under a second, 10 s only guards a hang.
    assert elapsed < 10


@pytest.mark.usefixtures("loader")
def test_aliases_within_the_budget_are_accepted() -> None:
    text = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    assert load_yaml_document(text, "x.yaml").data == yaml.safe_load(text)


@pytest.mark.usefixtures("loader")
@pytest.mark.parametrize("text", ["x: 0\na: &x [1, *x]\n", "x: 0\na: &x {b: *x}\n"])
def test_recursive_alias_is_refused(text: str) -> None:
    error = load_error(text)
    assert "an alias refers to a node that contains it" in error.message
    assert error.line == 2


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    if not yaml.__with_libyaml__:
        pytest.skip("the pure-Python composer recurses; libyaml caps the depth")
    error = load_error("a: " + "[" * 2000 + "]" * 2000 + "\n")
    assert error.line == 1 and "malformed YAML" in error.message
