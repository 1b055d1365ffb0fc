"""Server-side filters (HBase's filter classes), comparators, and the filter-string parser.

Role: the read path (scans and gets) drives a ``Filter`` per row and cell following
the protocol in ``base`` and ``evaluate``; gateways and clients build filters with
``parse_filter`` or the classes directly.
Invariants: pure - imports only ``hedgerow.model.cell``, ``hedgerow.errors`` and the
standard library; no I/O, no threads, no global randomness.
Concurrency: filter instances are per-scan state machines (not thread-safe).
Hot path: ``Filter.filter_cell``; see bench/bench_filters.py.

Modules: ``base`` (protocol), ``comparators``, ``compare_filters``, ``key_filters``,
``column_filters``, ``value_filters``, ``row_range_filters``, ``list_filters``,
``parser``, ``evaluate``.
"""

from __future__ import annotations

from hedgerow.model.filters.base import (
    Filter,
    FilterBase,
    ReturnCode,
    cell_key,
    first_on_row,
    first_on_row_col,
)
from hedgerow.model.filters.column_filters import (
    ColumnCountGetFilter,
    ColumnPaginationFilter,
    ColumnPrefixFilter,
    ColumnRangeFilter,
    MultipleColumnPrefixFilter,
    TimestampsFilter,
)
from hedgerow.model.filters.comparators import (
    BinaryComparator,
    BinaryPrefixComparator,
    BitComparator,
    BitwiseOp,
    ByteArrayComparable,
    CompareOperator,
    LongComparator,
    NullComparator,
    RegexStringComparator,
    SubstringComparator,
)
from hedgerow.model.filters.compare_filters import (
    CompareFilter,
    DependentColumnFilter,
    FamilyFilter,
    QualifierFilter,
    RowFilter,
    ValueFilter,
)
from hedgerow.model.filters.evaluate import apply_filter_to_rows, filter_row_cells_for
from hedgerow.model.filters.key_filters import (
    FirstKeyOnlyFilter,
    InclusiveStopFilter,
    KeyOnlyFilter,
    PageFilter,
    PrefixFilter,
    RandomRowFilter,
)
from hedgerow.model.filters.list_filters import (
    FilterList,
    FilterListOperator,
    SkipFilter,
    WhileMatchFilter,
)
from hedgerow.model.filters.parser import FILTER_NAMES, parse_filter
from hedgerow.model.filters.row_range_filters import FuzzyRowFilter, MultiRowRangeFilter, RowRange
from hedgerow.model.filters.value_filters import (
    ColumnValueFilter,
    SingleColumnValueExcludeFilter,
    SingleColumnValueFilter,
)

__all__ = [
    "FILTER_NAMES",
    "BinaryComparator",
    "BinaryPrefixComparator",
    "BitComparator",
    "BitwiseOp",
    "ByteArrayComparable",
    "ColumnCountGetFilter",
    "ColumnPaginationFilter",
    "ColumnPrefixFilter",
    "ColumnRangeFilter",
    "ColumnValueFilter",
    "CompareFilter",
    "CompareOperator",
    "DependentColumnFilter",
    "FamilyFilter",
    "Filter",
    "FilterBase",
    "FilterList",
    "FilterListOperator",
    "FirstKeyOnlyFilter",
    "FuzzyRowFilter",
    "InclusiveStopFilter",
    "KeyOnlyFilter",
    "LongComparator",
    "MultiRowRangeFilter",
    "MultipleColumnPrefixFilter",
    "NullComparator",
    "PageFilter",
    "PrefixFilter",
    "QualifierFilter",
    "RandomRowFilter",
    "RegexStringComparator",
    "ReturnCode",
    "RowFilter",
    "RowRange",
    "SingleColumnValueExcludeFilter",
    "SingleColumnValueFilter",
    "SkipFilter",
    "SubstringComparator",
    "TimestampsFilter",
    "ValueFilter",
    "WhileMatchFilter",
    "apply_filter_to_rows",
    "cell_key",
    "filter_row_cells_for",
    "first_on_row",
    "first_on_row_col",
    "parse_filter",
]
