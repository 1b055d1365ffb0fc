"""Cluster coordination: who is alive, who is the active master, where ``hbase:meta`` is.

Role: the ``Coordination`` protocol (``coordination.py``) with two implementations, one
in-process for embedded and standalone (``inprocess.py``) and one over Apache ZooKeeper
through kazoo (``zookeeper.py``); what each znode holds (``znode_format.py``); quorum
strings and ``hedgerow+zk://`` URLs (``quorum.py``); a real local ZooKeeper for tests
(``zkserver.py``). Design: docs/design/cluster.md; znodes: docs/formats/zookeeper.md.
"""
