"""VersionEdit: one manifest record (store files added/removed, flushed seq, next file number).

Role: flush and compaction build a VersionEdit and hand it to
``Manifest.apply``; manifest replay decodes them back and folds them into a
``ManifestState``.
Format: docs/formats/manifest.md#field-grammar (authoritative). Summary (msgpack map,
integer keys, use_bin_type)::

    edit      := {tag:uint => value}            (only the fields that are set)
    tag 1 ADDED_FILES       [file_meta, ...]
    tag 2 REMOVED_FILES     [[family:bin, file_number:uint], ...]
    tag 3 FLUSHED_SEQ       uint
    tag 4 NEXT_FILE_NUMBER  uint
    tag 5 REGION_INFO       map (opaque to the storage layer)
    file_meta := [family:bin, file_number:uint, size_bytes:uint, entries:uint,
                  first_key:bin, last_key:bin, min_seq:uint, max_seq:uint,
                  min_ts:int, max_ts:int]
Invariants: ``decode_version_edit(encode_version_edit(e)) == e``; an unknown tag
is a FormatVersionError (a newer writer), never silently dropped.
Concurrency: pure functions; FileMeta is immutable, a VersionEdit is owned by one thread.
Hot path: no (one record per flush or compaction).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import msgpack

from hedgerow.errors import CorruptionError, FormatVersionError

__all__ = ["FileMeta", "Tag", "VersionEdit", "decode_version_edit", "encode_version_edit"]


class Tag(IntEnum):
    """Field tags of an encoded VersionEdit. ON-DISK: never renumber; retired: (none)."""

    ADDED_FILES = 1
    """Store files that became live."""
    REMOVED_FILES = 2
    """Store files that stopped being live (compacted away)."""
    FLUSHED_SEQ = 3
    """Every edit with seq <= this is in store files (WAL replay starts after it)."""
    NEXT_FILE_NUMBER = 4
    """No committed store file has a number >= this."""
    REGION_INFO = 5
    """Opaque map owned by the region layer (start/end keys, table name ...)."""


@dataclass(frozen=True, slots=True)
class FileMeta:
    """What the manifest knows about one store file."""

    family: bytes
    file_number: int
    size_bytes: int
    entries: int
    first_key: bytes
    last_key: bytes
    min_seq: int
    max_seq: int
    min_ts: int
    max_ts: int

    def to_list(self) -> list[Any]:
        return [
            self.family,
            self.file_number,
            self.size_bytes,
            self.entries,
            self.first_key,
            self.last_key,
            self.min_seq,
            self.max_seq,
            self.min_ts,
            self.max_ts,
        ]


@dataclass(slots=True)
class VersionEdit:
    """A change to a region's set of store files and counters; fields left None are unchanged.

    Removals apply before additions.

    >>> e = VersionEdit(flushed_seq=10, removed_files=[(b"cf", 3)])
    >>> decode_version_edit(encode_version_edit(e)) == e
    True
    """

    added_files: list[FileMeta] = field(default_factory=list)
    removed_files: list[tuple[bytes, int]] = field(default_factory=list)
    flushed_seq: int | None = None
    next_file_number: int | None = None
    region_info: dict[Any, Any] | None = None


def encode_version_edit(edit: VersionEdit) -> bytes:
    """msgpack-encode ``edit`` (only the fields that are set)."""
    obj: dict[int, Any] = {}
    if edit.added_files:
        obj[Tag.ADDED_FILES] = [f.to_list() for f in edit.added_files]
    if edit.removed_files:
        obj[Tag.REMOVED_FILES] = [[fam, num] for fam, num in edit.removed_files]
    if edit.flushed_seq is not None:
        obj[Tag.FLUSHED_SEQ] = edit.flushed_seq
    if edit.next_file_number is not None:
        obj[Tag.NEXT_FILE_NUMBER] = edit.next_file_number
    if edit.region_info is not None:
        obj[Tag.REGION_INFO] = edit.region_info
    out: bytes = msgpack.packb({int(k): v for k, v in obj.items()}, use_bin_type=True)
    return out


def _uint(v: Any, what: str) -> int:
    if type(v) is not int or v < 0:
        raise ValueError(f"{what} is not a non-negative integer: {v!r}")
    return v


def _int(v: Any, what: str) -> int:
    if type(v) is not int:
        raise ValueError(f"{what} is not an integer: {v!r}")
    return v


def _bin(v: Any, what: str) -> bytes:
    if not isinstance(v, bytes):
        raise ValueError(f"{what} is not bytes: {v!r}")
    return v


def _file_meta(v: Any) -> FileMeta:
    if not isinstance(v, list) or len(v) != 10:
        raise ValueError(f"file meta is not a 10-element array: {v!r}")
    return FileMeta(
        family=_bin(v[0], "family"),
        file_number=_uint(v[1], "file_number"),
        size_bytes=_uint(v[2], "size_bytes"),
        entries=_uint(v[3], "entries"),
        first_key=_bin(v[4], "first_key"),
        last_key=_bin(v[5], "last_key"),
        min_seq=_uint(v[6], "min_seq"),
        max_seq=_uint(v[7], "max_seq"),
        min_ts=_int(v[8], "min_ts"),
        max_ts=_int(v[9], "max_ts"),
    )


def decode_version_edit(data: bytes | memoryview) -> VersionEdit:
    """Decode one edit; CorruptionError if malformed, FormatVersionError on an unknown tag."""
    try:
        obj: Any = msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as e:  # msgpack raises several unrelated types
        raise CorruptionError(f"undecodable version edit ({type(e).__name__}: {e})") from None
    if not isinstance(obj, dict):
        raise CorruptionError("version edit is not a map")
    unknown = [k for k in obj if k not in Tag._value2member_map_]
    if unknown:
        raise FormatVersionError(
            f"version edit has unknown tags {unknown}; written by a newer Hedgerow?"
        )
    edit = VersionEdit()
    try:
        for f in obj.get(Tag.ADDED_FILES, []):
            edit.added_files.append(_file_meta(f))
        for r in obj.get(Tag.REMOVED_FILES, []):
            if not isinstance(r, list) or len(r) != 2:
                raise ValueError(f"removed file is not [family, number]: {r!r}")
            edit.removed_files.append((_bin(r[0], "family"), _uint(r[1], "file_number")))
        if Tag.FLUSHED_SEQ in obj:
            edit.flushed_seq = _uint(obj[Tag.FLUSHED_SEQ], "flushed_seq")
        if Tag.NEXT_FILE_NUMBER in obj:
            edit.next_file_number = _uint(obj[Tag.NEXT_FILE_NUMBER], "next_file_number")
        if Tag.REGION_INFO in obj:
            info = obj[Tag.REGION_INFO]
            if not isinstance(info, dict):
                raise ValueError("region_info is not a map")
            edit.region_info = info
    except (TypeError, ValueError) as e:
        raise CorruptionError(f"malformed version edit: {e}") from None
    return edit
