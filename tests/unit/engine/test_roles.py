"""The master and region-server roles inside one Engine: assignment in meta, enable/disable
as assign/unassign, split requests from the region server, status per server."""

from __future__ import annotations

from pathlib import Path

import pytest

import hedgerow
from hedgerow.engine import Engine, EngineConfig
from hedgerow.engine.master import Master
from hedgerow.engine.meta import CLOSED, OPEN
from hedgerow.engine.regionserver import RegionServer
from hedgerow.model.mutation import Put, RowMutation
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import ColumnFamilyDescriptor, TableDescriptor


def _desc(name: str = "t") -> TableDescriptor:
    return TableDescriptor(name, {b"cf": ColumnFamilyDescriptor(b"cf")})


def _put(e: Engine, table: str, *rows: bytes) -> None:
    e.mutate(table, [RowMutation(r, (Put(b"cf", b"q", r),)) for r in rows])


def _meta_rows(e: Engine, table: str) -> dict[str, tuple[str | None, str]]:
    region_map, _ = e.meta.load()
    return {r.name: (r.server, r.state) for r in region_map.get(table, [])}


def _rows(e: Engine, table: str) -> list[bytes]:
    return [row for row, _ in e.scan(table, ScanRange(), ReadSpec())]


def test_engine_is_a_master_and_a_region_server(tmp_path: Path) -> None:
    with Engine(str(tmp_path / "db")) as e:
        assert isinstance(e.master, Master)
        assert isinstance(e.region_server, RegionServer)
        assert e.master.rs is e.region_server
        # the region server asks the master to split, and the master explains missing tables
        assert e.region_server.request_split == e.master.split_region
        e.create_table(_desc(), [b"m"])
        online = e.region_server.online("t")
        assert online is not None
        assert [r.info.name for r in online.regions] == [i.name for i in e.regions("t")]


