"""Round trips of every codec type, every filter class, and error mapping."""

from __future__ import annotations

import re

import pytest

from hedgerow import errors
from hedgerow.errors import CorruptionError, FilterSyntaxError, HedgerowError, InvalidArgument
from hedgerow.model import filters as F
from hedgerow.model.cell import MAX_TIMESTAMP, Cell, KeyType
from hedgerow.model.compare import value_comparison
from hedgerow.model.mutation import (
    DeleteColumn,
    DeleteFamily,
    DeleteFamilyVersion,
    DeleteRow,
    DeleteVersion,
    Put,
    RowMutation,
)
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import ColumnFamilyDescriptor, TableDescriptor
from hedgerow.rpc import codec
from hedgerow.rpc import messages as m
from hedgerow.rpc.codes import RPC_ERROR_CLASSES, ProtocolError, class_for_code
from hedgerow.rpc.operations import MESSAGES, MessageType


def wire(obj):  # through real msgpack bytes
    return codec.unpackb(codec.packb(obj))


MUTATION = RowMutation(
    b"row\x00\xff",
    (
        Put(b"cf", "q\u00e9\u2603".encode(), b"", None),
        Put(b"cf", b"q", b"v" * 300, MAX_TIMESTAMP - 1),
        DeleteVersion(b"cf", b"q", 5),
        DeleteVersion(b"cf", b"q"),
        DeleteColumn(b"cf", b"q", None),
        DeleteFamily(b"cf", 9),
        DeleteFamilyVersion(b"cf", 10),
        DeleteRow(None),
        DeleteRow(11),
    ),
)


def test_mutation_round_trip() -> None:
    assert codec.decode_mutation(wire(codec.encode_mutation(MUTATION))) == MUTATION


@pytest.mark.parametrize(
    "spec",
    [
        ReadSpec(),
        ReadSpec(columns={b"cf": None, b"g": frozenset({b"a", b"b"})}, max_versions=3),
        ReadSpec(min_ts=5, max_ts=10, raw=True),
        ReadSpec(filter="PrefixFilter('ab')"),
    ],
)
def test_read_spec_round_trip(spec: ReadSpec) -> None:
    got = codec.decode_read_spec(wire(codec.encode_read_spec(spec)))
    if isinstance(spec.filter, str):
        assert got.filter.describe() == F.parse_filter(spec.filter).describe()
        assert got.columns == spec.columns
    else:
        assert got == spec


def test_scan_range_round_trip() -> None:
    for r in [ScanRange(), ScanRange(b"a", False, b"z", True, True, {"n": 3, "x": "y"})]:
        assert codec.decode_scan_range(wire(codec.encode_scan_range(r))) == r


def test_cells_round_trip() -> None:
    cells = [
        Cell(b"r", b"cf", b"", 0, KeyType.DELETE_FAMILY, b"", 0),
        Cell(
            b"r", b"cf", "\u2603".encode(), MAX_TIMESTAMP, KeyType.PUT, b"\x00" * 70000, 2**63 - 1
        ),
    ]
    assert codec.decode_cells(wire(codec.encode_cells(cells))) == cells
    row, got = codec.decode_row_cells(wire(codec.encode_row_cells(b"r", cells)))
    assert row == b"r" and got == cells


def test_table_descriptor_round_trip() -> None:
    desc = TableDescriptor(
        "ns:t",
        {
            b"cf": ColumnFamilyDescriptor(b"cf", max_versions=3, time_to_live=60),
            b"g": ColumnFamilyDescriptor(b"g", compression="zstd", bloom_filter_type="ROWCOL"),
        },
    )
    assert codec.decode_table_descriptor(wire(codec.encode_table_descriptor(desc))) == desc


BC = F.BinaryComparator
ALL_FILTERS = [
    F.RowFilter(F.CompareOperator.LESS, BC(b"m")),
    F.FamilyFilter(F.CompareOperator.EQUAL, F.BinaryPrefixComparator(b"c")),
    F.QualifierFilter(F.CompareOperator.NOT_EQUAL, F.RegexStringComparator("^a.*b$")),
    F.ValueFilter(F.CompareOperator.EQUAL, F.SubstringComparator("Abc")),
    F.ValueFilter(F.CompareOperator.GREATER, F.LongComparator(-5)),
    F.ValueFilter(F.CompareOperator.EQUAL, F.BitComparator(b"\x01", F.BitwiseOp.XOR)),
    F.ValueFilter(F.CompareOperator.EQUAL, F.NullComparator()),
    F.DependentColumnFilter(b"cf", b"q", True, F.CompareOperator.EQUAL, BC(b"v")),
    F.DependentColumnFilter(b"cf", b"q"),
    F.ColumnPrefixFilter(b"ab"),
    F.MultipleColumnPrefixFilter([b"a", b"c"]),
    F.ColumnCountGetFilter(3),
    F.ColumnPaginationFilter(2, 1),
    F.ColumnPaginationFilter(2, column_offset=b"k"),
    F.ColumnRangeFilter(b"a", True, None, False),
    F.TimestampsFilter([3, 1, 2]),
    F.KeyOnlyFilter(True),
    F.FirstKeyOnlyFilter(),
    F.PrefixFilter(b"row"),
    F.InclusiveStopFilter(b"z"),
    F.PageFilter(10),
    F.FilterList(
        F.FilterListOperator.MUST_PASS_ONE,
        [F.PrefixFilter(b"a"), F.WhileMatchFilter(F.SkipFilter(F.KeyOnlyFilter()))],
    ),
    F.FuzzyRowFilter([(b"a?c", b"\x00\x01\x00")]),
    F.MultiRowRangeFilter([(b"a", True, b"c", False), (b"x", False, b"", True)]),
    F.SingleColumnValueFilter(b"cf", b"q", F.CompareOperator.EQUAL, BC(b"x"), True, False),
    F.SingleColumnValueExcludeFilter(b"cf", b"q", F.CompareOperator.LESS, BC(b"x")),
    F.ColumnValueFilter(b"cf", b"q", F.CompareOperator.GREATER_OR_EQUAL, BC(b"x")),
]


