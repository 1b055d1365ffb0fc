"""Fixtures for the coordination contract: the same tests against the in-process
implementation and against a real Apache ZooKeeper (``LocalZooKeeper``).

``coord`` is parametrized over both; each test gets its own cluster root, so tests never
see each other's znodes. Without ZooKeeper installed the ZooKeeper half is skipped, unless
``HEDGEROW_REQUIRE_ZOOKEEPER=1`` (scripts/test sets it, so CI fails instead).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from hedgerow.cluster.coordination import Coordination
from hedgerow.cluster.inprocess import InProcessCoordination, InProcessEnsemble
from hedgerow.cluster.quorum import Quorum, parse_quorum
from hedgerow.cluster.zkserver import LocalZooKeeper, ZooKeeperNotInstalled, expire_session
from hedgerow.cluster.zookeeper import ZooKeeperCoordination
from hedgerow.server.local_cluster import LocalCluster

# ZooKeeper grants 2..20 ticks; 200 ms ticks let a test ask for a 1 s session
TICK_MS = 200
SESSION_TIMEOUT_S = 1.0


@pytest.fixture(scope="session")
def zk_server() -> Iterator[LocalZooKeeper]:
    try:
        server = LocalZooKeeper(tick_ms=TICK_MS).start()
    except ZooKeeperNotInstalled as e:
        if os.environ.get("HEDGEROW_REQUIRE_ZOOKEEPER") == "1":
            raise
        pytest.skip(f"ZooKeeper not installed: {e}")
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Cluster:
    """Makes connected sessions on one cluster root of one backend."""

    kind: str
    new_session: Callable[[], Coordination]
    expire: Callable[[Coordination], None]
    root: str
    made: list[Coordination] = field(default_factory=list)

    def session(self) -> Coordination:
        c = self.new_session()
        c.connect(timeout_s=10)
        self.made.append(c)
        return c


@pytest.fixture(params=["inprocess", "zookeeper"])
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    root = f"/t{uuid.uuid4().hex[:12]}"
    ensemble: InProcessEnsemble | None = None
    if request.param == "inprocess":
        ensemble = InProcessEnsemble(session_timeout_s=SESSION_TIMEOUT_S)
        ens = ensemble

        def new() -> Coordination:
            return InProcessCoordination(ens, root)

        def expire(c: Coordination) -> None:
            assert isinstance(c, InProcessCoordination)
            c.expire()

    else:
        zk: LocalZooKeeper = request.getfixturevalue("zk_server")
        quorum: Quorum = parse_quorum(zk.hosts + root)

        def new() -> Coordination:
            return ZooKeeperCoordination(quorum, session_timeout_s=SESSION_TIMEOUT_S)

        def expire(c: Coordination) -> None:
            assert isinstance(c, ZooKeeperCoordination)
            expire_session(zk.hosts, c.client_id)

    cl = Cluster(request.param, new, expire, root)
    try:
        yield cl
    finally:
        for c in cl.made:
            c.close()
        if ensemble is not None:
            ensemble.close()


#: the ZooKeeper session timeout of the process-cluster tests: short, so a killed process
#: is noticed quickly
PROCESS_SESSION_S = 2.0


@pytest.fixture
def local_cluster(zk_server: LocalZooKeeper, tmp_path: Any) -> Iterator[LocalCluster]:
    """A LocalCluster (masters and region servers as processes, started by the test) on
    the shared ZooKeeper under a root of its own, so no test sees another's znodes; every
    process it started is stopped afterwards, whatever happened."""
    c = LocalCluster(
        str(tmp_path / "cluster"),
        zk=f"{zk_server.hosts}/c{uuid.uuid4().hex[:12]}",
        session_timeout_s=PROCESS_SESSION_S,
    )
    try:
        yield c
    finally:
        c.down(timeout_s=10)
