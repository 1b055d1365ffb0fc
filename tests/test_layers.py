"""The layer rule: every ``hedgerow`` import in ``src/hedgerow`` is one the rule allows.

Role: one source of truth. The rule is the table under "The layer rule" in
``docs/design/overview.md`` (package -> packages it may import); this test parses that
table and checks every import statement of every module under ``src/hedgerow``, at any
depth (module level, inside functions, under ``if TYPE_CHECKING:``), absolute or relative.
Format: a module's *package* is the first directory under ``src/hedgerow`` (``storage``,
``engine``...) or, for a top-level module, its name (``errors``, ``aio``; ``__init__.py`` is
``hedgerow``, the public API). An import's target is named the same way; ``import hedgerow``
and ``from hedgerow import Connection`` target ``hedgerow``, while
``from hedgerow import errors`` targets ``errors``. A package may always import itself.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "hedgerow"
OVERVIEW = REPO / "docs" / "design" / "overview.md"
HEADING = "## The layer rule"
ANYTHING = "anything"


def parse_rule(markdown: str) -> dict[str, frozenset[str] | None]:
    """The table under ``HEADING``: package -> allowed targets (None: anything)."""
    lines = markdown.splitlines()
    start = lines.index(HEADING)
    rule: dict[str, frozenset[str] | None] = {}
    in_table = False
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if not line.startswith("|"):
            if in_table:
                break  # the first table after the heading is the rule
            continue
        in_table = True
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or set(cells[0]) <= set("-: ") or cells[0] == "package":
            continue
        names = re.findall(r"`([\w.]+)`", cells[0])
        assert len(names) == 1, f"layer table row without one package name: {line!r}"
        if cells[1] == ANYTHING:
            rule[names[0]] = None
        elif cells[1] == "nothing":
            rule[names[0]] = frozenset()
        else:
            allowed = re.findall(r"`([\w.]+)`", cells[1])
            assert allowed, f"layer table row without allowed packages: {line!r}"
            rule[names[0]] = frozenset(allowed)
    assert rule, f"no layer table under {HEADING!r} in {OVERVIEW}"
    return rule


def units(src: Path) -> set[str]:
    """Every package name the rule must cover: top-level sub-packages and modules (a
    compiled module, ``_core``, is known by its ``.pyi`` stub)."""
    found = {"hedgerow"}
    for child in src.iterdir():
        if child.is_dir() and (child / "__init__.py").exists():
            found.add(child.name)
        elif child.suffix in (".py", ".pyi") and child.stem != "__init__":
            found.add(child.stem)
    return found


def unit_of(path: Path, src: Path) -> str:
    parts = path.relative_to(src).parts
    if len(parts) > 1:
        return parts[0]
    return "hedgerow" if parts[0] == "__init__.py" else Path(parts[0]).stem


def _target(dotted: str, known: set[str]) -> str | None:
    """The package a ``hedgerow...`` module name belongs to (None: not ours)."""
    parts = dotted.split(".")
    if parts[0] != "hedgerow":
        return None
    if len(parts) == 1:
        return "hedgerow"
    return parts[1] if parts[1] in known else "hedgerow"


def imports(path: Path, src: Path, known: set[str]) -> list[tuple[int, str, str]]:
    """(line, imported module text, target package) of every hedgerow import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    # the dotted name of the file's package, for relative imports
    rel = path.relative_to(src.parent).with_suffix("")
    package = list(rel.parts if rel.name == "__init__" else rel.parts[:-1])
    if package and package[-1] == "__init__":
        package = package[:-1]
    found: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _target(alias.name, known)
                if target is not None:
                    found.append((node.lineno, alias.name, target))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module == "hedgerow":  # from hedgerow import X: X may be a package
                for alias in node.names:
                    target = alias.name if alias.name in known else "hedgerow"
                    found.append((node.lineno, f"hedgerow.{alias.name}", target))
                continue
            target = _target(module, known)
            if target is not None:
                found.append((node.lineno, module, target))
    return sorted(found)


