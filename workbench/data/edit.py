"""Row edits as pure table operations (update, delete, add); the caller commits the result as a version.

Rows are addressed by `_id`. Work is vectorized over whole columns, so editing a few rows of a
million-row table costs one pass per touched column; column order and types are kept.
"""
from __future__ import annotations

import json
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..records import ROW_ID, SOURCE_LINE

READ_ONLY_COLUMNS = (ROW_ID, SOURCE_LINE)  # the row's identity and origin never change by editing
# Highest `_id` a table has ever held, kept in the schema metadata (it travels with the Parquet
# file): deleting the last row and then adding one must not reuse its id, or a diff would call a
# new row a changed one. Tables that lost the metadata fall back to the current maximum.
ID_HIGH_WATER = b"workbench.id_high_water"


def update_rows(table: pa.Table, updates: dict[int, dict[str, object]]) -> pa.Table:
    """Set cells by `_id`: {row_id: {column: text or None}}. Unknown ids or columns raise ValueError."""
    updates = {int(row_id): values for row_id, values in updates.items() if values}
    if not updates:
        return table
    columns = sorted({name for values in updates.values() for name in values})
    _check_columns(table, columns)
    ids = _ids(table)
    wanted = np.fromiter(updates, dtype=np.int64, count=len(updates))
    positions = np.flatnonzero(np.isin(ids, wanted))
    missing = sorted(set(wanted.tolist()) - set(ids[positions].tolist()))
    if missing:
        raise ValueError(f"No row with _id {_few(missing)} / 找不到 _id 为 {_few(missing)} 的行")
    for name in columns:
        touched = [p for p in positions.tolist() if name in updates[int(ids[p])]]
        mask = np.zeros(table.num_rows, dtype=bool)
        mask[touched] = True
        index = table.schema.get_field_index(name)
        column = table.column(index).combine_chunks()
        values = pa.array([cell_text(updates[int(ids[p])][name]) for p in touched], type=column.type)
        table = table.set_column(index, table.field(index), pc.replace_with_mask(column, pa.array(mask), values))
    return table


def delete_rows(table: pa.Table, row_ids: Iterable[int]) -> pa.Table:
    """The table without the rows whose `_id` is listed (ids not in the table are ignored)."""
    wanted = np.fromiter((int(i) for i in row_ids), dtype=np.int64)
    if not len(wanted):
        return table
    ids = _ids(table)
    kept = table.filter(pa.array(~np.isin(ids, wanted)))
    return _with_high_water(kept, _high_water(table, ids))


def add_rows(table: pa.Table, rows: list[dict]) -> pa.Table:
    """Append rows with fresh `_id`s above the current maximum; columns a row lacks are null.

    `_id` and `_line` in a given row are ignored (a copied row gets a new id and has no source line).
    """
    if not rows:
        return table
    rows = [{k: v for k, v in row.items() if k not in READ_ONLY_COLUMNS} for row in rows]
    _check_columns(table, sorted({name for row in rows for name in row}))
    first = _high_water(table, _ids(table)) + 1
    new = [{**{k: cell_text(v) for k, v in row.items()}, ROW_ID: first + n} for n, row in enumerate(rows)]
    added = pa.concat_tables([table, pa.Table.from_pylist(new, schema=table.schema)])
    return _with_high_water(added, first + len(new) - 1)


def drop_rows_with_problems(table: pa.Table, problems) -> pa.Table:
    """The table without the rows that have an error-severity problem (Problem values or their dicts)."""
    def get(problem, key):
        return problem.get(key) if isinstance(problem, dict) else getattr(problem, key)

    bad = {get(p, "row") for p in problems if get(p, "severity") == "error" and get(p, "row") is not None}
    return delete_rows(table, bad)


def cell_text(value) -> str | None:
    """A value as a stored cell: text stays text, None stays null, anything else becomes compact JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _ids(table: pa.Table) -> np.ndarray:
    if ROW_ID not in table.column_names:
        raise ValueError("The table has no _id column / 表中没有 _id 列")
    return table.column(ROW_ID).to_numpy()


def _high_water(table: pa.Table, ids: np.ndarray) -> int:
    """The highest `_id` the table holds or ever held (-1 for a table that never had rows)."""
    recorded = int((table.schema.metadata or {}).get(ID_HIGH_WATER, -1))
    return max(recorded, int(ids.max()) if len(ids) else -1)


def _with_high_water(table: pa.Table, high_water: int) -> pa.Table:
    return table.replace_schema_metadata({**(table.schema.metadata or {}), ID_HIGH_WATER: str(high_water)})


def _check_columns(table: pa.Table, columns: list[str]) -> None:
    unknown = [c for c in columns if c not in table.column_names]
    if unknown:
        names = [c for c in table.column_names if c not in READ_ONLY_COLUMNS]
        raise ValueError(f"Unknown column(s) {unknown}; editable columns are {names} / "
                         f"不存在的列 {unknown}；可编辑的列为 {names}")
    fixed = [c for c in columns if c in READ_ONLY_COLUMNS]
    if fixed:
        raise ValueError(f"Column(s) {fixed} cannot be edited / 列 {fixed} 不可编辑")


def _few(values: list) -> str:
    return ", ".join(map(str, values[:10])) + (f" … (+{len(values) - 10})" if len(values) > 10 else "")
