"""``FailoverTransport``/``AsyncFailoverTransport`` (rpc/failover.py): a connection to "the
active master" follows it when the master it talks to answers NOT_LEADER or cannot be
reached, re-resolving the address (ZooKeeper in real use; a function here), and a DDL
call whose connection broke after it was sent is not repeated."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any, NoReturn, cast

import pytest

from hedgerow.client import Connection
from hedgerow.client.connection import AsyncConnection
from hedgerow.errors import NotLeader
from hedgerow.rpc import RpcBackend, RpcServer
from hedgerow.rpc.aio_client import AsyncRpcBackend
from hedgerow.rpc.failover import AsyncFailoverTransport, FailoverTransport
from hedgerow.rpc.operations import Handler


class Backup:
    """A backup master: every call is NOT_LEADER."""

    def __getattr__(self, name: str) -> Any:
        def refuse(*_a: Any, **_k: Any) -> NoReturn:
            raise NotLeader("this master is a backup")

        return refuse


class Active:
    def __init__(self) -> None:
        self.calls = 0

    def table_names(self) -> list[str]:
        self.calls += 1
        return ["t"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed: nothing listens there


@pytest.fixture
def masters() -> Iterator[tuple[tuple[str, int], tuple[str, int], Active]]:
    backup = RpcServer(cast(Handler, Backup()))
    active_h = Active()
    active = RpcServer(cast(Handler, active_h))
    b = backup.start_in_thread()
    a = active.start_in_thread()
    try:
        yield b, a, active_h
    finally:
        backup.stop()
        active.stop()


def test_not_leader_makes_the_client_look_the_master_up_again(
    masters: tuple[tuple[str, int], tuple[str, int], Active],
) -> None:
    backup, active, handler = masters
    looked_up: list[int] = []

    def resolve() -> tuple[str, int]:
        looked_up.append(1)
        return active

    t = FailoverTransport(resolve, backup, timeout_s=5.0)
    conn = Connection(RpcBackend(t))
    try:
        assert conn.tables() == [b"t"]
        assert t.address == f"{active[0]}:{active[1]}"
        assert looked_up == [1] and t.failovers == 1
        assert conn.tables() == [b"t"]  # no second lookup
        assert looked_up == [1] and handler.calls == 2
    finally:
        conn.close()


def test_an_unreachable_master_is_replaced(
    masters: tuple[tuple[str, int], tuple[str, int], Active],
) -> None:
    _, active, _ = masters
    gone = ("127.0.0.1", _free_port())
    t = FailoverTransport(lambda: active, gone, timeout_s=5.0, connect_timeout_s=1.0)
    conn = Connection(RpcBackend(t))
    try:
        assert conn.tables() == [b"t"]
    finally:
        conn.close()


def test_without_a_new_master_the_call_fails_at_its_deadline(
    masters: tuple[tuple[str, int], tuple[str, int], Active],
) -> None:
    backup, _, _ = masters
    t = FailoverTransport(lambda: backup, backup, timeout_s=0.5)
    conn = Connection(RpcBackend(t))
    try:
        with pytest.raises(NotLeader):
            conn.tables()
        assert t.failovers >= 2  # it kept asking until the deadline
    finally:
        conn.close()


def test_the_asyncio_client_follows_too(
    masters: tuple[tuple[str, int], tuple[str, int], Active],
) -> None:
    backup, active, _ = masters

    async def main() -> list[bytes]:
        t = AsyncFailoverTransport(lambda: active, backup, timeout_s=5.0)
        conn = AsyncConnection(AsyncRpcBackend(t))
        try:
            names: list[bytes] = await conn.tables()
            assert t.failovers == 1
            return names
        finally:
            await conn.close()

    assert asyncio.run(main()) == [b"t"]
