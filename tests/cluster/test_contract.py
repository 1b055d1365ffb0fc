"""The coordination contract, run against the in-process implementation and against a
real ZooKeeper (the ``cluster`` fixture): sessions, region-server registration and
watches, master election and takeover (on close, resign and session expiry), fenced
writes of the active master, the meta location, the cluster id and the master's state.

Takeover times are printed (run with ``-s``) and recorded in docs/design/cluster.md.
"""

from __future__ import annotations

import queue
import threading
import time

import pytest

from hedgerow.cluster.coordination import Coordination, SessionState
from hedgerow.cluster.znode_format import (
    MasterRecord,
    MetaLocation,
    ServerLoad,
    ServerName,
    ServerRecord,
)
from hedgerow.errors import (
    CoordinationError,
    InvalidArgument,
    NotLeader,
    SessionExpired,
)

from ._wait import wait_until
from .conftest import Cluster


def rs(port: int, regions: int = 0) -> ServerRecord:
    return ServerRecord(ServerName("127.0.0.1", port, 1000 + port), ServerLoad(regions=regions))


def master(port: int) -> MasterRecord:
    return MasterRecord(ServerName("127.0.0.1", port, 7))


def report(what: str, kind: str, seconds: float) -> None:
    print(f"\n[takeover] {what} ({kind}): {seconds * 1000:.1f} ms")


# -- sessions ----------------------------------------------------------------------------


def test_session_connects_and_closes(cluster: Cluster) -> None:
    c = cluster.session()
    assert c.state is SessionState.CONNECTED
    assert c.session_timeout_s > 0
    seen: list[SessionState] = []
    c.add_session_listener(seen.append)
    c.close()
    assert c.state is SessionState.CLOSED
    wait_until(lambda: SessionState.CLOSED in seen, what="CLOSED reported to the listener")
    with pytest.raises(CoordinationError):
        c.live_servers()
    c.close()  # idempotent


def test_connect_twice_is_refused(cluster: Cluster) -> None:
    c = cluster.session()
    with pytest.raises(CoordinationError, match="connect"):
        c.connect()


# -- region servers ----------------------------------------------------------------------


def test_register_list_update_unregister(cluster: Cluster) -> None:
    a, b = cluster.session(), cluster.session()
    a.register_server(rs(1, regions=3))
    b.register_server(rs(2))
    live = a.live_servers()
    assert [r.server.port for r in live] == [1, 2]
    assert live[0].load.regions == 3
    a.update_server(rs(1, regions=9))
    assert {r.server.port: r.load.regions for r in b.live_servers()} == {1: 9, 2: 0}
    with pytest.raises(CoordinationError, match="already registered"):
        b.register_server(rs(1))
    with pytest.raises(CoordinationError, match="not registered by this session"):
        b.update_server(rs(1))
    b.unregister_server(rs(1).server)  # not b's: nothing happens
    assert len(a.live_servers()) == 2
    a.unregister_server(rs(1).server)
    assert [r.server.port for r in b.live_servers()] == [2]


def test_registration_is_ephemeral_on_close(cluster: Cluster) -> None:
    a, watcher = cluster.session(), cluster.session()
    a.register_server(rs(1))
    assert len(watcher.live_servers()) == 1
    a.close()
    wait_until(lambda: watcher.live_servers() == [], what="registration gone after close")


def test_registration_is_ephemeral_on_expiry(cluster: Cluster) -> None:
    a, watcher = cluster.session(), cluster.session()
    lost = threading.Event()
    a.on_session_lost(lost.set)
    a.register_server(rs(1))
    cluster.expire(a)
    wait_until(lambda: watcher.live_servers() == [], what="registration gone after expiry")
    assert lost.wait(10), "session-lost callback not called"
    wait_until(lambda: a.state is SessionState.EXPIRED, what="EXPIRED state")
    with pytest.raises(SessionExpired):
        a.register_server(rs(1))


def test_watch_sees_joins_and_leaves(cluster: Cluster) -> None:
    watcher = cluster.session()
    events: queue.Queue[list[int]] = queue.Queue()
    cancel = watcher.watch_servers(lambda names: events.put([n.port for n in names]))

    def next_event_with(ports: list[int]) -> None:
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if events.get(timeout=10) == ports:
                return
        raise AssertionError(f"no watch event with {ports}")

    next_event_with([])
    a, b = cluster.session(), cluster.session()
    a.register_server(rs(1))
    next_event_with([1])
    b.register_server(rs(2))
    next_event_with([1, 2])
    cluster.expire(a)
    next_event_with([2])
    b.close()
    next_event_with([])
    cancel()


# -- master election ---------------------------------------------------------------------


def test_one_active_master_and_backups(cluster: Cluster) -> None:
    a, b, c = cluster.session(), cluster.session(), cluster.session()
    assert a.active_master() is None
    assert a.campaign(master(1), timeout_s=10)
    assert a.is_active_master()
    assert not b.campaign(master(2), timeout_s=0.3)  # a holds it
    assert not b.is_active_master()
    elected = threading.Event()
    b.campaign_async(master(2), elected.set)
    wait_until(lambda: len(a.backup_masters()) == 1, what="b queued")  # then c, behind b
    c.campaign_async(master(3), lambda: None)
    wait_until(lambda: len(a.backup_masters()) == 2, what="two backups")
    assert c.active_master() == master(1)
    assert [m.server.port for m in c.backup_masters()] == [2, 3]
    assert not elected.is_set()
    with pytest.raises(NotLeader):
        b.check_active_master()
    a.check_active_master()