@pytest.mark.parametrize("flt", ALL_FILTERS, ids=lambda f: type(f).__name__)
def test_filter_tree_round_trip(flt: F.Filter) -> None:
    got = codec.decode_filter(wire(codec.encode_filter(flt)))
    assert type(got) is type(flt)
    assert got.describe() == flt.describe()


def test_every_filter_class_is_covered() -> None:
    """A new filter class must get a codec entry (or be listed as not travelling)."""
    exported = {
        getattr(F, n)
        for n in F.__all__
        if isinstance(getattr(F, n), type)
        and issubclass(getattr(F, n), F.Filter | F.ByteArrayComparable)
    }
    abstract = {F.Filter, F.FilterBase, F.CompareFilter, F.ByteArrayComparable}
    not_travelling = {F.RandomRowFilter}
    assert exported - abstract - not_travelling <= set(codec._FILTERS)


def test_filter_string_travels_and_is_parsed_on_decode() -> None:
    with pytest.raises(FilterSyntaxError):
        codec.decode_filter(wire(codec.encode_filter("PrefixFilter(")))


def test_unsendable_filter_is_a_clear_error() -> None:
    import random

    with pytest.raises(InvalidArgument, match="cannot be sent over RPC"):
        codec.encode_filter(F.RandomRowFilter(0.5, random.Random(1)))


@pytest.mark.parametrize(
    "bad",
    [
        ["t", ["NoSuchFilter"]],
        ["t", ["PrefixFilter"]],
        ["t", ["PrefixFilter", "str-not-bin"]],
        ["t", ["BinaryComparator", b"x"]],  # a comparator is not a filter
        ["t", ["RowFilter", "BOGUS", ["BinaryComparator", b"x"]]],
        ["x", "y"],
        "nope",
    ],
)
def test_malformed_filter_is_protocol_error(bad: object) -> None:
    with pytest.raises(ProtocolError):
        codec.decode_filter(bad)


def test_deep_filter_tree_is_protocol_error() -> None:
    node: list = ["PrefixFilter", b"a"]
    for _ in range(5000):
        node = ["SkipFilter", node]
    with pytest.raises(ProtocolError):
        codec.decode_filter(["t", node])


def test_errors_map_back_to_same_class_message_and_fields() -> None:
    for exc in [
        errors.TableNotFound("table 'x' does not exist"),
        errors.KeyTooLarge("row key is 40000 bytes"),
        CorruptionError("checksum mismatch", path="/d/1.sst", offset=4096),
        errors.FormatVersionError("unknown version 9", path="/d/2.sst"),
        FilterSyntaxError("unexpected ')'", 12),
        errors.RegionClosed("region r1 closed"),
    ]:
        got = codec.decode_error(wire(codec.encode_error(exc)))
        assert type(got) is type(exc)
        assert str(got) == str(exc)
        for f in ("path", "offset", "position"):
            assert getattr(got, f, None) == getattr(exc, f, None)


def test_non_hedgerow_exception_is_internal() -> None:
    got = codec.decode_error(wire(codec.encode_error(KeyError("k"))))
    assert got.code == "INTERNAL" and "KeyError" in str(got)


def test_unknown_code_gives_base_class() -> None:
    got = codec.decode_error({"code": "FROM_THE_FUTURE", "message": "m", "fields": {}})
    assert type(got) is HedgerowError and str(got) == "m"


def test_codes_unique_across_error_tree() -> None:
    def walk(c: type) -> list[type]:
        return [c] + [x for s in c.__subclasses__() for x in walk(s)]

    classes = set(walk(HedgerowError))
    codes = [c.code for c in classes if c.__module__ in ("hedgerow.errors", "hedgerow.rpc.codes")]
    assert len(codes) == len(set(codes))
    for c in RPC_ERROR_CLASSES:
        assert class_for_code(c.code) is c
    for c in classes:
        if c.__module__ == "hedgerow.errors":
            assert class_for_code(c.code) is c


