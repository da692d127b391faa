import ast
import warnings
from pathlib import Path
from types import ModuleType

import pytest

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
