"""Hostile variants of rule pack files and case files, for tests/test_fuzz.py.

A mutant is a text edit of one real file: a node of its YAML tree (found by its marks, so the
rest of the file keeps its lines) replaced by something hostile, the text cut or corrupted, or
the pack folder rearranged (a rules file moved, renamed, linked out of the folder). Every
mutant is built from a seeded ``random.Random``, so a failure names a reproducible seed.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# Replacements for a scalar or a whole collection. Each is valid YAML text on its own (in flow
# style) or deliberately not; the loader must answer every one with its own error or a pack
# that really predicts.
HOSTILE_VALUES: tuple[str, ...] = (
    "null",
    "~",
    "0",
    "-1",
    "true",
    '""',
    "[]",
    "{}",
    ".inf",
    "-.inf",
    ".nan",
    "1e309",
    "-1e309",
    "1" * 5000,  # past Python's integer-digit limit (4,300)
    "1" * 400 + ".5",
    "!!float notafloat",
    "!!int notanint",
    "!!bool maybe",
    "!!timestamp 2025-13-01",
    "!!binary '@@@'",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!python/name:os.system",
    "0000-01-01",
    "2025-13-01",
    "2025-02-30",
    "9999-12-31",
    '"9999-12-31T23:59:59+00:00"',
    '"0001-01-01T00:00:00+14:00"',
    "2025-03-01T10:00:00",
    '"2025-03-01T10:00:00+99:00"',
    "0x7fffffffffffffffffff",
    "0o777",
    "1_000",
    '"１２０.００"',  # full-width digits
    '"١٢٠.٠٠"',  # Arabic-Indic digits
    '"\\e[31mred\\e[0m"',
    '"\\u202etxt.exe"',
    "[" * 2000 + "]" * 2000,
    "&a [*a]",
    "*nowhere",
    "{a: 1, a: 2}",
    "'unterminated",
    "[1, 2",
    "\t",
    "%YAML 9.9",
    "? [complex, key]\n: value",
)


@dataclass(frozen=True)
class Mutant:
    """One hostile variant: ``files`` maps a path inside the folder to its new bytes (None
    deletes it); ``links`` maps a path inside the folder to where its symlink points;
    ``loads`` says whether the pack must load (None: an error or a pack both do)."""

    name: str
    files: dict[str, bytes | None] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    loads: bool | None = None  # whether the pack must load; None: either answer will do

    def apply(self, folder: Path) -> None:
        for relative, content in self.files.items():
            target = folder / relative
            if content is None:
                target.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
        for relative, pointee in self.links.items():
            target = folder / relative
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            target.unlink(missing_ok=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(pointee)


def _nodes(text: str) -> list[tuple[yaml.Node, bool]]:
    """Every node of ``text``'s YAML tree, each with whether it is a mapping key."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    found: list[tuple[yaml.Node, bool]] = []
    stack: list[yaml.Node] = [] if root is None else [root]
    while stack:
        node = stack.pop()
        found.append((node, False))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                found.append((key, True))
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return found


def _replace_node(text: str, rng: random.Random) -> tuple[str, str]:
    nodes = _nodes(text)
    node, is_key = rng.choice(nodes)
    start, end = node.start_mark.index, node.end_mark.index
    if is_key:
        replacement = rng.choice(("0", "null", "1.5", "true", "unknown_key", "[a]", '"" '))
        what = f"key {node.value!r} -> {replacement}"
    else:
        replacement = rng.choice(HOSTILE_VALUES)
        if "\n" not in replacement and isinstance(node, yaml.ScalarNode):
            what = f"line {node.start_mark.line + 1} -> {replacement[:40]}"
        else:
            what = f"node at line {node.start_mark.line + 1} -> {replacement[:40]!r}"
    return text[:start] + replacement + text[end:], what


def _add_unknown_key(text: str, rng: random.Random) -> tuple[str, str]:
    mappings = [
        node for node, is_key in _nodes(text) if isinstance(node, yaml.MappingNode) and node.value
    ]
    node = rng.choice(mappings)
    key = node.value[0][0]
    if node.flow_style:
        index = key.start_mark.index
        return text[:index] + "surplus_key: 1, " + text[index:], "unknown key (flow)"
    column = key.start_mark.column
    line_start = key.start_mark.index - column
    return (
        text[:line_start] + " " * column + "surplus_key: 1\n" + text[line_start:],
        f"unknown key at line {key.start_mark.line + 1}",
    )


def _drop_key(text: str, rng: random.Random) -> tuple[str, str]:
    mappings = [
        node
        for node, _ in _nodes(text)
        if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value
    ]
    if not mappings:
        return _replace_node(text, rng)
    node = rng.choice(mappings)
    key, value = rng.choice(node.value)
    line_start = key.start_mark.index - key.start_mark.column
    end = value.end_mark.index
    return text[:line_start] + text[end:], f"dropped key {key.value!r}"


def _truncate(text: str, rng: random.Random) -> tuple[str, str]:
    cut = rng.randrange(len(text) + 1)
    return text[:cut], f"cut at {cut}"


