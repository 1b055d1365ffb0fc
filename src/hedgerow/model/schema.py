"""Table and column-family descriptors, their defaults, and the engine's hard limits.

Role: created by ``Connection.create_table``; persisted in the catalog
(docs/formats/catalog.md); read by stores (block size, compression, bloom) and
by the read path (versions, TTL, keep-deleted-cells).
Invariants: descriptors are validated on construction and immutable after it.
Concurrency: immutable.

Defaults follow HBase's ``ColumnFamilyDescriptorBuilder``: VERSIONS 1,
MIN_VERSIONS 0, TTL forever, KEEP_DELETED_CELLS false, BLOCKSIZE 64 KiB,
COMPRESSION NONE, BLOOMFILTER ROW, IN_MEMORY false, BLOCKCACHE true.
happybase's option names (``max_versions``, ``time_to_live``,
``bloom_filter_type``, ``bloom_filter_vector_size``, ``bloom_filter_nb_hashes``,
``block_cache_enabled``, ``in_memory``, ``compression``) are accepted, and so are
HBase shell spellings (``VERSIONS``, ``TTL``, ``BLOOMFILTER`` ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from hedgerow.errors import InvalidArgument

__all__ = [
    "LIMITS",
    "canonical_option",
    "ColumnFamilyDescriptor",
    "TableDescriptor",
    "validate_table_name",
]

#: Hard limits, enforced on every write (docs/design/overview.md#data-limits).
LIMITS: dict[str, int] = {
    # HBase: row length is a short (Short.MAX_VALUE); empty rows are not allowed.
    "max_row_key_bytes": 32767,
    # HBase: hbase.server.keyvalue.maxsize default 10 MiB; configurable per connection.
    "max_cell_bytes": 10 * 1024 * 1024,
    # Qualifiers share the key with the row; keep a generous bound.
    "max_qualifier_bytes": 64 * 1024,
    # Column family names: HBase keeps them short; we cap at 200 bytes.
    "max_family_bytes": 200,
    # Mutations in one row mutation (cells + markers).
    "max_cells_per_mutation": 100_000,
}

_FOREVER = None
_COMPRESSIONS = ("none", "lz4", "zstd")
_BLOOMS = ("NONE", "ROW", "ROWCOL")
_TABLE_NAME = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9_.-]*:)?[A-Za-z0-9_][A-Za-z0-9_.-]*$")

# option aliases -> canonical field name
_ALIASES = {
    "max_versions": "max_versions",
    "versions": "max_versions",
    "min_versions": "min_versions",
    "time_to_live": "time_to_live",
    "ttl": "time_to_live",
    "keep_deleted_cells": "keep_deleted_cells",
    "block_size": "block_size",
    "blocksize": "block_size",
    "compression": "compression",
    "bloom_filter_type": "bloom_filter_type",
    "bloomfilter": "bloom_filter_type",
    "in_memory": "in_memory",
    "block_cache_enabled": "block_cache_enabled",
    "blockcache": "block_cache_enabled",
    "bloom_filter_vector_size": "bloom_filter_vector_size",
    "bloom_filter_nb_hashes": "bloom_filter_nb_hashes",
}


def _as_bool(name: str, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.upper() in ("TRUE", "FALSE"):
        return v.upper() == "TRUE"
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    raise InvalidArgument(f"column family option {name} must be a boolean, got {v!r}")


def _as_int(name: str, v: Any, minimum: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int | str):
        raise InvalidArgument(f"column family option {name} must be an integer, got {v!r}")
    try:
        n = int(v)
    except ValueError:
        raise InvalidArgument(
            f"column family option {name} must be an integer, got {v!r}"
        ) from None
    if n < minimum:
        raise InvalidArgument(f"column family option {name} must be >= {minimum}, got {n}")
    return n


@dataclass(frozen=True)
class ColumnFamilyDescriptor:
    """One column family's settings.

    >>> cf = ColumnFamilyDescriptor.from_options(b"cf", {"max_versions": 3, "TTL": 86400})
    >>> cf.max_versions, cf.time_to_live, cf.ttl_ms
    (3, 86400, 86400000)
    """

    name: bytes
    max_versions: int = 1
    min_versions: int = 0
    #: seconds; None means forever (HBase: Integer.MAX_VALUE)
    time_to_live: int | None = _FOREVER
    keep_deleted_cells: bool = False
    block_size: int = 64 * 1024
    compression: str = "none"
    bloom_filter_type: str = "ROW"
    in_memory: bool = False
    block_cache_enabled: bool = True
    #: accepted for happybase compatibility; the engine sizes blooms itself
    bloom_filter_vector_size: int = 0
    bloom_filter_nb_hashes: int = 0

    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(name, bytes) or not name:
            raise InvalidArgument("column family name must be non-empty bytes")
        if len(name) > LIMITS["max_family_bytes"]:
            raise InvalidArgument(f"column family name {name!r} is longer than 200 bytes")
        if b":" in name or name.startswith(b".") or not all(0x20 < c < 0x7F for c in name):
            raise InvalidArgument(
                f"illegal column family name {name!r}: printable ASCII only, no ':', "
                "must not start with '.'"
            )
        if self.max_versions < 1:
            raise InvalidArgument(f"max_versions must be >= 1 for family {name!r}")
        if self.min_versions < 0 or (
            self.min_versions > 0 and self.min_versions > self.max_versions
        ):
            raise InvalidArgument(
                f"min_versions ({self.min_versions}) must be between 0 and max_versions "
                f"({self.max_versions}) for family {name!r}"
            )
        if self.time_to_live is not None and self.time_to_live <= 0:
            raise InvalidArgument(f"time_to_live must be positive seconds for family {name!r}")
        if self.compression not in _COMPRESSIONS:
            raise InvalidArgument(
                f"unknown compression {self.compression!r} for family {name!r}; "
                f"expected one of {', '.join(_COMPRESSIONS)}"
            )
        if self.bloom_filter_type not in _BLOOMS:
            raise InvalidArgument(
                f"unknown bloom_filter_type {self.bloom_filter_type!r} for family {name!r}; "
                f"expected one of {', '.join(_BLOOMS)}"
            )
        if not 512 <= self.block_size <= 16 * 1024 * 1024:
            raise InvalidArgument(f"block_size must be 512 B to 16 MiB for family {name!r}")

    @property
    def ttl_ms(self) -> int | None:
        """TTL in milliseconds, or None for forever."""
        return None if self.time_to_live is None else self.time_to_live * 1000

    @classmethod
    def from_options(
        cls, name: bytes | str, options: Mapping[str, Any] | None = None
    ) -> ColumnFamilyDescriptor:
        """Build from happybase-style, HBase-shell-style or canonical option names."""
        if isinstance(name, str):
            name = name.encode()
        try:
            return cls._from_options(name, options)
        except InvalidArgument as e:
            msg = str(e)
            fam = name.decode("utf-8", "backslashreplace")
            if fam not in msg:
                raise InvalidArgument(f"{msg} (column family {fam!r})") from None
            raise

    @classmethod
    def _from_options(
        cls, name: bytes, options: Mapping[str, Any] | None
    ) -> ColumnFamilyDescriptor:
        kwargs: dict[str, Any] = {}
        for raw_key, v in (options or {}).items():
            if not isinstance(raw_key, str):
                raise InvalidArgument(f"column family option names must be strings: {raw_key!r}")
            key = _ALIASES.get(raw_key.lower())
            if key is None:
                raise InvalidArgument(
                    f"unknown column family option {raw_key!r} for family {name!r}"
                )
            if key in ("max_versions",):
                kwargs[key] = _as_int(raw_key, v, 1)
            elif key in ("min_versions", "bloom_filter_vector_size", "bloom_filter_nb_hashes"):
                kwargs[key] = _as_int(raw_key, v, 0)
            elif key == "block_size":
                kwargs[key] = _as_int(raw_key, v, 1)
            elif key == "time_to_live":
                if v is None or (isinstance(v, str) and v.upper() == "FOREVER"):
                    kwargs[key] = None
                else:
                    n = _as_int(raw_key, v, -1)
                    # HBase and happybase use Integer.MAX_VALUE (or -1) for "forever"
                    kwargs[key] = None if n in (-1, 2**31 - 1) else n
            elif key in ("keep_deleted_cells", "in_memory", "block_cache_enabled"):
                kwargs[key] = _as_bool(raw_key, v)
            elif key == "compression":
                if v is None:
                    v = "none"
                if not isinstance(v, str):
                    raise InvalidArgument(f"compression must be a string, got {v!r}")
                kwargs[key] = v.lower()
            elif key == "bloom_filter_type":
                if v is None:
                    v = "NONE"
                if not isinstance(v, str):
                    raise InvalidArgument(f"bloom_filter_type must be a string, got {v!r}")
                kwargs[key] = v.upper()
        return cls(name=name, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for the catalog (name as str)."""
        d = asdict(self)
        d["name"] = self.name.decode("ascii")
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnFamilyDescriptor:
        d = dict(d)
        d["name"] = d["name"].encode("ascii")
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