def test_meta_records_the_hosting_server_and_follows_a_rename(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    with Engine(path) as e:
        e.create_table(_desc(), [b"m"])
        assert set(_meta_rows(e, "t").values()) == {("local", OPEN)}
        e.set_server_name("127.0.0.1:16020")
        assert set(_meta_rows(e, "t").values()) == {("127.0.0.1:16020", OPEN)}
        assert {s for _, s in e.region_locations("t")} == {"127.0.0.1:16020"}
        # regions made afterwards are recorded with the new name too
        _put(e, "t", b"a", b"b", b"c")
        e.split_region("t", split_row=b"b")
        assert set(_meta_rows(e, "t").values()) == {("127.0.0.1:16020", OPEN)}
        assert len(_meta_rows(e, "t")) == 3
    with Engine(path) as e:  # reopened embedded: meta says so again
        assert set(_meta_rows(e, "t").values()) == {("local", OPEN)}
        assert e.status()["servers"][0]["name"] == "local"


def test_disable_unassigns_and_enable_reassigns(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    with Engine(path) as e:
        e.create_table(_desc(), [b"m"])
        _put(e, "t", b"a", b"z")
        e.disable_table("t")
        assert e.region_server.online("t") is None
        assert set(_meta_rows(e, "t").values()) == {("", CLOSED)}
        assert {s for _, s in e.region_locations("t")} == {""}
        with pytest.raises(hedgerow.TableDisabled):
            e.get("t", b"a", ReadSpec())
        with pytest.raises(hedgerow.TableDisabled):
            _put(e, "t", b"b")
        assert e.status()["disabled_tables"] == ["t"]
    with Engine(path) as e:  # a disabled table stays unassigned across a restart
        assert e.region_server.online("t") is None
        assert set(_meta_rows(e, "t").values()) == {("", CLOSED)}
        e.enable_table("t")
        assert set(_meta_rows(e, "t").values()) == {("local", OPEN)}
        assert _rows(e, "t") == [b"a", b"z"]
        e.disable_table("t")
        e.truncate_table("t")  # truncating a disabled table keeps it disabled
        assert set(_meta_rows(e, "t").values()) == {("", CLOSED)}
        e.enable_table("t")
        assert _rows(e, "t") == []
        assert len(e.regions("t")) == 2


def test_alter_of_a_disabled_table_applies_at_enable(tmp_path: Path) -> None:
    with Engine(str(tmp_path / "db")) as e:
        e.create_table(
            TableDescriptor(
                "t",
                {b"cf": ColumnFamilyDescriptor(b"cf"), b"old": ColumnFamilyDescriptor(b"old")},
            )
        )
        e.mutate("t", [RowMutation(b"r", (Put(b"cf", b"q", b"1"), Put(b"old", b"q", b"2")))])
        e.disable_table("t")
        e.modify_table(_desc())
        assert e.region_server.online("t") is None
        e.enable_table("t")
        assert [(c.family, c.value) for c in e.get("t", b"r", ReadSpec())] == [(b"cf", b"1")]


def test_automatic_split_is_requested_by_the_region_server(tmp_path: Path) -> None:
    cfg = EngineConfig.from_options(
        {"background": False, "flush_size_bytes": 4096, "region_split_bytes": 16384}
    )
    with Engine(str(tmp_path / "db"), cfg) as e:
        asked: list[tuple[str, str]] = []
        split = e.master.split_region

        def request(table: str, region: str) -> object:
            asked.append((table, region))
            return split(table, region)

        e.region_server.request_split = request
        e.create_table(_desc())
        for i in range(400):
            _put(e, "t", b"row%05d" % i)
        assert asked, "the region server never asked the master for a split"
        assert len(e.regions("t")) >= 2
        assert len(_rows(e, "t")) == 400


def test_status_reports_servers_with_request_counts(tmp_path: Path) -> None:
    with Engine(str(tmp_path / "db")) as e:
        e.create_table(_desc(), [b"m"])
        _put(e, "t", b"a", b"n")
        e.get("t", b"a", ReadSpec())
        st = e.status()
        (server,) = st["servers"]
        assert server["name"] == "local" and server["regions"] == 2
        assert server["write_requests"] >= 2 and server["read_requests"] >= 1
        assert server["start_code"] > 0
        assert st["master"]["tables"] == 1
        assert {r["server"] for r in st["regions"]} == {"local"}


def test_standalone_records_its_address_as_the_region_server(tmp_path: Path) -> None:
    from hedgerow.server.standalone import StandaloneConfig, StandaloneServer

    srv = StandaloneServer(StandaloneConfig(str(tmp_path / "db"), port=0, thrift_port=None))
    srv.start()
    try:
        host, port = srv.rpc_address
        name = f"{host}:{port}"
        conn = hedgerow.connect(f"hedgerow://{name}")
        try:
            conn.create_table("t", {"cf": {}}, split_keys=[b"m"])
            st = conn.admin().status()
            assert [s["name"] for s in st["servers"]] == [name]
            assert {r["server"] for r in conn.admin().list_regions("t")} == {name}
            meta = {
                row: data[b"info:server"]
                for row, data in conn.table("hbase:meta").scan(row_prefix=b"t,")
            }
            assert len(meta) == 2 and set(meta.values()) == {name.encode()}
        finally:
            conn.close()
    finally:
        srv.stop()


def test_tiling_problem_names_gaps_and_overlaps() -> None:
    from hedgerow.engine.catalog import RegionEntry
    from hedgerow.engine.master import tiling_problem

    ok = [RegionEntry("1", b"", b"k"), RegionEntry("2", b"k", b"")]
    assert tiling_problem(ok) is None
    assert tiling_problem([]) == "no regions"
    gap = [RegionEntry("1", b"", b"k"), RegionEntry("2", b"m", b"")]
    assert "region 1 ends at b'k' but the next, 2, starts at b'm'" in str(tiling_problem(gap))
    assert "starts at b'a'" in str(tiling_problem([RegionEntry("1", b"a", b"")]))
    assert "ends at b'z'" in str(tiling_problem([RegionEntry("1", b"", b"z")]))


def test_meta_that_does_not_tile_refuses_the_open(tmp_path: Path) -> None:
    from hedgerow.engine.meta import MetaRegion

    path = str(tmp_path / "db")
    with Engine(path) as e:
        e.create_table(_desc(), [b"k", b"q"])
        middle = e.regions("t")[1]
        # what a buggy procedure could leave: the middle region's row gone from meta
        e.meta.write(remove=[MetaRegion("t", middle.name, middle.start_key, middle.end_key)])
    with pytest.raises(hedgerow.CorruptionError, match="does not tile its key space"):
        Engine(path)