def test_compare_semantics_match_happybase_table() -> None:
    assert value_comparison(b"b", "<")(b"c") and not value_comparison(b"b", "<")(b"a")
    assert value_comparison(b"b", "==")(b"b") and value_comparison(b"b", "==").op == "="
    assert value_comparison(None, "=")(None) and value_comparison(None, "=")(b"")
    assert value_comparison(None, "!=")(b"x") and not value_comparison(b"x", ">")(None)
    with pytest.raises(InvalidArgument):
        value_comparison(None, "<")
    with pytest.raises(InvalidArgument):
        value_comparison(b"x", "~")


def test_every_message_type_round_trips() -> None:
    desc = TableDescriptor("t", {b"cf": ColumnFamilyDescriptor(b"cf")})
    samples = [
        m.PingMessage(b"x"),
        m.EmptyRequest(),
        m.EmptyResponse(),
        m.TableRequest("t"),
        m.CreateTableRequest(desc, (b"m",)),
        m.ModifyTableRequest(desc),
        m.TruncateTableRequest("t", False),
        m.CompactTableRequest("t", True),
        m.SplitRegionRequest("t", None, b"m"),
        m.SplitRegionRequest("t", "0000000001", None),
        m.MergeRegionsRequest("t", "0000000002", "0000000003"),
        m.NamesResponse(("0000000002", "0000000003")),
        m.StatusResponse({"tables": 1, "regions": [{"name": "r", "start_key": b""}]}),
        m.TableNamesResponse(("a", "b")),
        m.DescriptorResponse(desc),
        m.BoolResponse(True),
        m.RegionsResponse((m.RegionInfo("t", "r1", b"", b"m"),)),
        m.MutateRequest("t", (MUTATION,), 3),
        m.IncrementRequest("t", b"r", {(b"cf", b"n"): -5}, None),
        m.AppendRequest("t", b"r", {(b"cf", b"a"): b"x"}, 4),
        m.ColumnIntsResponse({(b"cf", b"n"): 2**63 - 1}),
        m.ColumnBytesResponse({(b"cf", b"a"): b""}),
        m.CheckAndMutateRequest("t", b"r", b"cf", b"q", "<=", None, MUTATION, None),
        m.GetRequest("t", b"r", ReadSpec(max_versions=2)),
        m.CellsResponse([Cell(b"r", b"cf", b"q", 1, 4, b"v", 0)]),
        m.MultiGetRequest("t", (b"a", b"b"), ReadSpec(max_versions=2)),
        m.MultiCellsResponse([[Cell(b"a", b"cf", b"q", 1, 4, b"v", 0)], []]),
        m.OpenScannerRequest("t", ScanRange(b"a"), ReadSpec(), 10, 100),
        m.ScannerNextRequest(5, 10, 100),
        m.CloseScannerRequest(5),
        m.ScanBatchResponse(5, [(b"r", [Cell(b"r", b"cf", b"q", 1, 4, b"v", 0)])], True),
        m.MoveRegionRequest("0000000001", None),
        m.MoveRegionRequest("0000000001", "127.0.0.1:9090"),
        m.DecommissionRequest(("a:1", "b:2"), False),
        m.OpenRegionRequest(7, desc, "0000000001", b"", b"k"),
        m.CloseRegionRequest(7, "t", "0000000001"),
        m.EpochRequest(0),
        m.FlushRegionRequest(7, "t", "0000000001"),
        m.CompactRegionRequest(7, "t", "0000000001", True),
        m.ServerReportResponse("127.0.0.1:1", 5, (("t", "0000000001", 10, 2, 3, 4),)),
        m.ServerRequest("a:1"),
    ]
    for msg in samples:
        assert type(msg).from_wire(wire(msg.to_wire())) == msg
    used = {c for pair in MESSAGES.values() for c in pair}
    assert used <= {type(x) for x in samples}
    assert set(MESSAGES) == set(MessageType) - {MessageType.AUTH, MessageType.CANCEL}


@pytest.mark.parametrize("body", [None, [], ["x", 2, 3], ["t", "row-not-bytes", []], {"a": 1}])
def test_malformed_bodies_are_protocol_errors(body: object) -> None:
    for req_cls, _ in MESSAGES.values():
        if req_cls in (m.EmptyRequest,) and body is None:
            continue
        with pytest.raises(ProtocolError):
            req_cls.from_wire(body)


def test_unpack_garbage_is_protocol_error() -> None:
    for data in [b"\xc1", b"\x92\x01", b"\x01\x02"]:
        with pytest.raises(ProtocolError, match=re.compile("msgpack")):
            codec.unpackb(data)


def test_error_codes_table_matches_docs() -> None:
    """docs/formats/rpc.md lists every wire code with its class."""
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "formats" / "rpc.md").read_text()
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| `(\w+)` \|", doc, re.M))

    def walk(c: type) -> list[type]:
        return [c] + [x for s in c.__subclasses__() for x in walk(s)]

    mine = {
        c.code: c.__name__
        for c in walk(HedgerowError)
        if c.__module__ in ("hedgerow.errors", "hedgerow.rpc.codes")
    }
    assert rows == mine
