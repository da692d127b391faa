"""Safe YAML loading that remembers the line of every key, so errors can point at it.

>>> doc = load_yaml_document("a:\\n  b: 1\\n  c: [x, y]\\n", "inline.yaml")
>>> doc.data, doc.line_of(("a", "c", 1))
({'a': {'b': 1, 'c': ['x', 'y']}}, 3)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from refundrules.exceptions import RulePackError

__all__ = ["KeyPath", "YamlDocument", "load_yaml_document", "load_yaml_file"]

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """Parsed data plus the 1-based line of each key path."""

    path: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, key_path: KeyPath) -> int | None:
        """The line of ``key_path``, or of its nearest ancestor that has one."""
        probe = tuple(key_path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), None)


def _index_lines(node: yaml.Node, key_path: KeyPath, lines: dict[KeyPath, int], path: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise RulePackError(
                    f"duplicate key {key!r}", path=path, line=key_node.start_mark.line + 1
                )
            seen.add(key)
            child = (*key_path, key)
            lines[child] = key_node.start_mark.line + 1
            _index_lines(value_node, child, lines, path)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*key_path, index)
            lines[child] = item.start_mark.line + 1
            _index_lines(item, child, lines, path)


def load_yaml_document(text: str, path: str) -> YamlDocument:
    """Parse ``text`` with PyYAML's safe loader; raise :class:`RulePackError` on bad YAML."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise RulePackError(f"malformed YAML: {problem}", path=path, line=line) from exc
    lines: dict[KeyPath, int] = {}
    if root is not None:
        lines[()] = root.start_mark.line + 1
        _index_lines(root, (), lines, path)
    return YamlDocument(path=path, data=data, lines=lines)


def load_yaml_file(file: Path, display: str | None = None) -> YamlDocument:
    name = display or str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulePackError(f"cannot read file: {exc}", path=name) from exc
    return load_yaml_document(text, name)
