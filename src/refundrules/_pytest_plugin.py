"""pytest plugin (entry point ``pytest11``): collect a rule pack's YAML tests and properties.

Any ``tests/*.yaml`` file inside a rule pack folder (one with ``pack.yaml``) becomes a pytest
file whose items are its tests; a pack's ``properties.yaml`` becomes one item per property.
Point pytest at the pack folder (or add it to ``testpaths``) to run them::

    pytest rules/pinduoduo
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from refundrules._loader import CheckedProperty, LoadedTest
from refundrules._rulepack import RulePack, load_rule_pack

__all__ = ["pytest_addoption", "pytest_collect_file"]

_PACKS: dict[Path, RulePack] = {}


def _pack_for(root: Path) -> RulePack:
    key = root.resolve()
    if key not in _PACKS:
        _PACKS[key] = load_rule_pack(key)
    return _PACKS[key]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("refundrules")
    group.addoption(
        "--refundrules-examples",
        type=int,
        default=200,
        help="generated cases per declared pack property (default 200)",
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    if file_path.parent.name == "tests" and (file_path.parent.parent / "pack.yaml").is_file():
        return PackTestFile.from_parent(parent, path=file_path)
    if file_path.name == "properties.yaml" and (file_path.parent / "pack.yaml").is_file():
        return PackPropertiesFile.from_parent(parent, path=file_path)
    return None


class PackTestFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        pack = _pack_for(self.path.parent.parent)
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


class PackPropertiesFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        pack = _pack_for(self.path.parent)
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
