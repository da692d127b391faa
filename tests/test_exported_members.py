import ast
import dataclasses
import inspect
import typing
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel

import refundrules
import refundrules.authoring
import refundrules.exceptions
import refundrules.testing

# What refundrules.testing exported before the authoring tools moved to refundrules.authoring.
MOVED_TO_AUTHORING = (
    "CoverageReport",
    "PackDiff",
    "PackTestResult",
    "PropertyResult",
    "check_pack_properties",
    "compare_rule_packs",
    "load_replay",
    "measure_coverage",
    "run_pack_tests",
)


def test_all_is_exactly_the_public_surface() -> None:
    # pytest's assertion rewriting (our package ships a plugin) adds "@py_*" names.
    public = {name for name in dir(refundrules) if not name.startswith(("_", "@"))}
    submodules = {"authoring", "exceptions", "testing"}
    assert public - submodules == set(refundrules.__all__)


def test_all_is_sorted() -> None:
    assert list(refundrules.__all__) == sorted(refundrules.__all__)


def isort_key(name: str) -> tuple[int, str]:
    # ruff's RUF022 order: CONSTANTS, then Classes, then functions.
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


@pytest.mark.parametrize("module", [refundrules.testing, refundrules.authoring])
def test_public_submodule_all_is_sorted_and_resolves(module: ModuleType) -> None:
    names = list(module.__all__)
    assert names == sorted(names, key=isort_key)
    assert [name for name in names if not hasattr(module, name)] == []


def test_authoring_all_is_exactly_its_public_surface() -> None:
    public = {name for name in dir(refundrules.authoring) if not name.startswith(("_", "@"))}
    assert public - {"annotations"} == set(refundrules.authoring.__all__)


def test_testing_and_authoring_export_disjoint_names() -> None:
    assert not set(refundrules.testing.__all__) & set(refundrules.authoring.__all__)


@pytest.mark.parametrize("name", MOVED_TO_AUTHORING)
def test_a_moved_name_still_resolves_from_testing_with_a_deprecation_warning(name: str) -> None:
    with pytest.warns(DeprecationWarning, match=rf"from refundrules\.authoring import {name}`"):
        old = getattr(refundrules.testing, name)
    assert old is getattr(refundrules.authoring, name)
    assert name not in refundrules.testing.__all__


def test_the_deprecation_warning_points_at_the_importing_line() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from refundrules.testing import compare_rule_packs  # noqa: F401
    assert [Path(warning.filename).name for warning in caught] == [Path(__file__).name]


def test_an_unknown_testing_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'compare_rule_pack'"):
        refundrules.testing.compare_rule_pack  # noqa: B018


PUBLIC_MODULES = (refundrules, refundrules.exceptions, refundrules.testing, refundrules.authoring)


def types_in(hint: Any) -> Iterator[type]:
    """The classes a resolved annotation mentions: ``tuple[Reason, ...]``, ``Mapping[str,
    Parameter]``, ``X | None``, ``SearchStrategy[tuple[Case, datetime]]`` …"""
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return
    if origin is not None:
        if isinstance(origin, type):
            yield origin
        for arg in typing.get_args(hint):
            yield from types_in(arg)
    elif isinstance(hint, type):
        yield hint


def returned(function: Any) -> Any:
    """``function``'s resolved return annotation. Only the return: a parameter may be
    annotated with a name imported under ``TYPE_CHECKING`` alone."""
    only_return = SimpleNamespace(
        __annotations__={"return": function.__annotations__.get("return")},
        __globals__=function.__globals__,
    )
    return typing.get_type_hints(only_return)["return"]


def members(cls: type) -> Iterator[tuple[str, Any]]:
    """``(name, annotation)`` for the fields of a pydantic model or dataclass and the return
    of every public method and property the package defines on ``cls`` or its bases."""
    if issubclass(cls, BaseModel):
        for name, field in cls.model_fields.items():
            yield name, field.annotation
    elif dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            yield field.name, hints[field.name]
    for klass in cls.__mro__:
        if not klass.__module__.startswith("refundrules"):
            continue
        for name, member in vars(klass).items():
            function = member.fget if isinstance(member, property) else member
            function = getattr(function, "__func__", function)  # static and class methods
            if not name.startswith("_") and inspect.isfunction(function):
                yield f"{name}()", returned(function)


def reachable_types(module: ModuleType) -> dict[type, str]:
    """Every class of the package reachable from ``module.__all__``, with how it is reached."""
    todo: list[tuple[type, str]] = []
    for name in module.__all__:
        item = getattr(module, name)
        if isinstance(item, type):
            todo.append((item, f"{module.__name__}.{name}"))
        elif inspect.isfunction(item):
            todo += [(found, f"{module.__name__}.{name}()") for found in types_in(returned(item))]
    reached: dict[type, str] = {}
    while todo:
        cls, path = todo.pop()
        if not cls.__module__.startswith("refundrules") or cls in reached:
            continue
        reached[cls] = path
        for name, hint in members(cls):
            todo += [(found, f"{path} -> {cls.__name__}.{name}") for found in types_in(hint)]
    return reached


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda module: module.__name__)
def test_every_type_the_public_api_returns_is_exported(module: ModuleType) -> None:
    # A type is exported by the module the user imported, or by refundrules (the core).
    exported = {
        id(getattr(where, name)) for where in (module, refundrules) for name in where.__all__
    }
    missing = [
        f"{cls.__module__}.{cls.__qualname__} (reached by {path})"
        for cls, path in reachable_types(module).items()
        if id(cls) not in exported
    ]
    assert missing == []


def test_the_type_walk_reaches_fields_methods_and_nested_types() -> None:
    core = reachable_types(refundrules)
    for deep in (refundrules.SourceCitation, refundrules.RuleSpec, refundrules.Leaf):
        assert deep in core
    tools = reachable_types(refundrules.authoring)
    for deep in (refundrules.authoring.SideSummary, refundrules.authoring.Witness):
        assert deep in tools
    assert refundrules.Prediction in reachable_types(refundrules.testing)


def test_exceptions_share_one_root() -> None:
    for name in refundrules.exceptions.__all__:
        assert issubclass(getattr(refundrules.exceptions, name), refundrules.RefundRulesError)


def test_exceptions_module_imports_nothing_from_the_package() -> None:
    tree = ast.parse(Path(refundrules.exceptions.__file__).read_text(encoding="utf-8"))
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [name for name in imported if name and name.startswith("refundrules")]
