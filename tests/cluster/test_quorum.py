"""Quorum strings (``--zk``) and ``hedgerow+zk://`` URLs: what is accepted, and a clear
error for everything else."""

from __future__ import annotations

import pytest

from hedgerow.cluster.quorum import Quorum, parse_quorum, parse_url
from hedgerow.errors import InvalidArgument


@pytest.mark.parametrize(
    "text, servers, root",
    [
        ("zk1:2181", (("zk1", 2181),), "/hedgerow"),
        ("zk1:2181,zk2:2182,zk3:2183", (("zk1", 2181), ("zk2", 2182), ("zk3", 2183)), "/hedgerow"),
        ("zk1,zk2", (("zk1", 2181), ("zk2", 2181)), "/hedgerow"),
        (" zk1:1 , zk2:2/prod", (("zk1", 1), ("zk2", 2)), "/prod"),
        ("127.0.0.1:2181/a/b-c_d.e", (("127.0.0.1", 2181),), "/a/b-c_d.e"),
        ("[::1]:2181,[fe80::1]", (("::1", 2181), ("fe80::1", 2181)), "/hedgerow"),
    ],
)
def test_accepted(text: str, servers: tuple[tuple[str, int], ...], root: str) -> None:
    q = parse_quorum(text)
    assert q == Quorum(servers, root)
    assert parse_url(q.url) == q
    assert parse_quorum(q.chrooted) == q


def test_url() -> None:
    q = parse_url("hedgerow+zk://zk1:2181,zk2:2181/hedgerow")
    assert q.servers == (("zk1", 2181), ("zk2", 2181))
    assert q.connect_string == "zk1:2181,zk2:2181"
    assert str(q) == "hedgerow+zk://zk1:2181,zk2:2181/hedgerow"


@pytest.mark.parametrize(
    "text, why",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("zk1:2181,", "empty server entry"),
        ("zk1,,zk2", "empty server entry"),
        ("zk1:0", "port '0'"),
        ("zk1:65536", "port '65536'"),
        ("zk1:", "port ''"),
        ("zk1:abc", "port 'abc'"),
        ("zk_1:2181", "not a host name"),
        ("-zk:2181", "not a host name"),
        ("::1:2181", "IPv6 address in brackets"),
        ("[::1:2181", "without ']'"),
        ("[zk1]:2181", "not an IPv6 address"),
        ("[::1]2181", "expected ':port'"),
        ("zk1:2181/", "must name a node"),
        ("zk1:2181/a//b", "segment ''"),
        ("zk1:2181/a/", "segment ''"),
        ("zk1:2181/a/../b", "segment '..'"),
        ("zk1:2181/a b", "segment 'a b'"),
        ("zk1:2181,zk1:2181", "listed twice"),
        ("zk://zk1:2181", "must start with 'hedgerow+zk://'"),
        (",".join(f"h{i}" for i in range(300)), "at most 255"),
    ],
)
def test_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(InvalidArgument, match="bad ZooKeeper quorum") as err:
        parse_quorum(text)
    assert why in str(err.value)


@pytest.mark.parametrize(
    "url, why",
    [
        ("zk1:2181", "must start with 'hedgerow+zk://'"),
        ("hedgerow://zk1:2181", "must start with 'hedgerow+zk://'"),
        ("hedgerow+zk://", "empty"),
        ("hedgerow+zk://u@zk1:2181", "no user, query or fragment"),
        ("hedgerow+zk://zk1:2181/r?x=1", "no user, query or fragment"),
        ("hedgerow+zk://zk1:99999/r", "port '99999'"),
    ],
)
def test_bad_urls(url: str, why: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_url(url)
    assert why in str(err.value)


def test_not_a_string() -> None:
    with pytest.raises(InvalidArgument, match="must be a string"):
        parse_quorum(b"zk1:2181")  # type: ignore[arg-type]
