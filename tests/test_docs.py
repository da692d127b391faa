"""Run the examples in the user documentation and check that what they show is real.

Covered files: docs/concepts.md, docs/case-format.md, docs/rule-packs.md, docs/cli.md,
docs/python-api.md, docs/explain.md and docs/platforms/ebay.md, douyin.md, pinduoduo.md,
wechat_shop.md and taobao.md.
Conventions for their fenced blocks:

``console``
    A line starting with ``$ `` is a command; the lines after it, up to the next command, are
    exactly what it prints on stdout (trailing whitespace and trailing blank lines ignored).
    A command ending in ``2>&1`` shows its stderr too. If the last line of a command's output
    is ``[exit N]``, the command must exit with status N; otherwise it must exit with 0.
    Every command runs in ``bash``; ``refundrules`` is the executable next to
    ``sys.executable`` (that directory comes first in ``PATH``). A command that is only
    ``refundrules`` and plain or single-quoted words (perhaps ending in ``2>&1``) runs in the
    test's own process instead,
    through the function that executable calls (``refundrules._cli:main``), with the same
    working directory, ``COLUMNS`` and exit status: what it prints is the same, without a
    Python start-up (about 0.4 s) for each of the hundred or so documented commands. Each block runs in its own
    scratch directory in which ``examples`` and ``rules`` are symlinks to the repository's,
    so paths print exactly as from the repository root while files a block creates (for
    instance ``cp -r rules/pinduoduo my-pack``) never touch the checkout. Every
    ``refundrules predict`` passes ``--as-of``, so no output depends on the clock.
``python``
    Runs as-is in a fresh namespace with the repository root as the current directory. A
    block whose first line starts with ``>>> `` runs as a doctest (its outputs are checked).
``yaml``
    Must parse. A case (top-level ``platform`` and ``order``) must be a valid case; a
    ``rules:``, ``parameters:``, ``tests:`` or ``properties:`` file, a pack manifest (``id``
    and ``sources``) or a bare ``when:`` condition must pass the checks the loader applies
    (conditions are checked against the parameters of the bundled pinduoduo pack).

A *session* document (docs/tutorial-change-a-rule.md) is a story whose steps build on each
other: all its console blocks run in order in one scratch directory, and a ``yaml`` block
right after ``<!-- append to: PATH -->`` is appended to that file there, as the reader is
told to do. Its outputs are checked whole, like any other block's.

The fact tables in docs/rule-packs.md, between ``<!-- begin: NAME facts -->`` and
``<!-- end: NAME facts -->``, must equal :func:`fact_table`'s output.

When the pack or the library changes on purpose, refresh the documented outputs with
``.venv/bin/python tests/test_docs.py --refresh`` and review the diff before committing.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
DOC_FILES = (
    "concepts.md",
    "case-format.md",
    "rule-packs.md",
    "cli.md",
    "python-api.md",
    "explain.md",
    "platforms/ebay.md",
    "platforms/douyin.md",
    "platforms/pinduoduo.md",
    "platforms/taobao.md",
    "platforms/wechat_shop.md",
)
SESSION_DOCS = ("tutorial-change-a-rule.md",)
BIN = Path(sys.executable).parent
LINKED = ("examples", "rules", "tests")

FENCE = re.compile(r"^```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
EXIT_LINE = re.compile(r"^\[exit (\d+)\]$")
APPEND_MARK = re.compile(r"<!-- append to: (?P<path>[^ ]+) -->\n$")
FACT_TABLE = re.compile(
    r"<!-- begin: (?P<name>\w+) facts -->\n(?P<table>.*?)\n<!-- end: (?P=name) facts -->", re.S
)


@dataclass(frozen=True)
class Block:
    doc: str
    line: int
    lang: str
    body: str

    @property
    def label(self) -> str:
        return f"docs/{self.doc}:{self.line}"


@dataclass
class Command:
    text: str
    output: list[str] = field(default_factory=list)
    exit_code: int = 0


def doc_blocks(lang: str, docs: tuple[str, ...] = DOC_FILES) -> list[Block]:
    found: list[Block] = []
    for name in docs:
        text = (DOCS / name).read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            if match["lang"] == lang:
                line = text.count("\n", 0, match.start()) + 1
                found.append(Block(name, line, lang, match["body"]))
    return found


def parse_console(body: str) -> list[Command]:
    commands: list[Command] = []
    for raw in body.splitlines():
        if raw.startswith("$ "):
            commands.append(Command(raw[2:]))
        elif commands:
            commands[-1].output.append(raw)
        else:
            raise ValueError(f"output before the first command: {raw!r}")
    for command in commands:
        if command.output:
            status = EXIT_LINE.match(command.output[-1])
            if status:
                command.exit_code = int(status[1])
                command.output.pop()
        command.output = _lines("\n".join(command.output))
    return commands


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def make_scratch(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        (directory / name).symlink_to(ROOT / name, target_is_directory=True)
    return directory


# `refundrules` followed by words made of these characters or in single quotes, perhaps ending in
# `2>&1`: nothing else the shell would expand, redirect or pipe.
IN_PROCESS = re.compile(r"refundrules(?: (?:[\w./:=,+@%-]+|'[^']*'))*(?P<merged> 2>&1)?")


def run_command(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    plain = IN_PROCESS.fullmatch(command)
    if plain:
        return run_in_process(command.removesuffix(" 2>&1"), cwd, merged=bool(plain["merged"]))
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": "80",
        "PYTHONUTF8": "1",
    }
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=900,
        check=False,
    )


@contextlib.contextmanager
def unmeasured() -> Iterator[None]:
    """Coverage paused, if it runs: a documented command is not measured, as it is not when it
    runs in its own process (tests/conftest.py), and tracing it would slow the suite."""
    try:
        import coverage
    except ImportError:  # pragma: no cover - coverage is a dev dependency
        yield
        return
    running = coverage.Coverage.current()
    if running is None:
        yield
        return
    running.stop()
    try:
        yield
    finally:
        running.start()


def run_in_process(
    command: str, cwd: Path, *, merged: bool = False
) -> subprocess.CompletedProcess[str]:
    """``command`` (a plain ``refundrules ...``) run by the console script's function here;
    ``merged`` writes its stderr into its stdout, as ``2>&1`` does."""
    from refundrules._cli import main

    argv = shlex.split(command)[1:]
    stdout = io.StringIO()
    stderr = stdout if merged else io.StringIO()
    saved_cwd, saved_columns = Path.cwd(), os.environ.get("COLUMNS")
    os.chdir(cwd)
    os.environ["COLUMNS"] = "80"
    try:
        with (
            unmeasured(),
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: usage errors and --help
                if isinstance(exc.code, str):
                    print(exc.code, file=sys.stderr)
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        os.chdir(saved_cwd)
        if saved_columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved_columns
    return subprocess.CompletedProcess(argv, code, stdout.getvalue(), stderr.getvalue())


def _shown(command: Command, result: subprocess.CompletedProcess[str]) -> str:
    shown = [f"$ {command.text}", *_lines(result.stdout)]
    if result.returncode:
        shown.append(f"[exit {result.returncode}]")
    return "\n".join(shown)


# --- console -----------------------------------------------------------------------------


@pytest.mark.parametrize("block", doc_blocks("console"), ids=lambda block: block.label)
def test_console_block(block: Block, tmp_path: Path) -> None:
    scratch = make_scratch(tmp_path / "repo")
    commands = parse_console(block.body)
    assert commands, f"{block.label}: empty console block"
    for command in commands:
        result = run_command(command.text, scratch)
        actual = _lines(result.stdout)
        assert (actual, result.returncode) == (command.output, command.exit_code), (
            f"{block.label}: `{command.text}` printed something else; it really shows:\n\n"
            f"{_shown(command, result)}\n\nstderr:\n{result.stderr}"
        )


def session_steps(text: str) -> Iterator[tuple[re.Match[str], str | None]]:
    """The console blocks of a session document in order, and ``yaml`` blocks to append
    (with the file they go to); other blocks are only read."""
    for match in FENCE.finditer(text):
        if match["lang"] == "console":
            yield match, None
        elif match["lang"] == "yaml":
            mark = APPEND_MARK.search(text, 0, match.start())
            if mark is not None and mark.end() == match.start():
                yield match, mark["path"]


def run_session(text: str, scratch: Path) -> Iterator[tuple[re.Match[str], list[str]]]:
    """Run a session document; yield each console block with what its commands really show."""
    for match, append_to in session_steps(text):
        if append_to is not None:
            target = scratch / append_to
            with target.open("a", encoding="utf-8") as handle:
                handle.write(match["body"])
            continue
        shown = []
        for command in parse_console(match["body"]):
            shown.append(_shown(command, run_command(command.text, scratch)))
        yield match, shown


@pytest.mark.parametrize("doc", SESSION_DOCS)
def test_session_document(doc: str, tmp_path: Path) -> None:
    text = (DOCS / doc).read_text(encoding="utf-8")
    for match, shown in run_session(text, make_scratch(tmp_path / "repo")):
        documented = [
            "\n".join([f"$ {command.text}", *command.output]
                      + ([f"[exit {command.exit_code}]"] if command.exit_code else []))
            for command in parse_console(match["body"])
        ]
        line = text.count("\n", 0, match.start()) + 1
        assert shown == documented, (
            f"docs/{doc}:{line}: the block shows something else than the commands print; "
            "they really show:\n\n" + "\n".join(shown)
        )


def test_predict_commands_pin_as_of() -> None:
    unpinned = [
        f"{block.label}: {command.text}"
        for block in doc_blocks("console", DOC_FILES + SESSION_DOCS)
        for command in parse_console(block.body)
        if "refundrules predict" in command.text
        and "--as-of" not in command.text
        and command.exit_code != 2  # a usage error never gets as far as predicting
    ]
    assert not unpinned, "predict without --as-of depends on the clock:\n" + "\n".join(unpinned)


# --- python ------------------------------------------------------------------------------


@pytest.mark.parametrize("block", doc_blocks("python"), ids=lambda block: block.label)
def test_python_block(block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    if block.body.lstrip().startswith(">>> "):
        parser = doctest.DocTestParser()
        test = parser.get_doctest(block.body, namespace, block.label, block.doc, block.line)
        report: list[str] = []
        runner = doctest.DocTestRunner(verbose=False)
        runner.run(test, out=report.append)
        assert runner.failures == 0, "".join(report)
    else:
        exec(compile(block.body, block.label, "exec"), namespace)


# --- yaml --------------------------------------------------------------------------------


def _check_conditions(rules: Any, key: str = "rules") -> None:
    from refundrules._conditions import check_condition
    from refundrules._registry import installed_profiles

    profile = installed_profiles()["pinduoduo"]
    DECISION_FACTS, CONSEQUENCE_FACTS = profile.decision_facts, profile.consequence_fact_specs
    from refundrules._rulepack import load_rule_pack

    pack = load_rule_pack("pinduoduo")
    values = {name: parameter.value for name, parameter in pack.parameters.items()}
    units = {name: parameter.unit for name, parameter in pack.parameters.items()}
    for index, (phase, when) in enumerate(rules):
        facts = CONSEQUENCE_FACTS if phase == "consequence" else DECISION_FACTS
        check_condition(
            when, facts=facts, parameters=values, key_path=(key, index, "when"), units=units
        )


def check_yaml_snippet(data: Any) -> str:
    """Validate a documentation YAML snippet by its shape; return what it was checked as."""
    from refundrules import Case
    from refundrules._pack_model import (
        PackManifest,
        Parameter,
        PartInclude,
        PartManifest,
        PropertiesFile,
        RulesFile,
        TestsFile,
    )

    if not isinstance(data, Mapping):
        return "plain YAML"
    if {"platform", "order"} <= set(data):
        Case.model_validate(data)
        return "case"
    if set(data) == {"rules"}:
        rules_file = RulesFile.model_validate(data)
        _check_conditions([(rule.phase, rule.when) for rule in rules_file.rules])
        return "rules file"
    if set(data) == {"parameters"}:
        for raw in data["parameters"].values():
            Parameter.model_validate(raw)
        return "parameters file"
    if set(data) == {"tests"}:
        tests_file = TestsFile.model_validate(data)
        for test in tests_file.tests:
            if test.case is not None:
                Case.model_validate(test.case)
        return "tests file"
    if set(data) == {"properties"}:
        PropertiesFile.model_validate(data)
        return "properties file"
    if {"platform", "events", "facts"} <= set(data):
        from refundrules._profile import PlatformProfile

        profile = PlatformProfile.model_validate(
            {"policy": {"granted": {"refund_only": "full_refund"}}, **data}
        )
        problems = [message for message, _ in profile.problems() if "policy.granted" not in message]
        assert not problems, problems
        return "platform profile"
    if {"id", "sources"} <= set(data) and "platform" not in data:
        PartManifest.model_validate(data)
        return "part manifest"
    if set(data) == {"includes"}:
        for raw in data["includes"]:
            PartInclude.model_validate(raw)
        return "pack includes"
    if {"id", "sources"} <= set(data):
        PackManifest.model_validate(data)
        return "pack manifest"
    if set(data) == {"when"}:
        _check_conditions([("decision", data["when"])], key="when")
        return "condition"
    return "plain YAML"


@pytest.mark.parametrize(
    "block", doc_blocks("yaml", DOC_FILES + SESSION_DOCS), ids=lambda block: block.label
)
def test_yaml_block(block: Block) -> None:
    data = yaml.safe_load(block.body)
    check_yaml_snippet(data)


# --- the API reference names real attributes ---------------------------------------------

ATTRIBUTE_LIST = re.compile(r"a `(?P<type>[A-Z]\w*)` \((?P<names>`\w+`(?:[^)]*?))\)")


def test_attributes_named_in_the_api_reference_exist() -> None:
    import refundrules
    import refundrules.authoring

    text = (DOCS / "python-api.md").read_text(encoding="utf-8")
    found = list(ATTRIBUTE_LIST.finditer(text))
    assert len(found) >= 4
    missing = []
    for match in found:
        owner = getattr(refundrules, match["type"], None) or getattr(
            refundrules.authoring, match["type"]
        )
        for name in re.findall(r"`([a-z_]\w*)`", match["names"]):
            fields = getattr(owner, "model_fields", {})
            if name not in fields and not hasattr(owner, name):
                missing.append(f"{match['type']}.{name}")
    assert missing == [], f"docs/python-api.md names attributes that do not exist: {missing}"


# --- generated tables --------------------------------------------------------------------


def fact_table(phase: str) -> str:
    """The Markdown table of the declared facts of ``phase`` (``decision`` or ``consequence``)."""
    from refundrules._registry import installed_profiles

    profile = installed_profiles()["pinduoduo"]
    DECISION_FACTS, CONSEQUENCE_FACTS = profile.decision_facts, profile.consequence_fact_specs

    facts = DECISION_FACTS if phase == "decision" else CONSEQUENCE_FACTS
    rows = ["| Fact | Type | Unit | Meaning |", "| --- | --- | --- | --- |"]
    for spec in facts.values():
        kind = spec.kind
        if spec.kind == "text":
            kind = "text: " + ", ".join(f"`{value}`" for value in spec.values)
        rows.append(f"| `{spec.name}` | {kind} | {spec.unit or ''} | {spec.description} |")
    return "\n".join(rows)


def test_fact_tables_are_generated() -> None:
    text = (DOCS / "rule-packs.md").read_text(encoding="utf-8")
    tables = {match["name"]: match["table"] for match in FACT_TABLE.finditer(text)}
    assert set(tables) == {"decision", "consequence"}
    for phase, table in tables.items():
        assert table == fact_table(phase), f"the {phase} fact table is stale; run --refresh"


# --- refreshing the documented outputs ---------------------------------------------------


def _refreshed_console(body: str, scratch: Path) -> str:
    shown = []
    for command in parse_console(body):
        shown.append(_shown(command, run_command(command.text, scratch)))
    return "\n".join(shown) + "\n"


def _refresh(doc: Path, scratch_root: Path) -> Iterator[str]:
    text = doc.read_text(encoding="utf-8")
    pieces: list[str] = []
    position = 0
    for number, match in enumerate(FENCE.finditer(text)):
        if match["lang"] != "console":
            continue
        scratch = make_scratch(scratch_root / f"{doc.stem}-{number}")
        pieces += [text[position : match.start("body")], _refreshed_console(match["body"], scratch)]
        position = match.end("body")
    pieces.append(text[position:])
    refreshed = "".join(pieces)
    for phase in ("decision", "consequence"):
        refreshed = re.sub(
            rf"(<!-- begin: {phase} facts -->\n)(?:.*?\n)?(<!-- end: {phase} facts -->)",
            lambda found, phase=phase: found[1] + fact_table(phase) + "\n" + found[2],
            refreshed,
            flags=re.S,
        )
    if refreshed != text:
        doc.write_text(refreshed, encoding="utf-8")
        yield f"refreshed {doc.relative_to(ROOT)}"


def _refresh_session(doc: Path, scratch_root: Path) -> Iterator[str]:
    text = doc.read_text(encoding="utf-8")
    pieces: list[str] = []
    position = 0
    for match, shown in run_session(text, make_scratch(scratch_root / doc.stem)):
        pieces += [text[position : match.start("body")], "\n".join(shown) + "\n"]
        position = match.end("body")
    pieces.append(text[position:])
    refreshed = "".join(pieces)
    if refreshed != text:
        doc.write_text(refreshed, encoding="utf-8")
        yield f"refreshed {doc.relative_to(ROOT)}"


if __name__ == "__main__":
    import tempfile

    if sys.argv[1:] != ["--refresh"]:
        sys.exit("usage: python tests/test_docs.py --refresh")
    with tempfile.TemporaryDirectory() as scratch_root:
        for name in DOC_FILES:
            for message in _refresh(DOCS / name, Path(scratch_root)):
                print(message)
        for name in SESSION_DOCS:
            for message in _refresh_session(DOCS / name, Path(scratch_root)):
                print(message)
