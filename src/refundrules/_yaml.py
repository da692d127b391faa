"""Safe YAML loading that remembers the line of every key, so errors can point at it.

Each text is parsed once, with libyaml when PyYAML has it: the node tree gives both the data
(built by PyYAML's safe constructor, so values are exactly what ``yaml.safe_load`` returns)
and the line of every key path.

>>> doc = load_yaml_document("a:\\n  b: 1\\n  c: [x, y]\\n", "inline.yaml")
>>> doc.data, doc.line_of(("a", "c", 1))
({'a': {'b': 1, 'c': ['x', 'y']}}, 3)
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.reader import Reader, ReaderError

from refundrules.exceptions import RulePackError

__all__ = [
    "KeyPath",
    "YamlDocument",
    "describe_yaml_error",
    "load_yaml_document",
    "load_yaml_file",
    "read_text",
]

KeyPath = tuple[str | int, ...]

# libyaml's parser when PyYAML was built with it (several times faster), else the pure-Python
# one; both pair with the same safe constructor and resolver, so they give the same values.
_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# The constructor builds one object per anchor and shares it, so a document of nested aliases
# ("billion laughs") loads into little memory but expands exponentially for anything that walks
# it: the line index below, validation, the JSON sent to the engine. Walking a node reached again
# through an alias counts against this budget; a document without aliases never touches it.
MAX_ALIASED_NODES = 100_000
# Deeper than any pack or case needs (conditions nest about a dozen levels); the constructor
# and the validators recurse, so a document nested thousands deep is refused here instead.
MAX_DEPTH = 100
# Reading stops past this size: a pack file or case is a few hundred kilobytes at most, and a
# device such as /dev/zero never ends.
MAX_FILE_BYTES = 20_000_000


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


# A step of the walk: a node; its key path and that path's line; the keys already seen in the
# mapping the node is a value of (None for a sequence item or the root); the line to blame if
# an alias expansion starts at this node (its key's, or for a sequence item its sequence's);
# and the line where the expansion the node is part of started (None outside one). A bare node
# on the stack marks the end of that collection's children.
_Step = tuple[yaml.Node, KeyPath, int, set[str | int] | None, int, int | None]


def _index_lines(root: yaml.Node, path: str) -> dict[KeyPath, int]:
    """Map every key path to its line; refuse duplicate keys, recursive aliases, alias bombs.

    Iterative, so deep nesting cannot overflow the stack, and in document order, so the
    duplicate reported is the first one in the file.
    """
    root_line = root.start_mark.line + 1
    lines: dict[KeyPath, int] = {}
    walked: set[int] = set()
    enclosing: set[int] = set()  # the collections the current node is inside
    aliased = 0
    stack: list[_Step | yaml.Node] = [(root, (), root_line, None, root_line, None)]
    while stack:
        step = stack.pop()
        if isinstance(step, yaml.Node):
            enclosing.discard(id(step))
            continue
        node, key_path, line, siblings, blame, expansion = step
        if len(key_path) > MAX_DEPTH:
            raise RulePackError(
                f"the data is nested more than {MAX_DEPTH} levels deep",
                path=path,
                line=line,
                hint="flatten it; no rule pack or case needs such depth",
            )
        if siblings is not None:
            if key_path[-1] in siblings:
                raise RulePackError(f"duplicate key {key_path[-1]!r}", path=path, line=line)
            siblings.add(key_path[-1])
        lines[key_path] = line
        if id(node) in walked:
            if expansion is None:
                expansion = blame
            if id(node) in enclosing:
                raise RulePackError(
                    "an alias refers to a node that contains it",
                    path=path,
                    line=expansion,
                    hint="a rule pack cannot hold recursive data; write the values out",
                )
            aliased += 1
            if aliased > MAX_ALIASED_NODES:
                raise RulePackError(
                    f"aliases expand to more than {MAX_ALIASED_NODES:,} nodes",
                    path=path,
                    line=expansion,
                    hint="an alias bomb? write the values out or nest fewer aliases",
                )
        walked.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: set[str | int] = set()
            children: list[_Step] = []
            for key, value in node.value:
                key_line = key.start_mark.line + 1
                if key.tag not in (_STR, _MERGE):
                    shown = key.value if isinstance(key, yaml.ScalarNode) else "a collection"
                    raise RulePackError(
                        f"a key must be text, got {shown!r}",
                        path=path,
                        line=key_line,
                        hint="quote it, or correct the key's name",
                    )
                child = (value, (*key_path, str(key.value)), key_line, seen, key_line, expansion)
                children.append(child)
        elif isinstance(node, yaml.SequenceNode):
            children = [
                (item, (*key_path, index), item.start_mark.line + 1, None, line, expansion)
                for index, item in enumerate(node.value)
            ]
        else:
            continue
        enclosing.add(id(node))
        stack.append(node)
        stack.extend(reversed(children))
    return lines


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_PLAIN_SCALARS = frozenset(
    {
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:timestamp",
    }
)


def _plain(root: yaml.Node) -> bool:
    """The tree holds only the core tags, no merge keys: the fast path can build it."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.tag != _STR and node.tag not in _PLAIN_SCALARS:
                return False
        elif isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                return False
            for key, value in node.value:
                if key.tag not in (_STR, *_PLAIN_SCALARS) or key.tag == "tag:yaml.org,2002:merge":
                    return False
                stack.extend((key, value))
        elif node.tag != _SEQ:
            return False
        else:
            stack.extend(node.value)
    return True


