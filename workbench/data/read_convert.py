"""Bring any Arrow column to the table conventions: nullable strings, nested values as compact JSON text.

The conversion is vectorized (Arrow compute kernels, recursively for lists and structs), so a million
`history` or `conversations` cells become JSON text without a Python object per cell. Null struct
fields are left out of the JSON text (Arrow gives every object the union of keys it has seen).
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..problems import Problem
from ..records import JSON_FIELDS, ROW_ID, SOURCE_LINE

TEXT_FIELDS = ("instruction", "input", "output", "system")
REPLACED_COLUMNS = (ROW_ID, SOURCE_LINE)  # the reader assigns these; a source's own copies are dropped
LISTED_PER_KIND = 1000  # problems listed per (code, field); the rest are counted in one summary problem
# JSON escapes for the characters below 0x20 (the short forms orjson and json.dumps use).
_SHORT_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class ProblemLog:
    """Problems found while reading: each (code, field) listed up to a limit, then only counted.

    The rows of unlisted errors are kept (in the summary's params["rows"]): a bad row stays a bad row.
    """

    def __init__(self, file: str | None, limit: int = LISTED_PER_KIND):
        self.file, self.limit = file, limit
        self.items: list[Problem] = []
        self.shown: Counter = Counter()
        self.hidden: Counter = Counter()
        self.hidden_rows: dict[tuple, list[int]] = {}

    def add(self, code: str, severity: str = "error", line=None, row=None, field=None, column=None, **params):
        key = (code, field, severity)
        if self.shown[key] >= self.limit:
            self.hidden[key] += 1
            if row is not None and severity == "error":
                self.hidden_rows.setdefault(key, []).append(int(row))
            return
        self.shown[key] += 1
        self.items.append(Problem(code, severity, self.file, line, row, field, column, params))

    def add_rows(self, positions: np.ndarray, lines: np.ndarray, first_row: int, code: str, field: str, **params):
        """One error per row position, without a Python call per row beyond the listed ones."""
        key = (code, field, "error")
        room = max(0, self.limit - self.shown[key])
        for position in positions[:room]:
            self.add(code, line=int(lines[position]), row=first_row + int(position), field=field, **params)
        if len(positions) > room:
            self.hidden[key] += len(positions) - room
            self.hidden_rows.setdefault(key, []).extend((first_row + positions[room:]).tolist())

    def problems(self) -> list[Problem]:
        summary = []
        for key, count in self.hidden.items():
            code, field, severity = key
            params = {"count": count, "kind": code}
            if key in self.hidden_rows:
                params["rows"] = self.hidden_rows[key]
            summary.append(Problem("problems_not_listed", severity, self.file, field=field, params=params))
        return self.items + summary


def text_column(column: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """Any column as a nullable string column following the conventions."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    return pa.chunked_array([_text_chunk(chunk) for chunk in chunks], type=pa.string())


def _text_chunk(array: pa.Array) -> pa.Array:
    kind = array.type
    if pa.types.is_dictionary(kind):
        return _text_chunk(array.dictionary_decode())
    if pa.types.is_string(kind):
        return array
    if pa.types.is_null(kind):
        return pa.nulls(len(array), pa.string())
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return array.cast(pa.string())
    if pa.types.is_floating(kind):
        return _number_text(array)
    if pa.types.is_temporal(kind) or pa.types.is_decimal(kind):
        try:
            return array.cast(pa.string())
        except pa.ArrowNotImplementedError:
            return _python_text(array)
    if _vectorizable(kind):
        text = _json_text(array)
        return text if array.null_count == 0 else pc.if_else(array.is_null(), pa.scalar(None, pa.string()), text)
    return _python_text(array)


def _python_text(array: pa.Array) -> pa.Array:
    """Slow but general: binary, dates, maps, unions... through Python values."""
    values = []
    for value in array.to_pylist():
        if value is None or isinstance(value, str):
            values.append(value)
        elif isinstance(value, bytes):
            values.append(value.decode("utf-8", errors="replace"))
        elif isinstance(value, (list, dict, tuple)):
            values.append(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode())
        elif isinstance(value, bool):
            values.append("true" if value else "false")
        else:
            values.append(str(value))
    return pa.array(values, type=pa.string())


def _vectorizable(kind: pa.DataType) -> bool:
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return True
    if pa.types.is_boolean(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return True
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _vectorizable(kind.value_type)
    if pa.types.is_struct(kind):
        return all(_vectorizable(kind.field(i).type) for i in range(kind.num_fields))
    return False


def _number_text(array: pa.Array) -> pa.Array:
    """Numbers as JSON numbers; NaN and infinity (not JSON) become null."""
    text = array.cast(pa.string())
    if pa.types.is_floating(array.type):
        finite = pc.is_finite(array)
        text = pc.if_else(finite, text, pa.scalar(None, pa.string()))
    return text


def _json_text(array: pa.Array) -> pa.Array:
    """Each value as JSON text; null where the value is null (callers write `null` or keep it null)."""
    kind = array.type
    if pa.types.is_null(kind):
        return pa.nulls(len(array), pa.string())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _quoted(array.cast(pa.string()))
    if pa.types.is_boolean(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return _number_text(array)
    if pa.types.is_struct(kind):
        return _struct_text(array)
    return _list_text(array)


def _quoted(array: pa.Array) -> pa.Array:
    text = pc.replace_substring(array, "\\", "\\\\")
    text = pc.replace_substring(text, '"', '\\"')
    if pc.any(pc.match_substring_regex(text, "[\\x00-\\x1f]")).as_py():
        for code in range(0x20):
            character = chr(code)
            text = pc.replace_substring(text, character, _SHORT_ESCAPES.get(character, f"\\u{code:04x}"))
    return pc.binary_join_element_wise('"', text, '"', "")


def _list_text(array: pa.Array) -> pa.Array:
    if pa.types.is_fixed_size_list(array.type):
        array = array.cast(pa.list_(array.type.value_type))
    if pa.types.is_large_list(array.type):
        array = array.cast(pa.list_(array.type.value_type))
    if len(array.values) == 0:  # only empty lists (a common `"history": []` column): no joining needed
        return pc.if_else(array.is_null(), pa.scalar(None, pa.string()), pa.scalar("[]", pa.string()))
    items = pc.fill_null(_json_text(array.values), "null")
    lists = pa.ListArray.from_arrays(array.offsets, items)  # a null list has no items: "[]", nulled below
    text = pc.binary_join_element_wise("[", pc.binary_join(lists, ","), "]", "")
    return pc.if_else(array.is_null(), pa.scalar(None, pa.string()), text) if array.null_count else text


def _struct_text(array: pa.StructArray) -> pa.Array:
    # Each present field becomes `"key":value,` (absent ones ""); the last comma is trimmed off after.
    # (null_handling="skip" would do this in one call, but pyarrow 26 drops rows where every piece is null.)
    body = pa.array([""] * len(array), pa.string())
    for index, child in enumerate(array.flatten()):
        key = orjson.dumps(array.type.field(index).name).decode() + ":"
        piece = pc.fill_null(pc.binary_join_element_wise(key, _json_text(child), ",", ""), "")
        body = pc.binary_join_element_wise(body, piece, "")
    text = pc.binary_join_element_wise("{", pc.utf8_rtrim(body, characters=","), "}", "")
    return pc.if_else(array.is_null(), pa.scalar(None, pa.string()), text)


def type_name(kind: pa.DataType) -> str | None:
    """The JSON type name of an Arrow type as the problem messages say it ("number", "list", ...)."""
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "text"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "number"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return "list"
    if pa.types.is_struct(kind) or pa.types.is_map(kind):
        return "object"
    return None


def expected_type(field: str) -> str | None:
    """What a known field must hold in JSON: "text" or "list"; None for other fields."""
    return "text" if field in TEXT_FIELDS else "list" if field in JSON_FIELDS else None


def wrong_type_problems(table: pa.Table, lines: np.ndarray, log: ProblemLog, first_row: int = 0) -> None:
    """wrong_type for known fields whose JSON type (one per column, as pyarrow inferred it) is not allowed."""
    for name in table.column_names:
        expected, column = expected_type(name), table.column(name)
        found = type_name(column.type)
        if expected is None or found in (None, expected):
            continue
        present = column.is_valid()
        if found == "text":  # "" in a list field reads as an empty list downstream; not worth an error
            present = pc.and_(present, pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(column), ""), False))
        positions = np.flatnonzero(present.to_numpy(zero_copy_only=False))
        log.add_rows(positions, lines, first_row, "wrong_type", name, expected=expected, found=found)


def text_table(table: pa.Table) -> pa.Table:
    """Every column of a table as text, names kept."""
    return pa.Table.from_arrays([text_column(column) for column in table.columns],
                                names=[str(name) for name in table.column_names])


def finish_table(columns: dict, lines) -> pa.Table:
    """`_id`, `_line`, then the user columns (in order) as text; the source's own `_id`/`_line` are dropped."""
    lines = np.asarray(lines, dtype=np.int64)
    arrays = {ROW_ID: pa.array(np.arange(len(lines), dtype=np.int64)), SOURCE_LINE: pa.array(lines)}
    for name, column in columns.items():
        if name not in REPLACED_COLUMNS:
            arrays[name] = text_column(column)
    return pa.table(arrays)


def unique_names(names: list, log: ProblemLog) -> list[str]:
    """Header names made unique (later copies become name_2, name_3) and never empty (column_N)."""
    names = [str(name).strip() if name is not None and str(name).strip() else f"column_{i + 1}"
             for i, name in enumerate(names)]
    seen, result = set(names), []
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        positions.setdefault(name, []).append(index + 1)
    renamed: dict[str, list[str]] = {}
    counts: Counter = Counter()
    for name in names:
        counts[name] += 1
        if counts[name] == 1:
            result.append(name)
            continue
        number = counts[name]
        while f"{name}_{number}" in seen:
            number += 1
        new_name = f"{name}_{number}"
        seen.add(new_name)
        result.append(new_name)
        renamed.setdefault(name, []).append(new_name)
    for name, new_names in renamed.items():
        log.add("duplicate_column", "warning", field=name, name=name,
                positions=", ".join(map(str, positions[name])), renamed=", ".join(new_names))
    return result
