"""Fixtures for RPC tests: a fake handler and a loopback server around it, and a\n``hedgerow standalone`` server (``standalone``) for the routing tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hedgerow._core as core
from hedgerow.errors import CorruptionError, FilterSyntaxError, NotServingRegion, TableNotFound
from hedgerow.model.cell import Cell, KeyType
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.rpc import RpcServer, SocketTransport
from hedgerow.rpc import messages as m
from hedgerow.server.standalone import StandaloneConfig, StandaloneServer


def cell(row: bytes, value: bytes = b"v") -> Cell:
    return Cell(row, b"cf", b"q", 1000, KeyType.PUT, value, 7)


class FakeHandler:
    """get(row): b"sleep:<s>" sleeps, b"err:<kind>" raises, b"bug" raises KeyError,
    b"panic" panics inside the Rust core."""

    def __init__(self) -> None:
        self.scans_open = 0
        self.scans_closed = 0
        self.lock = threading.Lock()
        self.calls = 0

    def table_names(self) -> list[str]:
        return ["t"]

    # one region covering table "t", as region-addressed clients (RFC 0001) expect
    def regions(self, table: str) -> list[m.RegionInfo]:
        if table != "t":
            raise TableNotFound(f"table {table!r} does not exist")
        return [m.RegionInfo("t", "0000000001", b"", b"")]

    def region_locations(self, table: str) -> list[tuple[m.RegionInfo, str]]:
        return [(r, "fake:0") for r in self.regions(table)]

    def check_region(self, table: str, region: str, rows: Any) -> None:
        if region != "0000000001":
            raise NotServingRegion(f"region {region} is not served here")

    def get(self, table: str, row: bytes, spec: ReadSpec) -> list[Cell]:
        with self.lock:
            self.calls += 1
        if table != "t":
            raise TableNotFound(f"table {table!r} does not exist")
        if row.startswith(b"sleep:"):
            time.sleep(float(row[6:]))
        elif row == b"err:corrupt":
            raise CorruptionError("bad block", path="/x/y.sst", offset=42)
        elif row == b"err:filter":
            raise FilterSyntaxError("unexpected ')'", 7)
        elif row == b"bug":
            raise KeyError("oops")
        elif row == b"panic":
            core._panic("a bug in the core")
        return [cell(row)]

    def scan(
        self, table: str, rng: ScanRange, spec: ReadSpec
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        n = int(rng.extra.get("n", 10))

        def gen() -> Iterator[tuple[bytes, list[Cell]]]:
            with self.lock:
                self.scans_open += 1
            try:
                for i in range(n):
                    r = b"r%05d" % i
                    yield r, [cell(r)]
            finally:
                with self.lock:
                    self.scans_closed += 1

        return gen()


@pytest.fixture
def handler() -> FakeHandler:
    return FakeHandler()


@pytest.fixture
def server(handler: FakeHandler) -> Iterator[RpcServer]:
    srv = RpcServer(handler, max_frame_bytes=1 << 20, lease_s=0.3, reap_interval_s=0.05)
    srv.start_in_thread()
    yield srv
    srv.stop()


@pytest.fixture
def transport(server: RpcServer) -> Iterator[SocketTransport]:
    t = SocketTransport(server.host, server.port, timeout_s=5.0)
    yield t
    t.close()


def wait_until(pred: Any, timeout_s: float = 5.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return bool(pred())


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[StandaloneServer]:
    """``hedgerow standalone`` on a free port (no Thrift), stopped after the test."""
    srv = StandaloneServer(StandaloneConfig(str(tmp_path / "db"), port=0, thrift_port=None))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
