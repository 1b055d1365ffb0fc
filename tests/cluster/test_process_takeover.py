"""Takeover when the active master's *process* dies (SIGKILL or SIGTERM), with a real
ZooKeeper: nobody closes its session, so the server expires it after the session timeout,
its ephemeral znodes (election place, region-server registration) go, and the backup in
this process is elected. The printed times are the failover detection time the cluster
design quotes (docs/design/cluster.md); they are bounded by session timeout + 3 s here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from hedgerow.cluster.quorum import parse_quorum
from hedgerow.cluster.zkserver import LocalZooKeeper
from hedgerow.cluster.znode_format import MasterRecord, ServerName
from hedgerow.cluster.zookeeper import ZooKeeperCoordination

from ._wait import wait_until

CHILD = """
import sys, time
from hedgerow.cluster.zookeeper import ZooKeeperCoordination
from hedgerow.cluster.znode_format import MasterRecord, ServerName, ServerRecord
c = ZooKeeperCoordination(sys.argv[1], session_timeout_s=float(sys.argv[2]))
c.connect()
c.register_server(ServerRecord(ServerName("127.0.0.1", 16020, 1)))
assert c.campaign(MasterRecord(ServerName("127.0.0.1", 16000, 1)), timeout_s=30)
print("elected", flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_backup_takes_over_from_a_dead_process(
    zk_server: LocalZooKeeper, sig: signal.Signals
) -> None:
    session_s = 1.0
    quorum = parse_quorum(f"{zk_server.hosts}/proc{os.getpid()}{sig.value}")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, quorum.chrooted, str(session_s)],
        stdout=subprocess.PIPE,
        text=True,
    )
    backup = ZooKeeperCoordination(quorum, session_timeout_s=session_s)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "elected"
        backup.connect()
        assert len(backup.live_servers()) == 1
        elected = threading.Event()
        backup.campaign_async(MasterRecord(ServerName("127.0.0.1", 16001, 2)), elected.set)
        wait_until(lambda: len(backup.backup_masters()) == 1, what="backup queued")
        assert not elected.is_set()

        start = time.monotonic()
        child.send_signal(sig)
        child.wait(timeout=10)
        assert elected.wait(session_s + 10), "backup not elected"
        took = time.monotonic() - start
        wait_until(lambda: backup.live_servers() == [], what="dead server's znode gone")
        print(
            f"\n[takeover] master process {sig.name} ({backup.session_timeout_s:.1f} s "
            f"session): {took * 1000:.0f} ms"
        )
        assert took < backup.session_timeout_s + 3
        assert backup.is_active_master()
        assert backup.active_master() == MasterRecord(ServerName("127.0.0.1", 16001, 2))
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
        backup.close()