def violations(src: Path, rule: dict[str, frozenset[str] | None]) -> list[str]:
    known = units(src)
    bad: list[str] = []
    for path in sorted(src.rglob("*.py")):
        unit = unit_of(path, src)
        if unit not in rule:
            bad.append(f"{path.relative_to(src.parent)}: package {unit!r} has no row in the table")
            continue
        allowed = rule[unit]
        for line, module, target in imports(path, src, known):
            if target == unit or allowed is None or target in allowed:
                continue
            bad.append(
                f"{path.relative_to(src.parent)}:{line}: {unit} imports {module} "
                f"({target} is not in {unit}'s row: {', '.join(sorted(allowed)) or 'nothing'})"
            )
    return bad


RULE = parse_rule(OVERVIEW.read_text(encoding="utf-8"))


def test_the_table_names_exactly_the_packages_that_exist() -> None:
    known = units(SRC)
    assert set(RULE) == known, (
        f"in the table but not in src/hedgerow: {sorted(set(RULE) - known)}; "
        f"in src/hedgerow but not in the table: {sorted(known - set(RULE))}"
    )
    for unit, allowed in RULE.items():
        assert allowed is None or allowed <= known, f"{unit}'s row names {allowed - known}"


def test_every_import_follows_the_layer_rule() -> None:
    bad = violations(SRC, RULE)
    assert not bad, "layer rule (docs/design/overview.md#the-layer-rule) broken:\n" + "\n".join(bad)


def test_the_check_sees_every_import(tmp_path: Path) -> None:
    """A forbidden import is caught wherever it hides; allowed ones pass."""
    src = tmp_path / "hedgerow"
    for pkg in ("model", "engine", "client", "gateways"):
        (src / pkg).mkdir(parents=True)
        (src / pkg / "__init__.py").write_text("")
    (src / "__init__.py").write_text("")
    (src / "errors.py").write_text("")
    (src / "client" / "table.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "import hedgerow.model.cell\n"
        "from hedgerow.errors import X\n"
        "from . import table\n"  # itself, relative
        "if TYPE_CHECKING:\n"
        "    from hedgerow.engine import Engine\n"  # 6
        "def f():\n"
        "    import hedgerow.engine.engine\n"  # 8
        "    from ..engine import Engine\n"  # 9: relative
        "    from hedgerow import engine\n"  # 10: a package by name
    )
    (src / "gateways" / "g.py").write_text("from hedgerow import Connection\nimport hedgerow\n")
    rule: dict[str, frozenset[str] | None] = {
        "hedgerow": None,
        "errors": frozenset(),
        "model": frozenset({"errors"}),
        "engine": frozenset({"model", "errors"}),
        "client": frozenset({"model", "errors"}),
        "gateways": frozenset({"hedgerow", "client"}),
    }
    bad = violations(src, rule)
    assert [b.split(": ")[0] for b in bad] == [
        f"hedgerow/client/table.py:{n}" for n in (6, 8, 9, 10)
    ]
    del rule["gateways"]
    assert "package 'gateways' has no row" in "\n".join(violations(src, rule))


def test_parse_rule_reads_the_table() -> None:
    text = (
        "# Doc\n## The layer rule\nIntro.\n\n| package | may import |\n|---|---|\n"
        "| `a` | nothing |\n| `b` | `a` |\n| `c` | anything |\n\nWhy.\n| `x` | `y` |\n"
    )
    assert parse_rule(text) == {"a": frozenset(), "b": frozenset({"a"}), "c": None}
    assert RULE["client"] is not None and "engine" not in RULE["client"]
    assert RULE["_internal"] == frozenset()


@pytest.mark.parametrize("unit", ["gateways", "client", "rpc", "shell"])
def test_the_public_side_never_imports_the_engine(unit: str) -> None:
    """The doc's promise, checked against the table itself so an edit cannot drop it."""
    allowed = RULE[unit]
    assert allowed is not None and not allowed & {"engine", "region", "storage"}
