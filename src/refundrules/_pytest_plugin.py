"""pytest plugin (entry point ``pytest11``): collect a rule pack's YAML tests and properties.

Any ``tests/*.yaml`` file inside a rule pack folder (one with ``pack.yaml``) becomes a pytest
file whose items are its tests; a pack's ``properties.yaml`` becomes one item per property.
The plugin is installed with refundrules but stays out of the way until a project asks for
it, with ``--refundrules`` or ``refundrules = true`` in its pytest configuration::

    pytest --refundrules rules/pinduoduo

A pack that does not load is reported once, as its error message, not once per file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from refundrules._loader import CheckedProperty, LoadedTest
from refundrules._rulepack import RulePack, load_rule_pack
from refundrules.exceptions import RulePackError

__all__ = ["pytest_addoption", "pytest_collect_file"]

_PACKS = pytest.StashKey[dict[Path, RulePack | RulePackError]]()


def _pack_for(config: pytest.Config, root: Path) -> RulePack | None:
    """The pack at ``root``; its load error is raised for the first file only, then None."""
    packs = config.stash.setdefault(_PACKS, {})
    key = root.resolve()
    if key not in packs:
        try:
            packs[key] = load_rule_pack(key)
        except RulePackError as exc:
            packs[key] = exc
            raise
    found = packs[key]
    return None if isinstance(found, RulePackError) else found


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("--refundrules") or config.getini("refundrules"))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("refundrules")
    group.addoption(
        "--refundrules",
        action="store_true",
        default=False,
        help="collect rule packs' YAML tests and properties as pytest items",
    )
    parser.addini(
        "refundrules",
        type="bool",
        default=False,
        help="collect rule packs' YAML tests and properties",
    )
    group.addoption(
        "--refundrules-examples",
        type=int,
        default=200,
        help="generated cases per declared pack property (default 200)",
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml") or not _enabled(parent.config):
        return None
    if file_path.parent.name == "tests" and (file_path.parent.parent / "pack.yaml").is_file():
        return PackTestFile.from_parent(parent, path=file_path)
    if file_path.name == "properties.yaml" and (file_path.parent / "pack.yaml").is_file():
        return PackPropertiesFile.from_parent(parent, path=file_path)
    return None


class _PackFile(pytest.File):
    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, RulePackError):
            return f"invalid rule pack: {excinfo.value}"
        return str(super().repr_failure(excinfo))


class PackTestFile(_PackFile):
    def collect(self) -> Iterator[pytest.Item]:
        pack = _pack_for(self.config, self.path.parent.parent)
        if pack is None:
            return
        for test in pack.tests:
            if Path(test.path).resolve() == self.path.resolve():
                yield PackTestItem.from_parent(self, name=test.spec.name, pack=pack, test=test)


class _PackItem(pytest.Item):
    """An item whose failure is a :class:`PackCheckFailure` report, pointing at a YAML line."""

    line: int | None = None
    kind = "pack item"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, PackCheckFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, (self.line or 1) - 1, f"{self.kind} {self.name}"


class PackTestItem(_PackItem):
    kind = "pack test"

    def __init__(self, *, pack: RulePack, test: LoadedTest, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pack = pack
        self.test = test
        self.line = test.line

    def runtest(self) -> None:
        from refundrules._pack_tests import run_pack_test

        result = run_pack_test(self.pack, self.test)
        if not result.passed:
            raise PackCheckFailure(result.report())


class PackPropertiesFile(_PackFile):
    def collect(self) -> Iterator[pytest.Item]:
        pack = _pack_for(self.config, self.path.parent)
        if pack is None:
            return
        for prop in pack.properties:
            yield PackPropertyItem.from_parent(self, name=prop.spec.id, pack=pack, prop=prop)


class PackPropertyItem(_PackItem):
    kind = "pack property"

    def __init__(self, *, pack: RulePack, prop: CheckedProperty, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pack = pack
        self.prop = prop
        self.line = prop.line

    def runtest(self) -> None:
        from refundrules._properties import check_property

        examples = int(self.config.getoption("--refundrules-examples"))
        result = check_property(self.pack, self.prop, max_examples=examples)
        if not result.passed:
            raise PackCheckFailure(result.report())


class PackCheckFailure(AssertionError):
    """A pack test or property failed; the message is the readable report."""
