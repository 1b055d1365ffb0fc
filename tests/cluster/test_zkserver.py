"""LocalZooKeeper: starts a real server on loopback, answers, and cleans up; clear errors
when ZooKeeper is not installed."""

from __future__ import annotations

from pathlib import Path

import pytest
from kazoo.client import KazooClient

from hedgerow.cluster import zkserver
from hedgerow.cluster.zkserver import LocalZooKeeper, ZooKeeperNotInstalled, four_letter_word


def test_start_serve_stop(zk_server: LocalZooKeeper) -> None:
    host, port = zk_server.hosts.split(":")
    assert host == "127.0.0.1"
    assert b"Mode: standalone" in four_letter_word(int(port), b"srvr")
    client = KazooClient(hosts=zk_server.hosts, timeout=5)
    client.start(timeout=10)
    try:
        assert client.exists("/zookeeper") is not None
        # the server grants what its tick allows (2..20 ticks)
        assert zk_server.min_session_timeout_s == 0.4
        assert zk_server.max_session_timeout_s == 4.0
    finally:
        client.stop()
        client.close()


def test_stop_removes_its_directory() -> None:
    try:
        zk = LocalZooKeeper(tick_ms=200).start()
    except ZooKeeperNotInstalled as e:
        pytest.skip(str(e))
    log = zk.log_path
    assert log is not None and log.parent.is_dir()
    zk.stop()
    assert not log.parent.exists()
    zk.stop()  # idempotent


def test_missing_install_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HEDGEROW_ZOOKEEPER_HOME", str(tmp_path))
    with pytest.raises(ZooKeeperNotInstalled, match="holds no zookeeper"):
        LocalZooKeeper().start()
    monkeypatch.delenv("HEDGEROW_ZOOKEEPER_HOME")
    monkeypatch.setattr(zkserver, "DEBIAN_JAR", tmp_path / "nope.jar")
    with pytest.raises(ZooKeeperNotInstalled, match="scripts/_zookeeper.sh"):
        LocalZooKeeper().start()


def test_bad_tick_is_refused() -> None:
    with pytest.raises(ValueError, match="tick_ms"):
        LocalZooKeeper(tick_ms=1)
