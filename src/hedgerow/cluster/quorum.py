"""Where the ZooKeeper ensemble is: ``--zk host:port,...`` strings and ``hedgerow+zk://`` URLs.

Role: turns what a user types into a ``Quorum`` (servers plus the znode root every
Hedgerow znode lives under, so two clusters can share one ensemble), or raises
``InvalidArgument`` naming the problem. Used by ``cluster.zookeeper`` and, later, by the
``hedgerow master``/``regionserver`` commands and ``hedgerow.connect``.

Accepted forms (ZooKeeper's own connect-string syntax, plus an optional chroot suffix as
ZooKeeper's client accepts it: "chroot suffix" in apache/zookeeper
zookeeper-docs/src/main/resources/markdown/zookeeperProgrammers.md)::

    zk1:2181,zk2:2181,zk3:2181          root defaults to /hedgerow
    zk1:2181,zk2:2181/prod               root /prod
    zk1,zk2                              port defaults to 2181
    [::1]:2181                           IPv6 in brackets
    hedgerow+zk://zk1:2181,zk2:2181/prod the same as a URL (hedgerow.connect's address)
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from hedgerow.errors import InvalidArgument

__all__ = ["DEFAULT_PORT", "DEFAULT_ROOT", "URL_SCHEME", "Quorum", "parse_quorum", "parse_url"]

DEFAULT_PORT = 2181
DEFAULT_ROOT = "/hedgerow"
URL_SCHEME = "hedgerow+zk://"
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_ROOT_SEGMENT = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")
MAX_SERVERS = 255  # an ensemble is 3, 5 or 7 servers; more is a typo or an attack


@dataclass(frozen=True)
class Quorum:
    """The ensemble's servers (host, port) and the znode root of this cluster."""

    servers: tuple[tuple[str, int], ...]
    root: str = DEFAULT_ROOT

    @property
    def connect_string(self) -> str:
        """``host:port,...`` without the root (what ``--zk`` shows)."""
        return ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in self.servers)

    @property
    def chrooted(self) -> str:
        """``host:port,.../root``: ZooKeeper's connect string with the chroot suffix."""
        return self.connect_string + self.root

    @property
    def url(self) -> str:
        return URL_SCHEME + self.chrooted

    def __str__(self) -> str:
        return self.url


def _bad(text: str, why: str) -> InvalidArgument:
    return InvalidArgument(f"bad ZooKeeper quorum {text!r}: {why}")


def _parse_root(text: str, root: str) -> str:
    if root in ("", "/"):
        raise _bad(text, "the znode root must name a node, e.g. /hedgerow (not '/')")
    if not root.startswith("/"):
        raise _bad(text, f"the znode root {root!r} must start with '/'")
    segments = root[1:].split("/")
    for seg in segments:
        if seg in ("", ".", "..") or not _ROOT_SEGMENT.match(seg):
            raise _bad(
                text,
                f"znode root {root!r}: segment {seg!r} must be 1-200 of A-Z a-z 0-9 _ . - "
                "(no empty, '.' or '..' segments, no trailing '/')",
            )
    return root


def _parse_server(text: str, item: str) -> tuple[str, int]:
    if not item:
        raise _bad(text, "empty server entry (two commas in a row, or a trailing comma?)")
    if item.startswith("["):
        end = item.find("]")
        if end < 0:
            raise _bad(text, f"server {item!r}: '[' without ']'")
        host, rest = item[1:end], item[end + 1 :]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise _bad(text, f"server {item!r}: {host!r} is not an IPv6 address") from None
        if rest and not rest.startswith(":"):
            raise _bad(text, f"server {item!r}: expected ':port' after ']'")
        port_text = rest[1:] if rest else None
    else:
        if item.count(":") > 1:
            raise _bad(text, f"server {item!r}: write an IPv6 address in brackets, [::1]:2181")
        host, _, port_text_or_empty = item.partition(":")
        port_text = port_text_or_empty if ":" in item else None
        if not _HOSTNAME.match(host):
            raise _bad(text, f"server {item!r}: {host!r} is not a host name or IPv4 address")
    if port_text is None:
        return host, DEFAULT_PORT
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise _bad(text, f"server {item!r}: port {port_text!r} is not a number from 1 to 65535")
    return host, int(port_text)


def parse_quorum(text: str, default_root: str = DEFAULT_ROOT) -> Quorum:
    """Parse ``host[:port],...[/root]`` (``--zk``); InvalidArgument names what is wrong."""
    if not isinstance(text, str):
        raise InvalidArgument(f"ZooKeeper quorum must be a string, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise _bad(text, "it is empty; expected host:port[,host:port...][/root]")
    if "://" in stripped:
        raise _bad(text, f"a URL here must start with {URL_SCHEME!r}; or give host:port,...")
    slash = stripped.find("/")
    hosts_part, root = (
        (stripped, default_root) if slash < 0 else (stripped[:slash], stripped[slash:])
    )
    root = _parse_root(text, root)
    items = [i.strip() for i in hosts_part.split(",")]
    if len(items) > MAX_SERVERS:
        raise _bad(text, f"{len(items)} servers; at most {MAX_SERVERS}")
    servers = tuple(_parse_server(text, i) for i in items)
    if len(set(servers)) != len(servers):
        raise _bad(text, "a server is listed twice")
    return Quorum(servers, root)


def parse_url(url: str) -> Quorum:
    """Parse ``hedgerow+zk://host:port,.../root``; InvalidArgument names what is wrong."""
    if not isinstance(url, str):
        raise InvalidArgument(f"ZooKeeper URL must be a string, got {type(url).__name__}")
    if not url.startswith(URL_SCHEME):
        raise InvalidArgument(
            f"bad ZooKeeper URL {url!r}: it must start with {URL_SCHEME!r}, "
            f"e.g. {URL_SCHEME}zk1:2181,zk2:2181/hedgerow"
        )
    rest = url[len(URL_SCHEME) :]
    if "?" in rest or "#" in rest or "@" in rest:
        raise InvalidArgument(
            f"bad ZooKeeper URL {url!r}: no user, query or fragment parts are understood"
        )
    return parse_quorum(rest)