def _corrupt_bytes(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    where = rng.randrange(len(data) + 1)
    junk = rng.choice((b"\xff\xfe", b"\xc3", b"\x80\x80", b"\x00", b"\xed\xa0\x80", b"\x1b[2J"))
    return data[:where] + junk + data[where:], f"bytes {junk!r} at {where}"


_TEXT_EDITS: tuple[Callable[[str, random.Random], tuple[str, str]], ...] = (
    _replace_node,
    _replace_node,
    _replace_node,
    _replace_node,
    _add_unknown_key,
    _drop_key,
    _truncate,
)


def mutate_text(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One random hostile edit of a YAML file's bytes, and what it did."""
    if rng.random() < 0.1:
        return _corrupt_bytes(data, rng)
    text = data.decode("utf-8")
    edit = rng.choice(_TEXT_EDITS)
    changed, what = edit(text, rng)
    return changed.encode("utf-8"), f"{edit.__name__.strip('_')}: {what}"


def deep_nesting(depth: int) -> bytes:
    return ("rules:\n" + "  - " + "[" * depth + "]" * depth + "\n").encode()


def alias_bomb(levels: int) -> bytes:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    lines.append(f"rules: *a{levels - 1}")
    return ("\n".join(lines) + "\n").encode()


def many_rules(template: str, count: int) -> bytes:
    """``count`` copies of a one-rule file's rule, each with its own id and priority."""
    lines = ["rules:"]
    for index in range(count):
        lines.append(template.format(index=index, priority=5000 + index))
    return ("\n".join(lines) + "\n").encode()


_MANY_RULE = (
    "  - id: generated_{index}\n"
    "    title: {{en: Generated rule {index}, zh: 生成规则{index}}}\n"
    "    priority: {priority}\n"
    "    sources: [{source}]\n"
    "    when: {{fact: buyer_cancelled, eq: true}}\n"
    "    then: {{recommend: [{{action: support_appeal_with_evidence, why: reason {index}}}]}}"
)


def structural_mutants(root: Path, rng: random.Random, outside: Path) -> Iterator[Mutant]:
    """Rearrangements of the pack folder at ``root``, each with whether it must load; the
    files links point to are written to ``outside``."""
    rule_files = sorted((root / "rules").glob("*.yaml"))
    chosen = rng.choice(rule_files)
    relative = f"rules/{chosen.name}"
    text = chosen.read_bytes()
    refused = {"loads": False}
    yield Mutant(
        "rules file in a subfolder",
        files={relative: None, f"rules/nested/{chosen.name}": text},
        **refused,
    )
    yield Mutant(
        "rules file named .YAML",
        files={relative: None, f"rules/{chosen.stem}.YAML": text},
        **refused,
    )
    yield Mutant(
        "rules file named .yml",
        files={relative: None, f"rules/{chosen.stem}.yml": text},
        loads=True,
    )
    (outside / chosen.name).write_bytes(text)
    yield Mutant(
        "rules file symlinked out of the pack",
        links={relative: str(outside / chosen.name)},
        **refused,
    )
    (outside / "parameters.yaml").write_bytes((root / "parameters.yaml").read_bytes())
    yield Mutant(
        "parameters symlinked out of the pack",
        links={"parameters.yaml": str(outside / "parameters.yaml")},
        **refused,
    )
    yield Mutant("rules folder symlinked out of the pack", links={"rules": str(outside)}, **refused)
    yield Mutant("rules file is /dev/zero", links={relative: "/dev/zero"}, **refused)
    yield Mutant("rules file deep nesting", files={relative: deep_nesting(10_000)}, **refused)
    yield Mutant("rules file alias bomb", files={relative: alias_bomb(9)}, **refused)
    yield Mutant("empty rules file", files={relative: b""}, **refused)
    source = _first_source(root)
    yield Mutant(
        "2,000 rules",
        files={"rules/99_many.yaml": many_rules(_MANY_RULE.replace("{source}", source), 2000)},
        loads=True,
    )
    huge = b"note: " + b"x" * 10_000_000 + b"\n"
    noted = root / "rules" / "10_closed.yaml"
    body = noted.read_bytes()
    marker = b"    note: A ruling against the seller"
    at = body.index(marker)
    line_end = body.index(b"\n", at)
    yield Mutant(
        "10-million-character note",
        files={"rules/10_closed.yaml": body[:at] + b"    " + huge[:-1] + body[line_end:]},
        loads=True,
    )
    yield Mutant(
        "30-million-character note (past the file size limit)",
        files={
            "rules/10_closed.yaml": body[:at] + b"    note: " + b"x" * 30_000_000 + body[line_end:]
        },
        **refused,
    )


def _first_source(root: Path) -> str:
    manifest = yaml.safe_load((root / "pack.yaml").read_text(encoding="utf-8"))
    return str(next(iter(manifest["sources"])))


def pack_mutants(root: Path, rng: random.Random, count: int) -> Iterator[Mutant]:
    """``count`` random text mutants of the pack files at ``root``."""
    files = ["pack.yaml", "profile.yaml", "parameters.yaml"] + [
        f"rules/{path.name}" for path in sorted((root / "rules").glob("*.yaml"))
    ]
    originals = {name: (root / name).read_bytes() for name in files}
    for index in range(count):
        name = rng.choice(files)
        changed, what = mutate_text(originals[name], rng)
        yield Mutant(f"#{index} {name}: {what}", files={name: changed})


def case_mutants(text: bytes, rng: random.Random, count: int) -> Iterator[tuple[str, bytes]]:
    """``count`` random mutants of one case file's bytes."""
    for index in range(count):
        changed, what = mutate_text(text, rng)
        yield f"#{index}: {what}", changed
