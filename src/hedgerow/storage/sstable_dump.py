"""Human-readable dump of a store file: footer, properties, index and every entry.

Role: backs ``hedgerow dump storefile PATH`` (cli/dump.py) and is the first
tool to reach for when a format bug is suspected.
Format: prints docs/formats/sstable.md structures; output is for people, not parsers.
Invariants: reads through SSTableReader, so checksums are verified as it goes
(a corrupt block stops the dump with CorruptionError naming its offset).
Concurrency: no shared state.
Hot path: none.
"""

from __future__ import annotations

from typing import TextIO

from hedgerow.model.cell import KeyType
from hedgerow.model.keys import split_key
from hedgerow.storage.fs import FileSystem
from hedgerow.storage.sstable_reader import SSTableReader

__all__ = ["dump_sstable", "escape_bytes"]

_PREVIEW_BYTES = 64
_PRINTABLE = frozenset(range(0x20, 0x7F)) - {ord("\\")}


def escape_bytes(b: bytes, limit: int | None = None) -> str:
    """Printable ASCII as is, backslash and everything else as ``\\xNN``.

    >>> escape_bytes(b"a\\x00\\\\b\\xff")
    'a\\\\x00\\\\x5cb\\\\xff'
    >>> escape_bytes(b"abcdef", limit=3)
    'abc...(6 bytes)'
    """
    shown = b if limit is None else b[:limit]
    text = "".join(chr(c) if c in _PRINTABLE else f"\\x{c:02x}" for c in shown)
    if limit is not None and len(b) > limit:
        text += f"...({len(b)} bytes)"
    return text


def _type_name(t: int) -> str:
    try:
        return KeyType(t).name
    except ValueError:
        return f"UNKNOWN({t})"


def _describe_key(key: bytes) -> str:
    try:
        row, qual, ts, t, seq = split_key(key)
    except Exception:
        return f"<undecodable key {escape_bytes(key)}>"
    return f"{escape_bytes(row)}/{escape_bytes(qual)}/{ts}/{_type_name(t)}/seq={seq}"


def dump_sstable(fs: FileSystem, path: str, out: TextIO, *, values: bool = True) -> None:
    """Print ``path``'s footer, properties, index entries and every entry to ``out``.

    ``values=False`` prints value sizes only. Raises CorruptionError/FormatVersionError
    like the reader does.
    """
    reader = SSTableReader.open(fs, path, file_id=0, cache=None)
    try:
        f = reader.footer
        p = reader.properties
        out.write(f"store file {path}\n")
        out.write(
            f"footer: version={f.version} index_depth={f.index_depth} "
            f"meta={f.meta} root_index={f.index} bloom={f.bloom}\n"
        )
        out.write("properties:\n")
        for name, value in p.__dict__.items():
            if isinstance(value, bytes):
                shown = (
                    _describe_key(value) if name.endswith("_key") and value else escape_bytes(value)
                )
            else:
                shown = repr(value)
            out.write(f"  {name}: {shown}\n")
        out.write("index (level separator-key -> offset,size):\n")
        for level, key, off, size in reader.index_entries():
            indent = "  " * (f.index_depth - level + 1)
            out.write(f"{indent}L{level} {_describe_key(key)} -> {off},{size}\n")
        out.write("entries (row/qualifier/ts/type/seq = value):\n")
        count = 0
        for key, value in reader.iter_from():
            shown = escape_bytes(value, _PREVIEW_BYTES) if values else f"({len(value)} bytes)"
            out.write(f"  {_describe_key(key)} = {shown}\n")
            count += 1
        out.write(f"{count} entries\n")
    finally:
        reader.close()
