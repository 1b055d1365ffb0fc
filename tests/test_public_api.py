"""The public API surface: hedgerow.__all__ and the error tree drawn in hedgerow/errors.py."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

import hedgerow
from hedgerow import errors

INIT = Path(hedgerow.__file__)

# the tree drawn in the docstring of src/hedgerow/errors.py: class -> parent
EXPECTED_TREE: dict[str, str | None] = {
    "HedgerowError": None,
    "InvalidArgument": "HedgerowError",
    "KeyTooLarge": "InvalidArgument",
    "CellTooLarge": "InvalidArgument",
    "NotACounter": "InvalidArgument",
    "FamilyNotFound": "InvalidArgument",
    "FilterSyntaxError": "InvalidArgument",
    "ReservedName": "InvalidArgument",
    "TableError": "HedgerowError",
    "TableNotFound": "TableError",
    "TableExists": "TableError",
    "TableDisabled": "TableError",
    "TableEnabled": "TableError",
    "StorageError": "HedgerowError",
    "CorruptionError": "StorageError",
    "FormatVersionError": "StorageError",
    "DirectoryLocked": "StorageError",
    "ClosedError": "HedgerowError",
}


def _error_classes() -> list[type[errors.HedgerowError]]:
    return [
        obj
        for obj in vars(errors).values()
        if inspect.isclass(obj) and issubclass(obj, errors.HedgerowError)
    ]


# ------------------------------------------------------------------ __all__


def test_all_is_sorted_and_unique() -> None:
    assert hedgerow.__all__ == sorted(hedgerow.__all__)
    assert len(set(hedgerow.__all__)) == len(hedgerow.__all__)


def test_every_listed_name_exists() -> None:
    for name in hedgerow.__all__:
        assert hasattr(hedgerow, name), name
    ns: dict[str, object] = {}
    exec("from hedgerow import *", ns)
    assert set(hedgerow.__all__) <= set(ns)


def _public_names_defined_in_init() -> set[str]:
    """Names bound at the top level of hedgerow/__init__.py, other than private ones and
    imports from outside the package (typing, __future__)."""
    tree = ast.parse(INIT.read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            if node.module and node.module.split(".")[0] == "hedgerow":
                names.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(
                (a.asname or a.name).split(".")[0]
                for a in node.names
                if a.name.split(".")[0] == "hedgerow"
            )
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    names.add(t.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_") or n == "__version__"} - {"__all__"}


def test_all_is_complete() -> None:
    defined = _public_names_defined_in_init()
    assert "connect" in defined and "Table" in defined  # the parser sees the module
    missing = defined - set(hedgerow.__all__)
    assert not missing, f"public names missing from hedgerow.__all__: {sorted(missing)}"
    extra = set(hedgerow.__all__) - defined
    assert not extra, f"hedgerow.__all__ lists names not defined in __init__: {sorted(extra)}"


def test_error_classes_are_exported() -> None:
    for name in EXPECTED_TREE:
        assert name in hedgerow.__all__, name
        assert getattr(hedgerow, name) is getattr(errors, name)


def test_errors_all_lists_every_error_class() -> None:
    assert {c.__name__ for c in _error_classes()} <= set(errors.__all__)
    assert errors.__all__ == sorted(errors.__all__)


# ------------------------------------------------------------------ the error tree


def _tree_from_docstring() -> dict[str, str | None]:
    """Parse the ``The tree::`` drawing in errors.py's docstring into class -> parent."""
    doc = errors.__doc__ or ""
    lines = doc.split("The tree::", 1)[1].splitlines()
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in lines:
        if not line.strip():
            if parents:
                break
            continue
        m = re.match(r"^([\s│├└─]*)([A-Za-z]\w*)", line)
        assert m, line
        depth, name = len(m.group(1)), m.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((depth, name))
    return parents


def _nearest_hedgerow_base(cls: type) -> type:
    return next(b for b in cls.__mro__[1:] if issubclass(b, errors.HedgerowError))


def test_docstring_tree_parses_and_covers_every_class() -> None:
    drawn = _tree_from_docstring()
    assert EXPECTED_TREE.items() <= drawn.items()
    assert set(drawn) == {c.__name__ for c in _error_classes()}, "tree and classes disagree"


def test_classes_added_after_this_test_follow_the_drawn_tree() -> None:
    for name, parent in _tree_from_docstring().items():
        if name in EXPECTED_TREE:
            continue  # checked one by one below
        assert parent is not None
        assert _nearest_hedgerow_base(getattr(errors, name)) is getattr(errors, parent), name


@pytest.mark.parametrize(
    ("name", "parent"),
    [pytest.param(n, p) for n, p in EXPECTED_TREE.items()],
)
def test_error_class_parent(name: str, parent: str | None) -> None:
    cls = getattr(errors, name)
    if parent is None:
        assert cls is errors.HedgerowError
        assert issubclass(cls, Exception)
    else:
        assert _nearest_hedgerow_base(cls) is getattr(errors, parent)
        assert issubclass(cls, getattr(errors, parent))
        assert issubclass(cls, errors.HedgerowError)
    # no class sits in two branches of the tree
    for other in EXPECTED_TREE:
        if other == name:
            continue
        expected_sub = other in _ancestors(name)
        assert issubclass(cls, getattr(errors, other)) == expected_sub, (name, other)


def _ancestors(name: str) -> set[str]:
    out: set[str] = set()
    p = EXPECTED_TREE[name]
    while p is not None:
        out.add(p)
        p = EXPECTED_TREE[p]
    return out


def test_builtin_compatibility_bases() -> None:
    # callers that catch ValueError / KeyError keep working
    assert issubclass(hedgerow.InvalidArgument, ValueError)
    assert issubclass(hedgerow.TableNotFound, KeyError)
    assert str(hedgerow.TableNotFound("table 'x' not found")) == "table 'x' not found"


def test_error_codes_are_unique_and_registered() -> None:
    classes = _error_classes()
    codes = [c.code for c in classes]
    assert all(isinstance(c, str) and c for c in codes)
    assert len(set(codes)) == len(codes), sorted(codes)
    for cls in classes:
        assert "code" in vars(cls), f"{cls.__name__} inherits its parent's code"
        assert errors.error_class_for_code(cls.code) is cls
    assert errors.error_class_for_code("NO_SUCH_CODE") is errors.HedgerowError


def test_corruption_error_names_file_and_offset() -> None:
    e = errors.CorruptionError("bad block", "/d/x.sst", 4096)
    assert str(e) == "bad block in /d/x.sst at offset 4096"
    assert (e.path, e.offset) == ("/d/x.sst", 4096)
    assert str(errors.FilterSyntaxError("unexpected ')'", 7)) == "unexpected ')' (at position 7)"
