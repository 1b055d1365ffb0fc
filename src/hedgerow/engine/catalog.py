"""The catalog of a data directory: tables, their column families and state.

Role: the engine reads it at open and rewrites it on DDL changes (create,
delete, enable, disable, alter). The region map lives in the meta table
(hedgerow.engine.meta, docs/formats/meta.md), as HBase keeps table
descriptors beside ``hbase:meta`` rather than in it.
Format: docs/formats/catalog.md (authoritative). Summary::

    file    := magic:8 version:u32le crc32c:u32le length:u32le payload
    payload := msgpack map {"tables": [table...], "next_region_id": int}
    table   := {"descriptor": TableDescriptor.to_dict(), "enabled": bool}

Invariants: the file is replaced atomically (write ``CATALOG.tmp``, fsync,
rename, fsync the directory), so a crash leaves the old or the new catalog,
never a mix. Readers check magic, version and checksum.
Concurrency: the engine serialises catalog changes under its DDL lock.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import crc32c
import msgpack

from hedgerow._internal import failpoints
from hedgerow.errors import CorruptionError, FormatVersionError
from hedgerow.model.schema import TableDescriptor
from hedgerow.storage.fs import FileSystem

__all__ = ["CATALOG_MAGIC", "CATALOG_VERSION", "Catalog", "RegionEntry", "TableEntry"]

#: ASCII "HRWCATLG" (HedgeRoW CATaLoG), chosen for readability in hex dumps.
CATALOG_MAGIC = b"HRWCATLG"
#: 2: regions moved to the meta table (version 1 listed them here)
CATALOG_VERSION = 2
_HEADER = struct.Struct("<8sIII")


@dataclass
class RegionEntry:
    name: str
    start_key: bytes = b""
    end_key: bytes = b""


@dataclass
class TableEntry:
    descriptor: TableDescriptor
    enabled: bool = True
    #: filled from the meta table at open; not stored in the catalog file
    regions: list[RegionEntry] = field(default_factory=list)


@dataclass
class Catalog:
    tables: dict[str, TableEntry] = field(default_factory=dict)
    next_region_id: int = 1

    # ---- encoding ----------------------------------------------------------------
    def encode(self) -> bytes:
        payload = msgpack.packb(
            {
                "tables": [
                    {"descriptor": t.descriptor.to_dict(), "enabled": t.enabled}
                    for t in self.tables.values()
                ],
                "next_region_id": self.next_region_id,
            },
            use_bin_type=True,
        )
        return (
            _HEADER.pack(CATALOG_MAGIC, CATALOG_VERSION, crc32c.crc32c(payload), len(payload))
            + payload
        )

    @classmethod
    def decode(cls, data: bytes, path: str = "CATALOG") -> Catalog:
        if len(data) < _HEADER.size:
            raise CorruptionError("catalog file is truncated", path, 0)
        magic, version, crc, length = _HEADER.unpack_from(data, 0)
        if magic != CATALOG_MAGIC:
            raise CorruptionError(f"bad catalog magic {magic!r}", path, 0)
        if version != CATALOG_VERSION:
            raise FormatVersionError(
                f"catalog format version {version} is not supported (this build reads "
                f"version {CATALOG_VERSION})",
                path,
                8,
            )
        payload = data[_HEADER.size : _HEADER.size + length]
        if len(payload) != length or crc32c.crc32c(payload) != crc:
            raise CorruptionError("catalog checksum mismatch", path, _HEADER.size)
        obj: dict[str, Any] = msgpack.unpackb(payload, raw=False)
        cat = cls(next_region_id=int(obj["next_region_id"]))
        for t in obj["tables"]:
            desc = TableDescriptor.from_dict(t["descriptor"])
            cat.tables[desc.name] = TableEntry(descriptor=desc, enabled=bool(t["enabled"]))
        return cat

    # ---- persistence ---------------------------------------------------------------
    @classmethod
    def load(cls, fs: FileSystem, path: str) -> Catalog:
        if not fs.exists(path):
            return cls()
        return cls.decode(fs.read_all(path), path)

    def save(self, fs: FileSystem, path: str) -> None:
        tmp = path + ".tmp"
        f = fs.open_write(tmp)
        try:
            f.write(self.encode())
            f.sync()
        finally:
            f.close()
        failpoints.hit("engine.catalog.before_rename")
        fs.rename(tmp, path)
        failpoints.hit("engine.catalog.after_rename")
