"""Every file name Hedgerow writes, and the parser GC and recovery use to read them back.

Role: the only place that builds or parses a path inside a data directory; WAL,
manifest, store and catalog code call the builders, GC and recovery call
``parse_file_name`` so that nothing deletes a file it did not name.
Format: docs/design/files.md (directory tree). Summary::

    <data>/wal/<number:012d>.log            write-ahead log file (shared by all regions)
    <data>/LOCK                             advisory lock of the data directory
    <data>/CATALOG                          table catalog
    <region>/CURRENT                        names the live manifest ("MANIFEST-000007\\n")
    <region>/MANIFEST-<number:06d>          region manifest
    <region>/<family-dir>/<number:012d>.sst store file of one column family
    <any>.tmp                               temporary file, renamed into place or deleted

    family-dir := family name with '%', '/' and '\\' written as %25, %2F, %5C
Invariants: ``parse_file_name(basename(x_file_name(d, n))) == (X, n)`` for every
kind; parsing is strict (``7.log`` is not a WAL file; only the zero-padded form is).
Concurrency: pure functions.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = [
    "CATALOG",
    "CURRENT",
    "LOCK",
    "TEMP_SUFFIX",
    "WAL_DIR",
    "FileKind",
    "catalog_file_name",
    "current_file_name",
    "family_dir",
    "family_dir_name",
    "lock_file_name",
    "manifest_file_name",
    "parse_family_dir_name",
    "parse_file_name",
    "store_file_name",
    "store_file_path",
    "temp_file_name",
    "wal_dir",
    "wal_file_name",
]

WAL_DIR = "wal"
CURRENT = "CURRENT"
LOCK = "LOCK"
CATALOG = "CATALOG"
TEMP_SUFFIX = ".tmp"


class FileKind(StrEnum):
    """What a file in a data or region directory is (a str: ``FileKind.WAL == "wal"``)."""

    WAL = "wal"
    """``<number:012d>.log`` in ``<data>/wal/``."""
    MANIFEST = "manifest"
    """``MANIFEST-<number:06d>`` in a region directory."""
    CURRENT = "current"
    """``CURRENT``: the name of the live manifest."""
    STORE_FILE = "store_file"
    """``<number:012d>.sst`` in a family directory."""
    TEMP = "temp"
    """``*.tmp``: never live; safe to delete when nothing is writing it."""
    LOCK = "lock"
    """``LOCK``: the data directory's advisory lock."""
    CATALOG = "catalog"
    """``CATALOG``: the table catalog."""


def _join(directory: str, name: str) -> str:
    if not directory:
        return name
    return directory + name if directory.endswith("/") else directory + "/" + name


def wal_dir(data_dir: str) -> str:
    """The directory holding the WAL files of a data directory."""
    return _join(data_dir, WAL_DIR)


def wal_file_name(wal_directory: str, number: int) -> str:
    """``<wal_directory>/<number:012d>.log``.

    >>> wal_file_name("/d/wal", 7)
    '/d/wal/000000000007.log'
    """
    _check_number(number)
    return _join(wal_directory, f"{number:012d}.log")


def manifest_file_name(region_dir: str, number: int) -> str:
    """``<region_dir>/MANIFEST-<number:06d>``.

    >>> manifest_file_name("/d/t/r1", 3)
    '/d/t/r1/MANIFEST-000003'
    """
    _check_number(number)
    return _join(region_dir, f"MANIFEST-{number:06d}")


def current_file_name(region_dir: str) -> str:
    """``<region_dir>/CURRENT``."""
    return _join(region_dir, CURRENT)


def lock_file_name(data_dir: str) -> str:
    """``<data_dir>/LOCK``."""
    return _join(data_dir, LOCK)


def catalog_file_name(data_dir: str) -> str:
    """``<data_dir>/CATALOG``."""
    return _join(data_dir, CATALOG)


def temp_file_name(path: str) -> str:
    """The temporary name a file is written under before being renamed to ``path``."""
    return path + TEMP_SUFFIX


