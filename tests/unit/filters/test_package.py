"""Package hygiene: exports are complete and sorted; the package stays pure (imports)."""

from __future__ import annotations

import ast
import inspect
import pathlib
import sys

import hedgerow.model.filters as filters
from hedgerow.model.filters import Filter, FilterBase, parse_filter

PACKAGE_DIR = pathlib.Path(filters.__file__).parent
ALLOWED_PREFIXES = ("hedgerow.model.cell", "hedgerow.errors", "hedgerow.model.filters")
BANNED = {"random", "threading", "os", "time", "socket", "subprocess", "io", "pathlib"}


def test_all_is_sorted_and_complete() -> None:
    names = list(filters.__all__)
    # Constants first, then classes and functions in ASCII order (ruff RUF022 style).
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    for name in names:
        assert hasattr(filters, name), name
    # Every concrete filter class defined in the package is exported.
    for module_file in PACKAGE_DIR.glob("*.py"):
        if module_file.stem == "__init__":
            continue
        module = sys.modules[f"hedgerow.model.filters.{module_file.stem}"]
        for obj_name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, Filter)
                and obj.__module__.startswith("hedgerow.model.filters")
                and not obj_name.startswith("_")
            ):
                assert obj_name in filters.__all__, obj_name


def test_package_imports_only_model_errors_and_stdlib() -> None:
    for path in PACKAGE_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            else:
                continue
            for mod in mods:
                top = mod.split(".")[0]
                if top == "hedgerow":
                    assert mod.startswith(ALLOWED_PREFIXES), f"{path.name} imports {mod}"
                else:
                    assert top not in BANNED or (
                        path.name == "key_filters.py" and top == "random"
                    ), f"{path.name} imports {mod}"
                    # re2: the linear-time regex engine (pure computation, no I/O; issue 11 f6)
                    assert top in sys.stdlib_module_names or top in ("__future__", "re2"), (
                        f"{path.name} imports non-stdlib {mod}"
                    )


def test_every_filter_has_a_description_and_clone() -> None:
    f = parse_filter("PageFilter(1) AND SKIP KeyOnlyFilter()")
    g = f.clone()
    assert g is not f and repr(g) == repr(f)
    assert repr(FilterBase()) == "FilterBase()"
