"""Server-side paging of a stored version: read only the row groups a page needs.

A page without a filter reads one or two Parquet row groups, whatever the size of the version. A
filter reads only the columns it tests, one row group at a time, and remembers the matching row
positions per (file, filter), so paging through the results reads just the groups of each page.
Version files are immutable, so a remembered result never goes stale.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..records import ROW_ID, SPLIT

CACHED_FILTERS = 8  # matching positions kept (4 bytes a match: 1M matches take 4 MB)
FILTER_THREADS = 8


@dataclass
class RowFilter:
    """Which rows to show; every criterion that is set must hold (empty criteria are ignored)."""

    search: str = ""  # case-insensitive substring (Unicode case folding; Chinese works as is)
    fields: list[str] = field(default_factory=list)  # columns searched; empty = every user column
    split: str | None = None  # only rows whose `_split` is this
    length_field: str | None = None  # column whose character length min/max_length bound
    min_length: int | None = None  # inclusive
    max_length: int | None = None  # inclusive
    empty_field: str | None = None  # only rows where this column is null, empty or only whitespace

    @property
    def active(self) -> bool:
        return bool(self.search) or self.split is not None or self.empty_field is not None or (
            self.min_length is not None or self.max_length is not None)

    def key(self) -> tuple:
        values = astuple(self)
        return values[:1] + (tuple(self.fields),) + values[2:]


def page(path: str | Path, offset: int, limit: int,
         row_filter: RowFilter | None = None) -> tuple[pa.Table, int]:
    """Rows [offset, offset+limit) of the version (or of the rows matching the filter), and how many match."""
    if offset < 0 or limit < 0:
        raise ValueError(f"offset and limit must not be negative (got {offset}, {limit}) / "
                         f"offset 和 limit 不能为负数（当前为 {offset}、{limit}）")
    parquet = pq.ParquetFile(path, memory_map=True)
    if row_filter is None or not row_filter.active:
        total = parquet.metadata.num_rows
        return read_range(parquet, offset, min(limit, max(0, total - offset))), total
    positions = matching_positions(path, row_filter)
    return _take_positions(parquet, positions[offset:offset + limit]), len(positions)


def head(path: str | Path, count: int, columns: list[str] | None = None) -> pa.Table:
    """The first `count` rows (only the row groups that hold them, only the chosen columns)."""
    parquet = pq.ParquetFile(path, memory_map=True)
    return read_range(parquet, 0, min(count, parquet.metadata.num_rows), columns)


def matching_positions(path: str | Path, row_filter: RowFilter) -> np.ndarray:
    """Row positions (0-based, ascending, read-only) that match the filter; cached per file and filter."""
    path = Path(path).resolve()
    stat = path.stat()
    # The size and mtime in the key only guard against a file replaced under the same name.
    return _cached_positions(str(path), (stat.st_size, stat.st_mtime_ns), row_filter.key())


def row_by_id(path: str | Path, row_id: int) -> dict | None:
    """The row whose `_id` is `row_id`, as a dict, or None; reads only groups whose id range holds it."""
    parquet = pq.ParquetFile(path, memory_map=True)
    if ROW_ID not in parquet.schema_arrow.names:
        return None
    for group in _groups_that_may_hold(parquet, int(row_id)):
        ids = parquet.read_row_group(group, columns=[ROW_ID]).column(0).to_numpy()
        hits = np.flatnonzero(ids == row_id)
        if hits.size:
            return parquet.read_row_group(group).slice(int(hits[0]), 1).to_pylist()[0]
    return None


# --- reading -----------------------------------------------------------------------------------
def _group_starts(parquet: pq.ParquetFile) -> np.ndarray:
    sizes = [parquet.metadata.row_group(g).num_rows for g in range(parquet.num_row_groups)]
    return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])


def read_range(parquet: pq.ParquetFile, start: int, count: int, columns: list[str] | None = None) -> pa.Table:
    """Rows [start, start+count) reading only the row groups that hold them (fewer at the end)."""
    count = min(count, parquet.metadata.num_rows - start)
    if count <= 0:
        empty = parquet.schema_arrow.empty_table()
        return empty.select(columns) if columns is not None else empty
    starts = _group_starts(parquet)
    first = int(np.searchsorted(starts, start, side="right")) - 1
    last = int(np.searchsorted(starts, start + count - 1, side="right")) - 1
    table = parquet.read_row_groups(list(range(first, last + 1)), columns=columns)
    return table.slice(start - int(starts[first]), count)


def _take_positions(parquet: pq.ParquetFile, positions: np.ndarray) -> pa.Table:
    if not len(positions):
        return parquet.schema_arrow.empty_table()
    starts = _group_starts(parquet)
    groups = np.searchsorted(starts, positions, side="right") - 1
    pieces = []
    for group in np.unique(groups):
        local = positions[groups == group] - starts[group]
        pieces.append(parquet.read_row_group(int(group)).take(pa.array(local)))
    return pa.concat_tables(pieces)


def _groups_that_may_hold(parquet: pq.ParquetFile, row_id: int) -> list[int]:
    column = parquet.schema_arrow.get_field_index(ROW_ID)
    candidates = []
    for group in range(parquet.num_row_groups):
        stats = parquet.metadata.row_group(group).column(column).statistics
        if stats is None or not stats.has_min_max or stats.min <= row_id <= stats.max:
            candidates.append(group)
    return candidates


# --- filtering ---------------------------------------------------------------------------------
@lru_cache(maxsize=CACHED_FILTERS)
def _cached_positions(path: str, stamp: tuple, key: tuple) -> np.ndarray:
    row_filter = RowFilter(key[0], list(key[1]), *key[2:])
    parquet = pq.ParquetFile(path, memory_map=True)
    names = parquet.schema_arrow.names
    searched = _searched_columns(row_filter, names)
    needed = list(dict.fromkeys(
        searched + [c for c in (row_filter.length_field, row_filter.empty_field) if c]
        + ([SPLIT] if row_filter.split is not None and SPLIT in names else [])))
    starts = _group_starts(parquet)

    def group_positions(group: int) -> np.ndarray:
        # One reader per task: row groups are decoded and tested in parallel (Arrow frees the GIL).
        table = pq.ParquetFile(path, memory_map=True).read_row_group(group, columns=needed)
        return np.flatnonzero(_mask(table, row_filter, searched)) + starts[group]

    with ThreadPoolExecutor(max_workers=min(FILTER_THREADS, os.cpu_count() or 1)) as pool:
        positions = list(pool.map(group_positions, range(parquet.num_row_groups)))
    result = np.concatenate(positions) if positions else np.zeros(0, dtype=np.int64)
    result = result.astype(np.int32 if starts[-1] < 2**31 else np.int64)
    result.flags.writeable = False
    return result


def _searched_columns(row_filter: RowFilter, names: list[str]) -> list[str]:
    unknown = [c for c in [*row_filter.fields, row_filter.length_field, row_filter.empty_field]
               if c and c not in names]
    if unknown:
        raise ValueError(f"Unknown column(s) {unknown}; columns are {names} / "
                         f"不存在的列 {unknown}；现有列为 {names}")
    if (row_filter.min_length is not None or row_filter.max_length is not None) and not row_filter.length_field:
        raise ValueError("A length filter needs length_field (the column to measure) / "
                         "按长度筛选需要指定 length_field（要测量的列）")
    if not row_filter.search:
        return []
    return list(row_filter.fields) or [c for c in names if not c.startswith("_")]


def _mask(table: pa.Table, row_filter: RowFilter, searched: list[str]) -> np.ndarray:
    mask = np.ones(table.num_rows, dtype=bool)
    if row_filter.search:
        found = np.zeros(table.num_rows, dtype=bool)
        for name in searched:
            # RE2's literal case-insensitive match: faster than utf8_lower + match and folds more
            # scripts (Greek final sigma); text without case (Chinese) matches as is.
            hit = pc.match_substring(_text(table.column(name)), row_filter.search, ignore_case=True)
            found |= _bools(hit)
        mask &= found
    if row_filter.split is not None:
        if SPLIT not in table.column_names:
            return np.zeros(table.num_rows, dtype=bool)
        mask &= _bools(pc.equal(table.column(SPLIT), row_filter.split))
    if row_filter.min_length is not None or row_filter.max_length is not None:
        lengths = pc.fill_null(pc.utf8_length(_text(table.column(row_filter.length_field))), 0).to_numpy()
        if row_filter.min_length is not None:
            mask &= lengths >= row_filter.min_length
        if row_filter.max_length is not None:
            mask &= lengths <= row_filter.max_length
    if row_filter.empty_field is not None:
        mask &= blank_mask(table.column(row_filter.empty_field))
    return mask


def blank_mask(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """True where a text cell is null, empty or only whitespace (Unicode, so full-width spaces too)."""
    column = _text(column)
    blank = pc.or_(pc.equal(pc.utf8_length(column), 0), pc.utf8_is_space(column))
    return _bools(pc.fill_null(blank, True))


def _text(column):
    return column if pa.types.is_string(column.type) or pa.types.is_large_string(column.type) else pc.cast(
        column, pa.string())


def _bools(values) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)