def family_dir_name(family: bytes) -> str:
    """The directory name of a column family: the name itself, with ``% / \\`` escaped.

    Family names are printable ASCII without ':' that do not start with '.'
    (``model/schema.py``); '/' and '\\' are legal there but not in a path component.

    >>> family_dir_name(b"cf"), family_dir_name(b"a/b%")
    ('cf', 'a%2Fb%25')
    """
    if not family or family.startswith(b".") or not all(0x20 < c < 0x7F for c in family):
        raise ValueError(f"illegal column family name {family!r}")
    if b":" in family:
        raise ValueError(f"illegal column family name {family!r}: contains ':'")
    name = family.decode("ascii")
    return name.replace("%", "%25").replace("/", "%2F").replace("\\", "%5C")


_FAMILY_ESCAPE = re.compile(r"%(25|2F|5C)")
_UNESCAPE = {"25": "%", "2F": "/", "5C": "\\"}


def parse_family_dir_name(name: str) -> bytes | None:
    """The family a directory name stands for, or None if it is not a family directory.

    >>> parse_family_dir_name("a%2Fb%25"), parse_family_dir_name("wal.tmp%")
    (b'a/b%', None)
    """
    if "/" in name or "\\" in name:
        return None
    try:
        raw = name.encode("ascii")
    except UnicodeEncodeError:
        return None
    family = _FAMILY_ESCAPE.sub(lambda m: _UNESCAPE[m.group(1)], name)
    try:
        canonical = family_dir_name(family.encode("ascii"))
    except ValueError:
        return None
    if canonical.encode("ascii") != raw:
        return None  # e.g. a lone '%' or a lower-case escape: not a name we wrote
    return family.encode("ascii")


def family_dir(region_dir: str, family: bytes) -> str:
    """``<region_dir>/<family-dir>``."""
    return _join(region_dir, family_dir_name(family))


def store_file_name(region_dir: str, family: bytes, number: int) -> str:
    """``<region_dir>/<family-dir>/<number:012d>.sst``.

    >>> store_file_name("/d/t/r1", b"cf", 42)
    '/d/t/r1/cf/000000000042.sst'
    """
    _check_number(number)
    return _join(family_dir(region_dir, family), f"{number:012d}.sst")


#: alias of ``store_file_name`` (the name the engine uses)
store_file_path = store_file_name


_PATTERNS: tuple[tuple[re.Pattern[str], FileKind, int], ...] = (
    (re.compile(r"(\d{12,})\.log"), FileKind.WAL, 12),
    (re.compile(r"(\d{12,})\.sst"), FileKind.STORE_FILE, 12),
    (re.compile(r"MANIFEST-(\d{6,})"), FileKind.MANIFEST, 6),
)
_FIXED = {CURRENT: FileKind.CURRENT, LOCK: FileKind.LOCK, CATALOG: FileKind.CATALOG}


def parse_file_name(name: str) -> tuple[FileKind, int] | None:
    """Classify a base name: ``(kind, number)``, number 0 for unnumbered kinds; None if foreign.

    >>> parse_file_name("000000000012.log")
    (<FileKind.WAL: 'wal'>, 12)
    >>> parse_file_name("MANIFEST-000003.tmp")
    (<FileKind.TEMP: 'temp'>, 0)
    >>> parse_file_name("12.log") is None
    True
    """
    if name.endswith(TEMP_SUFFIX) and len(name) > len(TEMP_SUFFIX) and "/" not in name:
        return (FileKind.TEMP, 0)
    fixed = _FIXED.get(name)
    if fixed is not None:
        return (fixed, 0)
    for pattern, kind, width in _PATTERNS:
        m = pattern.fullmatch(name)
        if m is not None:
            digits = m.group(1)
            number = int(digits)
            # strict: only the canonical zero-padded spelling is one of ours
            if digits != f"{number:0{width}d}":
                return None
            return (kind, number)
    return None


def _check_number(number: int) -> None:
    if number < 0:
        raise ValueError(f"file numbers are non-negative, got {number}")