def canonical_option(name: str) -> str:
    """The descriptor field an option name (happybase, shell or canonical spelling) sets."""
    key = _ALIASES.get(name.lower()) if isinstance(name, str) else None
    if key is None:
        raise InvalidArgument(f"unknown column family option {name!r}")
    return key


def validate_table_name(name: str) -> str:
    """Check a table name against HBase's rules ([ns:]qualifier of [A-Za-z0-9_.-])."""
    if not isinstance(name, str) or not _TABLE_NAME.fullmatch(name) or len(name) > 255:
        raise InvalidArgument(
            f"illegal table name {name!r}: use letters, digits, '_', '-', '.', "
            "optionally 'namespace:' first"
        )
    return name


@dataclass(frozen=True)
class TableDescriptor:
    """A table: its name and column families (keyed by family name bytes)."""

    name: str
    families: dict[bytes, ColumnFamilyDescriptor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_table_name(self.name)
        if not self.families:
            raise InvalidArgument(f"table {self.name!r} needs at least one column family")

    def family(self, name: bytes) -> ColumnFamilyDescriptor:
        from hedgerow.errors import FamilyNotFound

        cf = self.families.get(name)
        if cf is None:
            raise FamilyNotFound(
                f"column family {name.decode('utf-8', 'backslashreplace')!r} "
                f"does not exist in table {self.name!r}"
            )
        return cf

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "families": [cf.to_dict() for cf in self.families.values()]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TableDescriptor:
        fams = [ColumnFamilyDescriptor.from_dict(x) for x in d["families"]]
        return cls(name=d["name"], families={cf.name: cf for cf in fams})
