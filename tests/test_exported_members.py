import ast
from pathlib import Path

import refundrules
import refundrules.exceptions
import refundrules.testing


def test_all_is_exactly_the_public_surface() -> None:
    # pytest's assertion rewriting (our package ships a plugin) adds "@py_*" names.
    public = {name for name in dir(refundrules) if not name.startswith(("_", "@"))}
    submodules = {"exceptions", "testing"}
    assert public - submodules == set(refundrules.__all__)


def test_all_is_sorted() -> None:
    assert list(refundrules.__all__) == sorted(refundrules.__all__)


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
