"""How the package's modules import each other: no cycles, and the two audiences kept apart.

``refundrules.testing`` (strategies and invariants) and ``refundrules.authoring`` (diff,
coverage, declared properties, pack tests) never import each other back; both get their
strategies from ``refundrules._strategies``, which imports no tooling.
"""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import refundrules

PACKAGE = Path(refundrules.__file__).parent
MODULES = {
    ("refundrules" if path.stem == "__init__" else f"refundrules.{path.stem}"): path
    for path in sorted(PACKAGE.glob("*.py"))
}
STRATEGIES = "refundrules._strategies"
TESTING = "refundrules.testing"
AUTHORING = "refundrules.authoring"
TOOLS = (
    "refundrules._coverage",
    "refundrules._diff",
    "refundrules._pack_tests",
    "refundrules._properties",
)


@dataclass(frozen=True)
class Import:
    module: str  # a module of the package
    function: str | None  # the function the import statement is in; None at module level


def package_imports(module: str) -> list[Import]:
    """Every import of a package module in ``module``'s source, wherever it is."""
    found: list[Import] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name if function is None else function)
                continue
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                assert child.level == 0, f"{module}: relative import"
                base = child.module or ""
                names = [base, *(f"{base}.{alias.name}" for alias in child.names)]
            found.extend(Import(name, function) for name in names if name in MODULES)
            visit(child, function)

    visit(ast.parse(MODULES[module].read_text(encoding="utf-8")), None)
    return found


def imported(module: str, *, module_level_only: bool = False) -> set[str]:
    return {
        item.module
        for item in package_imports(module)
        if not (module_level_only and item.function is not None)
    }


def test_the_package_import_graph_has_no_cycle() -> None:
    # Function-level imports count too: a late import is how a cycle usually hides.
    graph = {module: imported(module) - {module} for module in MODULES}
    done: set[str] = set()

    def walk(module: str, path: tuple[str, ...]) -> None:
        if module in path:
            cycle = " -> ".join((*path[path.index(module) :], module))
            pytest.fail(f"import cycle: {cycle}")
        if module in done:
            return
        for dependency in sorted(graph[module]):
            walk(dependency, (*path, module))
        done.add(module)

    for module in MODULES:
        walk(module, ())


def test_strategies_import_no_testing_or_authoring_module() -> None:
    assert not imported(STRATEGIES) & {TESTING, AUTHORING, *TOOLS}


@pytest.mark.parametrize("module", [AUTHORING, *TOOLS])
def test_authoring_modules_never_import_testing(module: str) -> None:
    assert TESTING not in imported(module)


@pytest.mark.parametrize(
    "module", ["refundrules._coverage", "refundrules._diff", "refundrules._properties"]
)
def test_tools_take_their_strategies_from_strategies_at_module_level(module: str) -> None:
    assert STRATEGIES in imported(module, module_level_only=True)
    late = [item for item in package_imports(module) if item.function is not None]
    assert late == []


def test_testing_imports_no_authoring_module() -> None:
    assert not imported(TESTING, module_level_only=True) & {AUTHORING, *TOOLS}
    # The only way from testing to the tools: the deprecation shim for the names that moved.
    late = [item for item in package_imports(TESTING) if item.function is not None]
    assert late == [Import(AUTHORING, "__getattr__")]


@functools.cache
def loaded_after_importing(module: str) -> frozenset[str]:
    """The package modules (and whether Hypothesis) a fresh interpreter loads for ``module``."""
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        "print(json.dumps([m for m in sys.modules "
        "if m == 'hypothesis' or m.split('.')[0] == 'refundrules']))"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return frozenset(json.loads(done.stdout))


# The graph test above covers every module; these are the ones whose import order this
# layout is about (each imported first, before anything else of the package).
@pytest.mark.parametrize(
    "module", ["refundrules", "refundrules.exceptions", TESTING, AUTHORING, STRATEGIES, *TOOLS]
)
def test_public_and_tool_modules_import_first_in_a_fresh_interpreter(module: str) -> None:
    assert module in loaded_after_importing(module)


def test_importing_testing_loads_no_authoring_module() -> None:
    assert not loaded_after_importing(TESTING) & {AUTHORING, *TOOLS}


def test_importing_authoring_does_not_load_testing() -> None:
    assert TESTING not in loaded_after_importing(AUTHORING)


def test_importing_the_core_loads_neither_public_submodule_nor_hypothesis() -> None:
    # `refundrules predict` stays fast: the CLI imports the authoring tools only when needed.
    assert not loaded_after_importing("refundrules") & {
        TESTING,
        AUTHORING,
        STRATEGIES,
        "hypothesis",
    }
