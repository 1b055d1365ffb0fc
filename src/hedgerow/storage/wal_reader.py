"""Log-file reader: checks the header, verifies records, tells torn tails from corruption.

Role: recovery. ``read_wal_dir`` yields every edit of a WAL directory in file
order (the region server replays them); ``read_log_file`` is the record-level
reader the manifest replay shares.
Format: docs/formats/wal.md#corruption-and-recovery-rules (authoritative) and
docs/formats/manifest.md#corruption-and-recovery-rules. Summary::

    header := magic:8 bytes version:u32le
    record := crc32c(type + payload):u32le len:u32le type:u8 payload
    A record is valid iff its type is expected for the file, len fits in the file
    and the crc matches.
    At an invalid record at offset p the reader scans forward byte by byte for
    the next offset q holding a valid record:
      q exists     -> corruption: CorruptionError(path, p), or with
                      skip_corruption: logged at ERROR, bytes p..q skipped
      no such q    -> the record at p is the last one; it is a torn tail
                      (bytes p..EOF dropped, warned about, not an error) iff
                        its header or payload is cut off by EOF (and the crc
                        does not match the bytes up to EOF: that would be a
                        damaged length, not a torn write), or
                        the file is zero from p, or from a 512-byte boundary
                        inside the record, to EOF (never-written sectors), or
                        lenient_tail (the WAL: see wal.md for why);
                      otherwise (a complete record that fails its check: the
                      manifest) corruption as above, skipped to EOF.
Invariants: every record yielded passed its crc; offsets are file offsets of the
record header.
Concurrency: stateless functions; a RecoveryReport is filled by one reader.
Hot path: recovery only (whole file read into memory, then sliced). The record
walk and the torn-or-corrupt verdict are the compiled core's ``scan_log``
(rust/src/wal_record.rs, same rules and messages); header checks, logging, the
report and skipping stay here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from hedgerow._core import scan_log
from hedgerow.errors import CorruptionError, FormatVersionError
from hedgerow.storage import filenames
from hedgerow.storage.fs import FileSystem
from hedgerow.storage.wal_edit import WalEdit, decode_edit
from hedgerow.storage.wal_format import (
    FILE_HEADER,
    FILE_HEADER_SIZE,
    RECORD_HEADER_SIZE,
    WAL_MAGIC,
    WAL_VERSION,
    RecordType,
)

__all__ = ["RecoveryReport", "read_log_file", "read_wal_dir", "read_wal_file"]

_log = logging.getLogger("hedgerow.wal")


@dataclass
class RecoveryReport:
    """What a recovery read found besides records: torn tails and skipped corruption."""

    files: list[str] = field(default_factory=list)
    """Files read, in order."""
    records: int = 0
    """Records yielded."""
    torn_tails: list[tuple[str, int, int]] = field(default_factory=list)
    """(path, offset, bytes dropped) per file whose end was torn."""
    skipped: list[tuple[str, int, int]] = field(default_factory=list)
    """(path, offset, bytes skipped) per corrupt region passed over (skip_corruption)."""

    @property
    def skipped_bytes(self) -> int:
        return sum(n for _, _, n in self.skipped)

    @property
    def dropped_bytes(self) -> int:
        return sum(n for _, _, n in self.torn_tails)


def read_log_file(
    fs: FileSystem,
    path: str,
    *,
    magic: bytes,
    version: int,
    record_types: frozenset[int],
    skip_corruption: bool = False,
    lenient_tail: bool = False,
    report: RecoveryReport | None = None,
    logger: logging.Logger = _log,
) -> Iterator[tuple[int, int, memoryview]]:
    """Yield ``(offset, record_type, payload)`` for each valid record of one log file.

    A bad last record is a torn tail (dropped, logged as a warning, recorded in
    ``report.torn_tails``) when it is cut off by the end of the file or the file
    is zero-filled from it to the end; a *complete* bad last record is corruption,
    unless ``lenient_tail`` (the WAL, whose tail may hold records that were never
    fsynced) also counts it as torn. Cost: reads the whole file once. Raises
    CorruptionError naming file and offset (bad magic; a bad record followed by
    valid ones, or a complete bad last record, unless ``skip_corruption``, which
    logs at ERROR and skips it) and FormatVersionError (unknown version).
    """
    if report is None:
        report = RecoveryReport()
    data = fs.read_all(path)
    report.files.append(path)
    n = len(data)
    if n < FILE_HEADER_SIZE:
        if data != magic[:n] and not (n > 8 and data.startswith(magic)):
            raise CorruptionError("not a log file: bad magic", path, 0)
        if n:
            logger.warning("%s: torn file header (%d bytes) ignored", path, n)
            report.torn_tails.append((path, 0, n))
        return
    file_magic, file_version = FILE_HEADER.unpack_from(data, 0)
    if file_magic != magic:
        raise CorruptionError(f"not a log file: bad magic {file_magic!r}", path, 0)
    if file_version != version:
        raise FormatVersionError(
            f"log file format version {file_version} is not supported (this reader knows "
            f"{version}); was it written by a newer Hedgerow?",
            path,
            8,
        )
    view = memoryview(data)
    pos = FILE_HEADER_SIZE
    hdr = RECORD_HEADER_SIZE
    types = bytes(sorted(record_types))
    while pos < n:
        # the core walks every good record up to the first bad one and classifies it
        records, stop = scan_log(data, pos, types, lenient_tail)
        for offset, rtype, end in records:
            report.records += 1
            yield offset, rtype, view[offset + hdr : end]
        if stop is None:
            return
        kind, pos, text, why, q = stop
        if kind == "torn":
            logger.warning(
                "%s: torn tail at offset %d (%s; %s), %d bytes dropped",
                path,
                pos,
                text,
                why,
                n - pos,
            )
            report.torn_tails.append((path, pos, n - pos))
            return
        if not skip_corruption:
            raise CorruptionError(text, path, pos)
        logger.error(
            "%s: CORRUPTION at offset %d (%s): skipping %d bytes to %s at offset %d; "
            "data in between is LOST",
            path,
            pos,
            text,
            q - pos,
            "the next valid record" if q < n else "the end of the file",
            q,
        )
        report.skipped.append((path, pos, q - pos))
        pos = q


_WAL_TYPES = frozenset({int(RecordType.WAL_EDIT)})


def read_wal_file(
    fs: FileSystem,
    path: str,
    *,
    skip_corruption: bool = False,
    report: RecoveryReport | None = None,
) -> Iterator[tuple[int, WalEdit]]:
    """Yield ``(offset, edit)`` for every edit of one WAL file (``read_log_file``'s rules,
    with ``lenient_tail``)."""
    for offset, _, payload in read_log_file(
        fs,
        path,
        magic=WAL_MAGIC,
        version=WAL_VERSION,
        record_types=_WAL_TYPES,
        skip_corruption=skip_corruption,
        # records after the last fsync (SYNC/ASYNC durability) may be partly written
        # garbage after a power cut: docs/formats/wal.md#corruption-and-recovery-rules
        lenient_tail=True,
        report=report,
    ):
        try:
            edit = decode_edit(payload)
        except CorruptionError as e:
            # the crc matched, so this is a writer bug or a format mismatch, not bit rot
            if not skip_corruption:
                raise CorruptionError(str(e), path, offset) from None
            _log.error("%s: undecodable edit at offset %d skipped: %s", path, offset, e)
            if report is not None:
                report.skipped.append((path, offset, len(payload)))
            continue
        yield offset, edit


def wal_file_numbers(fs: FileSystem, wal_dir: str) -> list[int]:
    """Numbers of the WAL files in ``wal_dir``, ascending (foreign names ignored)."""
    numbers = []
    for name in fs.listdir(wal_dir):
        parsed = filenames.parse_file_name(name)
        if parsed is not None and parsed[0] is filenames.FileKind.WAL:
            numbers.append(parsed[1])
    numbers.sort()
    return numbers


def read_wal_dir(
    fs: FileSystem,
    wal_dir: str,
    *,
    skip_corruption: bool = False,
    report: RecoveryReport | None = None,
    below_number: int | None = None,
) -> Iterator[tuple[str, int, WalEdit]]:
    """Yield ``(path, offset, edit)`` for every edit in ``wal_dir``, in file-number order.

    Torn tails (in any file: after a crash the next process starts a new file,
    so the torn one is no longer last) are dropped and recorded in ``report``;
    other corruption raises CorruptionError naming the file and offset, or with
    ``skip_corruption`` is logged at ERROR and skipped. ``below_number`` limits the
    read to files numbered below it (the WAL manager's pre-existing files).

    >>> from hedgerow.storage.fs import LocalFS
    >>> list(read_wal_dir(LocalFS(), "/nonexistent/wal"))
    []
    """
    for number in wal_file_numbers(fs, wal_dir):
        if below_number is not None and number >= below_number:
            break
        path = filenames.wal_file_name(wal_dir, number)
        for offset, edit in read_wal_file(fs, path, skip_corruption=skip_corruption, report=report):
            yield path, offset, edit
