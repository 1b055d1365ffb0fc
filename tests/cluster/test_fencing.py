"""Fencing with a real ZooKeeper: a master that still *believes* it is active (its kazoo
lock says acquired) but whose election znode is gone cannot write: the multi-op's check
fails and nothing lands. This is the paused-master case (a GC pause or a partition ends
its session, a backup takes over, the old process wakes up before it hears of it).
"""

from __future__ import annotations

import threading

import pytest
from kazoo.client import KazooClient

from hedgerow.cluster.quorum import parse_quorum
from hedgerow.cluster.zkserver import LocalZooKeeper
from hedgerow.cluster.znode_format import MasterRecord, MetaLocation, ServerName
from hedgerow.cluster.zookeeper import ZooKeeperCoordination
from hedgerow.errors import NotLeader


def test_a_master_without_its_election_znode_cannot_write(zk_server: LocalZooKeeper) -> None:
    quorum = parse_quorum(zk_server.hosts + "/fencing")
    old = ZooKeeperCoordination(quorum, session_timeout_s=4)
    new = ZooKeeperCoordination(quorum, session_timeout_s=4)
    outsider = KazooClient(hosts=zk_server.hosts, timeout=4)
    try:
        old.connect()
        new.connect()
        outsider.start(timeout=10)
        assert old.campaign(MasterRecord(ServerName("h", 1, 1)), timeout_s=10)
        old.state_put("proc", b"old-1")
        old.publish_meta_location(MetaLocation(ServerName("rs", 1, 1)))
        elected = threading.Event()
        new.campaign_async(MasterRecord(ServerName("h", 2, 2)), elected.set)

        # the old master's session "ends" on the server without it noticing: its election
        # znode is deleted behind its back (what an expiry does to it)
        children = outsider.get_children("/fencing/master-election")
        first = min(children, key=lambda c: c[-10:])
        outsider.delete(f"/fencing/master-election/{first}")
        assert elected.wait(10)

        assert old.is_active_master()  # its local view is stale...
        with pytest.raises(NotLeader, match="nothing was written"):
            old.state_put("proc", b"old-2")  # ...but the write is fenced
        with pytest.raises(NotLeader):
            old.publish_meta_location(MetaLocation(ServerName("rs", 9, 9)))
        with pytest.raises(NotLeader):
            old.state_delete("proc")
        assert new.state_get("proc") == b"old-1"
        assert new.meta_location() == MetaLocation(ServerName("rs", 1, 1))
        new.state_put("proc", b"new-1")
        assert old.state_get("proc") == b"new-1"
    finally:
        outsider.stop()
        outsider.close()
        old.close()
        new.close()


def test_a_short_partition_suspends_mastership_without_losing_it(
    zk_server: LocalZooKeeper,
) -> None:
    """SUSPENDED: the master must not act (check_active_master raises) but keeps its
    session, and is active again when the connection comes back within the timeout."""
    from hedgerow.cluster.coordination import SessionState
    from hedgerow.errors import CoordinationConnectionLost

    from ._wait import wait_until

    c = ZooKeeperCoordination(zk_server.hosts + "/partition", session_timeout_s=4)
    seen: list[SessionState] = []
    c.add_session_listener(seen.append)
    try:
        c.connect()
        assert c.campaign(MasterRecord(ServerName("h", 1, 1)), timeout_s=10)
        zk_server.pause()
        try:
            wait_until(lambda: c.state is SessionState.SUSPENDED, what="SUSPENDED")
            assert not c.is_active_master()
            with pytest.raises(CoordinationConnectionLost, match="may still be alive"):
                c.check_active_master()
            with pytest.raises(CoordinationConnectionLost):
                c.state_put("k", b"v")
        finally:
            zk_server.resume()
        wait_until(lambda: c.state is SessionState.CONNECTED, what="CONNECTED again")
        assert c.is_active_master()
        c.state_put("k", b"v")
        assert seen == [SessionState.CONNECTED, SessionState.SUSPENDED, SessionState.CONNECTED]
    finally:
        c.close()
