"""What each coordination znode holds: small JSON records with a format version.

Role: the one encoder/decoder of every record ``cluster.zookeeper`` and ``cluster.inprocess``
store, so both keep the same bytes. The layout and each record's fields are written down
in docs/formats/zookeeper.md; keep the two in step (tests/cluster/test_znode_format.py
checks the examples there).

Every record is a UTF-8 JSON object with ``"format": 1`` and a ``"kind"`` naming the
record. Readers refuse a newer ``format`` (FormatVersionError), a different ``kind``,
unknown-typed or missing fields, and anything over ``MAX_RECORD_BYTES`` (CorruptionError),
naming the znode. Unknown extra fields are ignored, so a later minor addition stays
readable by this version.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from hedgerow.errors import CorruptionError, FormatVersionError, InvalidArgument

__all__ = [
    "FORMAT_VERSION",
    "MAX_RECORD_BYTES",
    "ClusterIdRecord",
    "MasterRecord",
    "MetaLocation",
    "ServerLoad",
    "ServerName",
    "ServerRecord",
    "decode_cluster_id",
    "decode_master",
    "decode_meta_location",
    "decode_server",
    "encode",
]

FORMAT_VERSION = 1
MAX_RECORD_BYTES = 64 * 1024  # far below ZooKeeper's 1 MiB jute.maxbuffer
_HOST = re.compile(r"^[A-Za-z0-9_.:\[\]-]{1,255}$")


@dataclass(frozen=True, order=True)
class ServerName:
    """A server incarnation, HBase's ``host,port,startcode``: the same host and port with a
    new start code is a new server (the old one is dead)."""

    host: str
    port: int
    start_code: int

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not _HOST.match(self.host) or "," in self.host:
            raise InvalidArgument(f"bad server host {self.host!r}")
        if not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise InvalidArgument(f"bad server port {self.port!r}: must be 1-65535")
        if not isinstance(self.start_code, int) or self.start_code < 0:
            raise InvalidArgument(f"bad start code {self.start_code!r}: must be an int >= 0")

    @property
    def name(self) -> str:
        """``host,port,startcode``: the znode name under ``/rs``."""
        return f"{self.host},{self.port},{self.start_code}"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def parse(cls, name: str) -> ServerName:
        parts = name.split(",")
        if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
            raise InvalidArgument(f"bad server name {name!r}: expected host,port,startcode")
        return cls(parts[0], int(parts[1]), int(parts[2]))

    def _json(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "start_code": self.start_code}


@dataclass(frozen=True)
class ServerLoad:
    """What a region server last reported about itself (the master balances on it)."""

    regions: int = 0
    requests_per_s: float = 0.0
    memstore_bytes: int = 0
    storefile_bytes: int = 0


@dataclass(frozen=True)
class ServerRecord:
    """``/rs/<host,port,startcode>`` (ephemeral): a live region server."""

    server: ServerName
    load: ServerLoad = field(default_factory=ServerLoad)
    version: str = ""


@dataclass(frozen=True)
class MasterRecord:
    """A master contender's node under ``/master-election`` (ephemeral sequential)."""

    server: ServerName


@dataclass(frozen=True)
class MetaLocation:
    """``/meta-region-server`` (persistent): where ``hbase:meta`` is open (written by the
    active master only)."""

    server: ServerName
    region: str = "hbase:meta,,1"


@dataclass(frozen=True)
class ClusterIdRecord:
    """``/cluster-id`` (persistent): the cluster's id, made once by the first master."""

    cluster_id: str


Record = ServerRecord | MasterRecord | MetaLocation | ClusterIdRecord


def encode(record: Record) -> bytes:
    """The znode bytes of ``record`` (sorted-key JSON, format 1)."""
    body: dict[str, Any] = {"format": FORMAT_VERSION}
    match record:
        case ServerRecord(server=s, load=load, version=version):
            body |= {
                "kind": "regionserver",
                **s._json(),
                "version": version,
                "load": {
                    "regions": load.regions,
                    "requests_per_s": load.requests_per_s,
                    "memstore_bytes": load.memstore_bytes,
                    "storefile_bytes": load.storefile_bytes,
                },
            }
        case MasterRecord(server=s):
            body |= {"kind": "master", **s._json()}
        case MetaLocation(server=s, region=region):
            body |= {"kind": "meta-location", **s._json(), "region": region}
        case ClusterIdRecord(cluster_id=cid):
            body |= {"kind": "cluster-id", "cluster_id": cid}
    data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    if len(data) > MAX_RECORD_BYTES:
        raise InvalidArgument(f"znode record of {len(data)} bytes over {MAX_RECORD_BYTES}")
    return data


def _load(data: bytes, path: str, kind: str) -> dict[str, Any]:
    if not isinstance(data, bytes | bytearray):
        raise CorruptionError(f"znode data is {type(data).__name__}, not bytes", path)
    if len(data) > MAX_RECORD_BYTES:
        raise CorruptionError(f"znode record of {len(data)} bytes over {MAX_RECORD_BYTES}", path)
    try:
        body = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CorruptionError(f"znode record is not UTF-8 JSON ({e})", path) from None
    if not isinstance(body, dict):
        raise CorruptionError("znode record is not a JSON object", path)
    version = body.get("format")
    if type(version) is not int:
        raise CorruptionError("znode record has no integer 'format'", path)
    if version != FORMAT_VERSION:
        raise FormatVersionError(
            f"znode record format {version}; this reader knows {FORMAT_VERSION}", path
        )
    if body.get("kind") != kind:
        raise CorruptionError(f"znode record kind {body.get('kind')!r}, expected {kind!r}", path)
    return body


def _get(body: dict[str, Any], key: str, typ: type, path: str) -> Any:
    value = body.get(key)
    ok = isinstance(value, typ) and not (typ in (int, float) and isinstance(value, bool))
    if typ is float and type(value) is int:
        return float(value)
    if not ok:
        raise CorruptionError(f"znode record field {key!r} missing or not {typ.__name__}", path)
    return value


def _server(body: dict[str, Any], path: str) -> ServerName:
    try:
        return ServerName(
            _get(body, "host", str, path),
            _get(body, "port", int, path),
            _get(body, "start_code", int, path),
        )
    except InvalidArgument as e:
        raise CorruptionError(f"znode record: {e}", path) from None


def decode_server(data: bytes, path: str) -> ServerRecord:
    body = _load(data, path, "regionserver")
    load = body.get("load")
    if not isinstance(load, dict):
        raise CorruptionError("znode record field 'load' missing or not an object", path)
    return ServerRecord(
        _server(body, path),
        ServerLoad(
            regions=_get(load, "regions", int, path),
            requests_per_s=_get(load, "requests_per_s", float, path),
            memstore_bytes=_get(load, "memstore_bytes", int, path),
            storefile_bytes=_get(load, "storefile_bytes", int, path),
        ),
        _get(body, "version", str, path),
    )


def decode_master(data: bytes, path: str) -> MasterRecord:
    return MasterRecord(_server(_load(data, path, "master"), path))


def decode_meta_location(data: bytes, path: str) -> MetaLocation:
    body = _load(data, path, "meta-location")
    return MetaLocation(_server(body, path), _get(body, "region", str, path))


def decode_cluster_id(data: bytes, path: str) -> ClusterIdRecord:
    body = _load(data, path, "cluster-id")
    cid = _get(body, "cluster_id", str, path)
    if not cid:
        raise CorruptionError("znode record field 'cluster_id' is empty", path)
    return ClusterIdRecord(cid)
