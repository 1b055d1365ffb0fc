"""How the ``hedgerow`` command reports failures: one ``ERROR:`` line, no traceback.

Role: subcommands raise ``UsageError`` for a bad argument or option value
(``hedgerow.cli.main`` prints ``ERROR: <message>`` and exits 2) and
``CommandFailed`` for a failure at run time that they have put in words;
Hedgerow and OS errors at run time print the same one line and exit 1. ``listen_error``
turns a failed bind into a message naming the host:port and the option that
chose it, whatever wording the event loop used.
Concurrency: pure functions.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Sequence

from hedgerow.errors import InvalidArgument

__all__ = ["CommandFailed", "UsageError", "is_server_target", "listen_error"]


class UsageError(InvalidArgument):
    """The command line asks for something impossible; ``main`` exits with status 2.

    The message names the option and the bad value, e.g.
    ``--set flush_size_bytes expects an integer, got 'abc'``.
    """


class CommandFailed(Exception):
    """A failure at run time, already described for the user; ``main`` exits with status 1."""


def is_server_target(target: str, option: str) -> bool:
    """``hedgerow.client.url.is_server_url``, with a bad scheme as a ``UsageError`` naming ``option``."""
    from hedgerow.client.url import is_server_url

    try:
        return is_server_url(target)
    except InvalidArgument as e:
        raise UsageError(f"{option}: {e}") from None


def listen_error(e: OSError, host: str, listeners: Sequence[tuple[str, str, int]]) -> str:
    """A one-line message for ``e``, raised while binding one of ``listeners`` on ``host``.

    ``listeners`` are ``(what, option, port)``, e.g. ``("Hedgerow RPC", "--port",
    16000)``. For "address in use" the port that is taken is found by binding
    each again (as the servers do, with SO_REUSEADDR) and named with its
    option; port 0 (any free port) is skipped. Other errors keep their text.
    """
    if e.errno != errno.EADDRINUSE:
        return str(e)
    candidates = [(what, option, port) for what, option, port in listeners if port > 0]
    # none taken any more (freed since): name every candidate
    taken = [c for c in candidates if _in_use(host, c[2])] or candidates
    names = " or ".join(f"{host}:{port} ({what}, {option})" for what, option, port in taken)
    return f"cannot listen on {names}: address already in use (stop what listens there or choose another port)"


def _in_use(host: str, port: int) -> bool:
    """True if ``host:port`` cannot be bound now (something listens there)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError:
        return False
    for family, kind, proto, _, addr in infos:
        with socket.socket(family, kind, proto) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(addr)
            except OSError as e:
                if e.errno == errno.EADDRINUSE:
                    return True
    return False
