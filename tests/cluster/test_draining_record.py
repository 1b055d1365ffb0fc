"""master-state/decommissioned (docs/formats/zookeeper.md): readers check the format."""

from __future__ import annotations

import pytest

from hedgerow.errors import CorruptionError, FormatVersionError
from hedgerow.server.cluster_master import _decode_draining


def test_the_documented_example_reads() -> None:
    raw = b'{"format": 1, "servers": ["127.0.0.1,16020,1764990000123"]}'
    assert _decode_draining(raw) == ["127.0.0.1,16020,1764990000123"]


@pytest.mark.parametrize(
    ("raw", "error", "match"),
    [
        (b'{"format": 2, "servers": []}', FormatVersionError, "format 2"),
        (b"not json", CorruptionError, "not JSON"),
        (b"[1, 2]", CorruptionError, "not a record"),
        (b'{"format": 1, "servers": [1]}', CorruptionError, "not a list of names"),
        (b'{"format": 1}', CorruptionError, "not a list of names"),
    ],
)
def test_bad_records_name_the_key(raw: bytes, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match) as e:
        _decode_draining(raw)
    assert "master-state/decommissioned" in str(e.value)