_BUILD_ERRORS = (ValueError, TypeError, KeyError, ArithmeticError)


def _scalars(root: yaml.Node) -> Iterator[yaml.ScalarNode]:
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            yield node
        elif isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                stack.extend((value, key))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))


def _constructed(root: yaml.Node, loader: Any, path: str) -> Any:
    """:func:`_construct`, with a value PyYAML cannot build (``!!float notafloat``, a date in
    month 13 or year 0, an integer past Python's digit limit) refused at its line."""
    try:
        return _construct(root, loader)
    except _BUILD_ERRORS as exc:
        for node in _scalars(root):
            constructor = loader.yaml_constructors.get(node.tag)
            if constructor is None or node.tag == _STR:
                continue
            try:
                constructor(loader, node)
            except _BUILD_ERRORS:
                tag = node.tag.removeprefix("tag:yaml.org,2002:")
                raise RulePackError(
                    f"cannot read {node.value[:60]!r} as {tag}: {str(exc)[:200]}",
                    path=path,
                    line=node.start_mark.line + 1,
                ) from exc
        raise RulePackError(f"cannot build the data: {str(exc)[:200]}", path=path) from exc


def _construct(root: yaml.Node, loader: Any) -> Any:
    """The data of ``root``, exactly as ``yaml.safe_load`` builds it.

    PyYAML's generic constructor is most of the cost of loading a pack; a tree that holds only
    the core tags (every pack file) is built here directly, each scalar by the safe
    constructor's own method for its tag, and an alias shares its object as PyYAML does.
    Anything else (other tags, merge keys) goes through the generic constructor.
    """
    if not _plain(root):
        return loader.construct_document(root)
    built: dict[int, Any] = {}
    constructors = loader.yaml_constructors

    def build(node: yaml.Node) -> Any:
        known = built.get(id(node))
        if known is not None or id(node) in built:
            return known
        if isinstance(node, yaml.ScalarNode):
            value = node.value if node.tag == _STR else constructors[node.tag](loader, node)
        elif isinstance(node, yaml.SequenceNode):
            value = []
            built[id(node)] = value
            value.extend(build(item) for item in node.value)
        else:
            value = {}
            built[id(node)] = value
            for key, item in node.value:
                value[build(key)] = build(item)
        built[id(node)] = value
        return value

    return build(root)


def describe_yaml_error(
    exc: yaml.YAMLError, text: str, loader: type[Any]
) -> tuple[str, int | None]:
    """PyYAML's problem and line, without its mark names (``<unicode string>``)."""
    if isinstance(exc, ReaderError):
        # libyaml counts the offset in UTF-8 bytes, the pure-Python reader in characters.
        if issubclass(loader, Reader):
            line = text.count("\n", 0, exc.position) + 1
        else:
            line = text.encode()[: exc.position].count(b"\n") + 1
        if isinstance(exc.character, int):
            return f"unacceptable character #x{exc.character:04x}: {exc.reason}", line
        return f"cannot decode the text: {exc.reason}", line
    if isinstance(exc, yaml.MarkedYAMLError):
        problem_mark, context_mark = exc.problem_mark, exc.context_mark
        mark = problem_mark if problem_mark is not None else context_mark
        parts = []
        if exc.context:
            context = exc.context
            if context_mark is not None and context_mark is not mark:
                context += f" (from line {context_mark.line + 1})"
            parts.append(context)
        if exc.problem:
            parts.append(exc.problem)
        return ": ".join(parts) or type(exc).__name__, None if mark is None else mark.line + 1
    return type(exc).__name__, None


def load_yaml_document(text: str, path: str) -> YamlDocument:
    """Parse ``text`` with PyYAML's safe loader; raise :class:`RulePackError` on bad YAML.

    ``path`` names the text in errors and in the returned document.
    """
    loader_class = _LOADER
    try:
        loader = loader_class(text)
        try:
            root = loader.get_single_node()
            lines = {} if root is None else _index_lines(root, path)
            data = None if root is None else _constructed(root, loader, path)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        problem, line = describe_yaml_error(exc, text, loader_class)
        raise RulePackError(f"malformed YAML: {problem}", path=path, line=line) from exc
    return YamlDocument(path=path, data=data, lines=lines)


def read_text(file: Path) -> str:
    """The UTF-8 text of a regular file, read once and at most :data:`MAX_FILE_BYTES` long.

    A FIFO, a device (``/dev/zero``) or a directory is refused without blocking, as is a file
    past the size limit; each raises :class:`OSError` (or :class:`UnicodeDecodeError`).
    """
    # Non-blocking, so opening a FIFO with no writer returns at once (and is then refused).
    descriptor = os.open(
        file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    )
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(file))
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise OSError(errno.EFBIG, f"larger than {MAX_FILE_BYTES:,} bytes", str(file))
    return data.decode("utf-8")


def load_yaml_file(file: Path, display: str | None = None) -> YamlDocument:
    name = display or str(file)
    try:
        text = read_text(file)
    except OSError as exc:
        raise RulePackError(f"cannot read file: {exc.strerror or exc}", path=name) from exc
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise RulePackError(
            f"cannot read file: not UTF-8 text (byte {exc.object[exc.start]:#04x})",
            path=name,
            line=line,
        ) from exc
    return load_yaml_document(text, name)
