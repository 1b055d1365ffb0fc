"""Every documentation reference in the repository resolves (issue 12).

Role: checks that each relative link and each ``#anchor`` in ``README.md``, ``docs/**/*.md``
and the docstrings and comments under ``src/hedgerow`` points at a file of this repository and, when it
names an anchor, at a heading of that file.
Format: what counts as a reference:

- in Markdown, inline links ``[text](target)`` and reference definitions ``[id]: target``
  (resolved relative to the Markdown file; ``#anchor`` alone means the same file);
- in Markdown, docstrings and comments, path-shaped mentions such as ``docs/formats/rpc.md#bodies``
  or ``../shared/vision.md``: ``docs/...`` is resolved relative to the repository root,
  ``../...`` relative to the Markdown file (in Python: the repository root), so a
  reference that leaves the repository is dead;
- a bare file name such as ``wal.md`` must name a file beside the Markdown file or one
  file under ``docs/``.

URLs (``scheme:``) are not followed. Anchors use GitHub's slugs: lowercase, punctuation
other than ``-`` and ``_`` dropped, spaces to ``-``, and ``-1``, ``-2``... for repeats.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "hedgerow"
DOCS = REPO / "docs"

_INLINE = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
# a path-shaped mention: docs/..., ../..., or a bare name.md (not part of a longer path)
_MENTION = re.compile(
    r"(?<![\w./:-])((?:\.\./)+[\w./-]*\.md|docs/[\w./-]*\.md|[\w-]+\.md)(#[\w-]+)?"
)
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text (before de-duplication)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Every heading anchor of a Markdown file (headings in code fences do not count)."""
    seen: Counter[str] = Counter()
    found: set[str] = set()
    in_fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        match = None if in_fence else _HEADING.match(line)
        if match is None:
            continue
        base = slug(match.group(2))
        found.add(base if seen[base] == 0 else f"{base}-{seen[base]}")
        seen[base] += 1
    return frozenset(found)


@cache
def doc_files_named(name: str) -> tuple[Path, ...]:
    return tuple(sorted(DOCS.rglob(name)))


def check(target: str, base: Path, *, bare_ok: bool = True) -> str | None:
    """Why ``target`` (path, ``path#anchor`` or ``#anchor``) does not resolve, or None.

    ``base`` is the file a relative path starts from (its directory) or the directory
    itself; ``docs/`` paths always start at the repository root.
    """
    if _SCHEME.match(target):
        return None
    path_part, _, anchor = target.partition("#")
    start = base if base.is_dir() else base.parent
    if not path_part:
        file = base
    elif path_part.startswith("docs/"):
        file = REPO / path_part
    elif "/" not in path_part and bare_ok and not (start / path_part).exists():
        named = doc_files_named(path_part)
        if len(named) != 1:
            where = "no file" if not named else f"{len(named)} files"
            return f"{target}: {where} named {path_part} under docs/"
        file = named[0]
    else:
        file = start / path_part
    file = file.resolve()
    if not file.is_relative_to(REPO):
        return f"{target}: outside the repository ({file})"
    if not file.exists():
        return f"{target}: {file.relative_to(REPO)} does not exist"
    if anchor:
        if file.suffix != ".md":
            return f"{target}: an anchor into a file that is not Markdown"
        if anchor not in anchors(file):
            return f"{target}: no heading with anchor #{anchor} in {file.relative_to(REPO)}"
    return None


def markdown_references(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every link and path-shaped mention in a Markdown file."""
    refs: list[tuple[int, str]] = []
    in_fence = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        links = [m.group(1) for m in _INLINE.finditer(line)]
        links += [m.group(1) for m in _DEFINITION.finditer(line)]
        refs += [(number, t) for t in links]
        rest = _INLINE.sub("", line)
        refs += [(number, m.group(1) + (m.group(2) or "")) for m in _MENTION.finditer(rest)]
    return refs


def source_references(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every path-shaped mention in a module's docstrings and comments."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    refs: list[tuple[int, str]] = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            refs += [
                (token.start[0], m.group(1) + (m.group(2) or ""))
                for m in _MENTION.finditer(token.string)
            ]
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    for node in ast.walk(tree):
        if not isinstance(node, kinds) or not node.body:
            continue
        first = node.body[0]
        if not (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            continue
        for offset, line in enumerate(first.value.value.splitlines()):
            for m in _MENTION.finditer(line):
                refs.append((first.lineno + offset, m.group(1) + (m.group(2) or "")))
    return refs


MARKDOWN = [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]
PYTHON = sorted(SRC.rglob("*.py"))


def _dead(path: Path, refs: list[tuple[int, str]], base: Path) -> list[str]:
    rel = path.relative_to(REPO)
    return [f"{rel}:{line}: {why}" for line, t in refs if (why := check(t, base)) is not None]


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(REPO)))
def test_markdown_links_resolve(path: Path) -> None:
    dead = _dead(path, markdown_references(path), path)
    assert not dead, "dead links:\n" + "\n".join(dead)


@pytest.mark.parametrize("path", PYTHON, ids=lambda p: str(p.relative_to(REPO)))
def test_source_references_resolve(path: Path) -> None:
    dead = _dead(path, source_references(path), REPO)
    assert not dead, "dead references:\n" + "\n".join(dead)


def test_the_scan_finds_references() -> None:
    """Guard against a regex that silently matches nothing: the tree has many links."""
    md = sum(len(markdown_references(p)) for p in MARKDOWN)
    py = sum(len(source_references(p)) for p in PYTHON)
    assert md >= 40, md
    assert py >= 60, py


def test_slug_follows_github() -> None:
    assert slug("Limits and backpressure") == "limits-and-backpressure"
    assert slug("Answers in pieces (version 3)") == "answers-in-pieces-version-3"
    assert (
        slug("HBase Thrift1 gateway (`hedgerow thrift`)") == "hbase-thrift1-gateway-hedgerow-thrift"
    )
    assert slug("Why this format / known downsides") == "why-this-format--known-downsides"
    assert slug("Security: adding TLS") == "security-adding-tls"


def test_check_reports_what_is_wrong() -> None:
    assert check("docs/formats/rpc.md#bodies", REPO) is None
    assert check("docs/formats/rpc.md#no-such-heading", REPO) is not None
    assert check("docs/design/no-such-doc.md", REPO) is not None
    assert check("../shared/vision.md", REPO) is not None  # leaves the repository
    assert check("rpc.md", REPO / "README.md") is None  # one file of that name in docs/
    assert check("nonexistent.md", REPO / "README.md") is not None
    assert check("https://example.com/x.md#y", REPO) is None
    assert check("#layout", DOCS / "formats" / "wal.md") is None
    assert check("#nope", DOCS / "formats" / "wal.md") is not None


def test_repeated_headings_get_numbered(tmp_path: Path) -> None:
    doc = tmp_path / "d.md"
    doc.write_text("# A\n## Example\n```\n# not a heading\n```\n## Example\n")
    assert anchors(doc) == {"a", "example", "example-1"}
