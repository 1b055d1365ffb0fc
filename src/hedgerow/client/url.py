"""What a connect target names: a server URL or a data directory.

Role: ``hedgerow.connect``, ``hedgerow.aio.connect`` and the command line
(``hedgerow shell``, ``hedgerow thrift --connect``) call ``is_server_url`` on
their target before opening anything, so a mistyped scheme such as
``hbase://host:port`` is refused instead of becoming a local directory named
``hbase:/host:port``.
Invariants: a target is a server URL iff its scheme is ``hedgerow``
(any case); any other ``<scheme>://...`` raises ``InvalidArgument`` and
nothing is created; everything else is a directory path.
Concurrency: pure functions.
"""

from __future__ import annotations

import re

from hedgerow.errors import InvalidArgument

__all__ = ["SERVER_SCHEME", "is_server_url"]

#: the scheme of a Hedgerow server (``hedgerow standalone``) address
SERVER_SCHEME = "hedgerow"

# RFC 3986 scheme, then "://": what a user means as a URL, never a directory path
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def is_server_url(target: str) -> bool:
    """True for ``hedgerow://HOST:PORT``; False for a directory path.

    Raises ``InvalidArgument`` (naming the accepted forms) for a URL with any
    other scheme.

    >>> is_server_url("hedgerow://127.0.0.1:16000"), is_server_url("./data")
    (True, False)
    >>> is_server_url("hbase://127.0.0.1:16000")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hedgerow.errors.InvalidArgument: unknown scheme 'hbase' in 'hbase://127.0.0.1:16000': ...
    """
    m = _URL.match(target)
    if m is None:
        return False
    scheme = m.group(1).lower()
    if scheme == SERVER_SCHEME:
        return True
    hint = " (for a directory give its path without file://)" if scheme == "file" else ""
    raise InvalidArgument(
        f"unknown scheme {m.group(1)!r} in {target!r}: Hedgerow connects to "
        f"{SERVER_SCHEME}://HOST:PORT (a server, e.g. hedgerow standalone) or opens a "
        f"data directory given as a path, e.g. ./data{hint}; nothing was created"
    )
