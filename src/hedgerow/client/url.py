"""What a connect target names: a server URL or a data directory.

Role: ``hedgerow.connect``, ``hedgerow.aio.connect`` and the command line
(``hedgerow shell``, ``hedgerow thrift --connect``) call ``is_server_url`` on
their target before opening anything, so a mistyped scheme such as
``hbase://host:port`` is refused instead of becoming a local directory named
``hbase:/host:port``.
Invariants: a target is a server URL iff its scheme is ``hedgerow`` or
``hedgerow+zk`` (a cluster, found through ZooKeeper; any case); any other ``<scheme>://...`` raises ``InvalidArgument`` and
nothing is created; everything else is a directory path.
Concurrency: pure functions.
"""

from __future__ import annotations

import re

from hedgerow.errors import InvalidArgument

__all__ = ["CLUSTER_SCHEME", "SERVER_SCHEME", "is_server_url"]

#: the scheme of a Hedgerow server (``hedgerow standalone``) address
SERVER_SCHEME = "hedgerow"
#: the scheme of a cluster's address: its ZooKeeper quorum and znode root
CLUSTER_SCHEME = "hedgerow+zk"

# RFC 3986 scheme, then "://": what a user means as a URL, never a directory path
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def is_server_url(target: str) -> bool:
    """True for ``hedgerow://HOST:PORT`` and ``hedgerow+zk://ZK:PORT,.../ROOT``; False for
    a directory path.

    Raises ``InvalidArgument`` (naming the accepted forms) for a URL with any
    other scheme.

    >>> is_server_url("hedgerow://127.0.0.1:16000"), is_server_url("./data")
    (True, False)
    >>> is_server_url("hedgerow+zk://127.0.0.1:2181/hedgerow")
    True
    >>> is_server_url("hbase://127.0.0.1:16000")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hedgerow.errors.InvalidArgument: unknown scheme 'hbase' in 'hbase://127.0.0.1:16000': ...
    """
    m = _URL.match(target)
    if m is None:
        return False
    scheme = m.group(1).lower()
    if scheme in (SERVER_SCHEME, CLUSTER_SCHEME):
        return True
    hint = " (for a directory give its path without file://)" if scheme == "file" else ""
    raise InvalidArgument(
        f"unknown scheme {m.group(1)!r} in {target!r}: Hedgerow connects to "
        f"{SERVER_SCHEME}://HOST:PORT (a server, e.g. hedgerow standalone), to "
        f"{CLUSTER_SCHEME}://ZK:PORT[,ZK:PORT...]/ROOT (a cluster) or opens a "
        f"data directory given as a path, e.g. ./data{hint}; nothing was created"
    )