@pytest.mark.parametrize("how", ["close", "resign", "expire"])
def test_backup_takes_over(cluster: Cluster, how: str) -> None:
    a, b, reader = cluster.session(), cluster.session(), cluster.session()
    assert a.campaign(master(1), timeout_s=10)
    elected = threading.Event()
    b.campaign_async(master(2), elected.set)
    wait_until(lambda: len(reader.backup_masters()) == 1, what="b waiting as backup")
    start = time.monotonic()
    if how == "close":
        a.close()
    elif how == "resign":
        a.resign()
    else:
        cluster.expire(a)
    assert elected.wait(30), f"backup not elected after {how}"
    took = time.monotonic() - start
    report(f"active master {how}", cluster.kind, took)
    assert b.is_active_master()
    assert reader.active_master() == master(2)
    assert reader.backup_masters() == []
    assert not a.is_active_master()
    if how == "expire":
        wait_until(lambda: a.state is SessionState.EXPIRED, what="old master sees EXPIRED")
        with pytest.raises(SessionExpired):
            a.check_active_master()
        with pytest.raises(SessionExpired):
            a.publish_meta_location(MetaLocation(ServerName("h", 1, 1)))
    elif how == "resign":
        with pytest.raises(NotLeader):
            a.state_put("k", b"v")
        assert a.campaign(master(1), timeout_s=0.2) is False  # b holds it now


def test_campaign_after_session_expired_raises(cluster: Cluster) -> None:
    a = cluster.session()
    cluster.expire(a)
    wait_until(lambda: a.state is SessionState.EXPIRED, what="EXPIRED")
    with pytest.raises(SessionExpired):
        a.campaign(master(1), timeout_s=1)


# -- what the active master publishes ---------------------------------------------------


def test_meta_location_only_from_the_active_master(cluster: Cluster) -> None:
    a, b = cluster.session(), cluster.session()
    assert b.meta_location() is None
    loc = MetaLocation(ServerName("127.0.0.1", 16020, 55))
    with pytest.raises(NotLeader):
        a.publish_meta_location(loc)
    assert b.meta_location() is None  # nothing was written
    assert a.campaign(master(1), timeout_s=10)
    a.publish_meta_location(loc)
    assert b.meta_location() == loc
    moved = MetaLocation(ServerName("127.0.0.1", 16021, 56))
    a.publish_meta_location(moved)
    assert b.meta_location() == moved


def test_cluster_id_first_writer_wins(cluster: Cluster) -> None:
    a, b = cluster.session(), cluster.session()
    assert a.cluster_id("id-a") == "id-a"
    assert b.cluster_id("id-b") == "id-a"


def test_master_state_area(cluster: Cluster) -> None:
    a, b = cluster.session(), cluster.session()
    with pytest.raises(NotLeader):
        a.state_put("proc-1", b"x")
    assert a.campaign(master(1), timeout_s=10)
    a.state_put("proc-1", b"\x00step=2")
    a.state_put("proc-2", b"")
    assert b.state_get("proc-1") == b"\x00step=2"
    assert b.state_keys() == ["proc-1", "proc-2"]
    a.state_put("proc-1", b"step=3")
    assert b.state_get("proc-1") == b"step=3"
    a.state_delete("proc-2")
    a.state_delete("proc-2")  # absent: no error
    assert b.state_keys() == ["proc-1"]
    assert b.state_get("nope") is None
    for bad in ["", "a/b", "..", "x" * 201]:
        with pytest.raises(InvalidArgument):
            a.state_put(bad, b"v")
    with pytest.raises(InvalidArgument, match="over"):
        a.state_put("big", b"x" * (512 * 1024 + 1))
    assert b.state_keys() == ["proc-1"]
    # a new master reads what the old one left (durable, not ephemeral)
    elected = threading.Event()
    b.campaign_async(master(2), elected.set)
    a.close()
    assert elected.wait(30)
    assert b.state_get("proc-1") == b"step=3"
    b.state_put("proc-1", b"step=4")


def test_roots_are_separate_clusters(cluster: Cluster) -> None:
    a = cluster.session()
    other_root = cluster.root + "x"
    if cluster.kind == "inprocess":
        from hedgerow.cluster.inprocess import InProcessCoordination

        assert isinstance(a, InProcessCoordination)
        other: Coordination = InProcessCoordination(a._ens, other_root)
    else:
        from hedgerow.cluster.quorum import parse_quorum
        from hedgerow.cluster.zookeeper import ZooKeeperCoordination

        assert isinstance(a, ZooKeeperCoordination)
        other = ZooKeeperCoordination(
            parse_quorum(a.quorum.connect_string + other_root), session_timeout_s=1.0
        )
    other.connect()
    cluster.made.append(other)
    a.register_server(rs(1))
    assert a.campaign(master(1), timeout_s=10)
    assert other.live_servers() == []
    assert other.active_master() is None
    assert other.campaign(master(2), timeout_s=10)  # its own election
    assert other.cluster_id("other") == "other"
    assert a.cluster_id("mine") == "mine"
