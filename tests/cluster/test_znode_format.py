"""Znode records: round trips, the version check, refusal of malformed bytes, and the
examples in docs/formats/zookeeper.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgerow.cluster import znode_format as zf
from hedgerow.errors import CorruptionError, FormatVersionError, InvalidArgument

DOC = Path(__file__).parents[2] / "docs" / "formats" / "zookeeper.md"
S = zf.ServerName("10.0.0.5", 16020, 1733450000123)
RECORDS = [
    zf.ServerRecord(S, zf.ServerLoad(12, 350.5, 67108864, 1073741824), "0.1.0"),
    zf.MasterRecord(zf.ServerName("10.0.0.1", 16000, 1733449990001)),
    zf.MetaLocation(S),
    zf.ClusterIdRecord("6f1c2a0e-5b7d-4c1e-9a53-2f0d8e7b4c11"),
]
DECODERS = {
    "regionserver": zf.decode_server,
    "master": zf.decode_master,
    "meta-location": zf.decode_meta_location,
    "cluster-id": zf.decode_cluster_id,
}


def decode(data: bytes) -> object:
    return DECODERS[json.loads(data)["kind"]](data, "/x")


def test_doc_examples_are_what_the_encoder_writes() -> None:
    examples = re.findall(r"```json\n(.*?)\n```", DOC.read_text(), re.S)
    assert examples == [zf.encode(r).decode() for r in RECORDS]
    for text, record in zip(examples, RECORDS, strict=True):
        assert decode(text.encode()) == record


@given(
    st.integers(1, 65535),
    st.integers(0, 2**62),
    st.integers(0, 10**6),
    st.floats(0, 1e9, allow_nan=False),
)
def test_server_record_round_trip(port: int, start: int, regions: int, rps: float) -> None:
    rec = zf.ServerRecord(zf.ServerName("h-1.example", port, start), zf.ServerLoad(regions, rps))
    assert zf.decode_server(zf.encode(rec), "/rs/x") == rec


def test_newer_format_is_refused_naming_the_znode() -> None:
    body = json.loads(zf.encode(RECORDS[1]))
    body["format"] = 2
    with pytest.raises(FormatVersionError, match="format 2.*in /hedgerow/master-election/n"):
        zf.decode_master(json.dumps(body).encode(), "/hedgerow/master-election/n")


@pytest.mark.parametrize(
    "data, why",
    [
        (b"\xff\xfe", "UTF-8 JSON"),
        (b"not json", "UTF-8 JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"kind":"master"}', "integer 'format'"),
        (b'{"format":"1","kind":"master"}', "integer 'format'"),
        (b'{"format":1,"kind":"regionserver","host":"h","port":1,"start_code":1}', "kind"),
        (b'{"format":1,"kind":"master","host":"h","port":"1","start_code":1}', "'port'"),
        (b'{"format":1,"kind":"master","host":"h","port":true,"start_code":1}', "'port'"),
        (b'{"format":1,"kind":"master","host":"h","port":70000,"start_code":1}', "port"),
        (b'{"format":1,"kind":"master","host":"a,b","port":1,"start_code":1}', "host"),
        (b'{"format":1,"kind":"master","host":"h","port":1,"start_code":-1}', "start code"),
        (b"{" + b" " * zf.MAX_RECORD_BYTES + b"}", "over"),
    ],
)
def test_malformed_records_are_refused(data: bytes, why: str) -> None:
    with pytest.raises(CorruptionError, match=re.escape(why)) as err:
        zf.decode_master(data, "/r/master-election/n")
    assert err.value.path == "/r/master-election/n"


def test_server_record_needs_its_load_object() -> None:
    body = json.loads(zf.encode(RECORDS[0]))
    del body["load"]
    with pytest.raises(CorruptionError, match="'load'"):
        zf.decode_server(json.dumps(body).encode(), "/rs/x")


def test_unknown_fields_are_ignored() -> None:
    body = json.loads(zf.encode(RECORDS[2]))
    body["added_later"] = [1, 2]
    assert zf.decode_meta_location(json.dumps(body).encode(), "/m") == RECORDS[2]


def test_server_names() -> None:
    assert S.name == "10.0.0.5,16020,1733450000123"
    assert zf.ServerName.parse(S.name) == S
    for bad in ["h,1", "h,x,1", "h,1,2,3", ",1,2"]:
        with pytest.raises(InvalidArgument):
            zf.ServerName.parse(bad)
