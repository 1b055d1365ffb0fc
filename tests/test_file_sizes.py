"""Source files stay small, or say why they are not (issue 12).

Rule: a module under ``src/hedgerow`` longer than ``MAX_LINES`` (600) lines must
say in its module docstring why it stays whole, in a sentence that starts with
the exact marker ``Stays whole:`` (at the start of a docstring line or after the
end of a previous sentence), followed by the reason, e.g.::

    Stays whole: one state machine whose transitions must be read together.

Otherwise split it along a real seam (see ``hedgerow/region/`` for mixins over
a shared core, ``hedgerow/rpc/transport.py`` for re-exports that keep old import
paths working). The marker is matched case-sensitively; a bare marker without a
reason does not count.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import hedgerow

SRC = Path(hedgerow.__file__).parent
MAX_LINES = 600
MARKER = "Stays whole:"
# the marker opens a sentence: at a line start or after ". ", followed by a reason
_MARKER_RE = re.compile(r"(?:^|[.!?]\s+)Stays whole:\s*\S+(?:\s+\S+){2,}", re.MULTILINE)


def _line_count(text: str) -> int:
    return len(text.splitlines())


def _says_why_whole(text: str) -> bool:
    doc = ast.get_docstring(ast.parse(text))
    return doc is not None and _MARKER_RE.search(doc) is not None


def oversized_without_reason(root: Path, max_lines: int = MAX_LINES) -> list[str]:
    """Paths (relative to ``root``) of modules over ``max_lines`` with no marker."""
    out = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if _line_count(text) > max_lines and not _says_why_whole(text):
            out.append(path.relative_to(root).as_posix())
    return out


def test_every_long_source_file_is_split_or_says_why_it_stays_whole() -> None:
    offenders = oversized_without_reason(SRC)
    assert not offenders, (
        f"over {MAX_LINES} lines with no {MARKER!r} sentence in the module docstring: "
        f"{offenders}; split them along a seam or say why they stay whole"
    )


def test_the_check_catches_a_long_file_and_accepts_a_reason(tmp_path: Path) -> None:
    body = "x = 1\n" * MAX_LINES
    (tmp_path / "at_limit.py").write_text('"""Short enough."""\n' + "x = 1\n" * (MAX_LINES - 1))
    (tmp_path / "long.py").write_text('"""Too long.\n\nRole: nothing.\n"""\n' + body)
    (tmp_path / "bare.py").write_text('"""Too long.\n\nStays whole:\n"""\n' + body)
    (tmp_path / "inline.py").write_text(
        '"""Too long. Stays whole: after a sentence, one loop."""\n' + body
    )
    (tmp_path / "not_docstring.py").write_text(
        '"""Too long."""\n# Stays whole: a comment is not the docstring\n' + body
    )
    (tmp_path / "whole.py").write_text(
        '"""Too long.\n\nRole: all of it.\nStays whole: one state machine read as one.\n"""\n'
        + body
    )
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.py").write_text('"""Deep."""\n' + body)
    assert oversized_without_reason(tmp_path) == [
        "bare.py",
        "long.py",
        "not_docstring.py",
        "sub/deep.py",
    ]
