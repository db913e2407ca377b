"""Validate a table against the row schema (Alpaca or chat), vectorized, with located problems.

Checks are Arrow compute kernels over whole columns; only the few rows that fail (and non-empty
nested JSON fields) are looked at one by one, so a million clean rows validate in well under a second.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ..problems import Problem
from ..records import ALPACA_REQUIRED, ROW_ID, SHAREGPT_ROLES, SOURCE_LINE, detect_schema

MAX_PROBLEMS = 10_000  # listed problems; counts and the bad-row set stay exact beyond this


@dataclass
class ValidationReport:
    schema: str | None
    total_rows: int
    problems: list[Problem] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)  # problem code -> number of occurrences
    error_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # `_id`s

    @property
    def errors(self) -> int:
        return int(sum(1 for p in self.problems if p.severity == "error"))

    @property
    def ok(self) -> bool:
        return len(self.error_rows) == 0 and not any(p.severity == "error" and p.row is None for p in self.problems)

    def summary(self) -> dict:
        return {"schema": self.schema, "rows": self.total_rows, "rows_with_errors": int(len(self.error_rows)),
                "problems": dict(self.counts), "listed": len(self.problems)}


class _Collector:
    """Collects problems for masked rows, keeping exact counts and a capped list."""

    def __init__(self, table: pa.Table, file: str | None, limit: int):
        self.file, self.limit = file, limit
        self.ids = table.column(ROW_ID).to_numpy() if ROW_ID in table.column_names else np.arange(table.num_rows)
        self.lines = (table.column(SOURCE_LINE).to_numpy(zero_copy_only=False)
                      if SOURCE_LINE in table.column_names else None)
        self.problems: list[Problem] = []
        self.counts: Counter = Counter()
        self.bad = np.zeros(table.num_rows, dtype=bool)

    def add_mask(self, mask: np.ndarray, code: str, field_name: str, severity="error", **params) -> None:
        positions = np.flatnonzero(mask)
        if not len(positions):
            return
        self.counts[code] += len(positions)
        if severity == "error":
            self.bad[positions] = True
        for position in positions[: max(0, self.limit - len(self.problems))]:
            self.add_one(int(position), code, field_name, severity, count=False, **params)

    def add_one(self, position: int, code: str, field_name: str | None, severity="error", count=True, **params):
        if count:
            self.counts[code] += 1
            if severity == "error" and position >= 0:
                self.bad[position] = True
        if len(self.problems) >= self.limit:
            return
        line = None
        if position >= 0 and self.lines is not None:
            value = self.lines[position]
            line = None if value is None or (isinstance(value, float) and np.isnan(value)) else int(value)
        row = int(self.ids[position]) if position >= 0 else None
        self.problems.append(Problem(code, severity, self.file, line, row, field_name, params=params))


def _blank_mask(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(is null, is empty-or-whitespace but not null) as numpy masks."""
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = pc.cast(column, pa.string())
    nulls = column.is_null().to_numpy(zero_copy_only=False)
    # only-whitespace test without building a trimmed copy of the column (one boolean per row)
    blank = pc.fill_null(pc.or_(pc.equal(pc.binary_length(column), 0), pc.utf8_is_space(column)), False)
    return nulls, blank.to_numpy(zero_copy_only=False)


def _nonempty_json_positions(column: pa.ChunkedArray) -> np.ndarray:
    """Rows whose nested-field text is something other than null, '' or '[]' (those need parsing)."""
    trimmed = pc.utf8_trim_whitespace(column)
    trivial = pc.or_kleene(column.is_null(), pc.is_in(trimmed, value_set=pa.array(["", "[]"])))
    return np.flatnonzero(~pc.fill_null(trivial, True).to_numpy(zero_copy_only=False))


def _check_history(table: pa.Table, out: _Collector) -> None:
    column = table.column("history")
    positions = _nonempty_json_positions(column)
    if not len(positions):
        return
    texts = column.take(pa.array(positions)).combine_chunks()
    if not pa.types.is_string(texts.type):
        texts = texts.cast(pa.string())
    suspects = _history_suspects(texts)  # vectorized: only rows that may be wrong are parsed in Python
    for index in suspects:
        detail = _history_detail(texts[int(index)].as_py())
        if detail:
            out.add_one(int(positions[index]), "history_shape", "history", detail=detail[0], detail_zh=detail[1])


_HISTORY_SCHEMA = pa.schema([("h", pa.list_(pa.list_(pa.string())))])


def _history_suspects(texts: pa.StringArray) -> np.ndarray:
    """Indexes of history texts that may not be a list of [text, text] pairs.

    All texts are parsed at once by Arrow's JSON reader against the exact type; a text with a newline
    (kept for the Python check) or any text Arrow rejects sends the whole batch to the Python check.
    """
    everything = np.arange(len(texts))
    multiline = pc.fill_null(pc.match_substring(texts, "\n"), True).to_numpy(zero_copy_only=False)
    single = everything[~multiline]
    if not len(single):
        return everything
    lines = pc.binary_join_element_wise('{"h":', texts.take(pa.array(single)), "}\n", "")
    if lines.null_count:
        return everything
    data = lines.buffers()[2]
    width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    offsets = np.frombuffer(lines.buffers()[1], dtype=width)[lines.offset: lines.offset + len(lines) + 1]
    start, end = int(offsets[0]), int(offsets[-1])
    options = pj.ParseOptions(explicit_schema=_HISTORY_SCHEMA, unexpected_field_behavior="error")
    try:
        parsed = pj.read_json(pa.BufferReader(data.slice(start, end - start)), parse_options=options,
                              read_options=pj.ReadOptions(block_size=max(1 << 20, end - start + 1)))
    except pa.ArrowInvalid:
        return everything
    if parsed.num_rows != len(single):  # a text held more than one JSON value
        return everything
    histories = parsed.column("h").combine_chunks()
    pairs = histories.flatten()
    bad_pair = ~pc.fill_null(pc.equal(pc.list_value_length(pairs), 2), False).to_numpy(zero_copy_only=False)
    strings = pairs.flatten()
    null_strings = strings.is_null().to_numpy(zero_copy_only=False)
    if null_strings.any():
        owners = pc.list_parent_indices(pairs).to_numpy()
        bad_pair |= np.bincount(owners[null_strings], minlength=len(pairs)) > 0
    bad = histories.is_null().to_numpy(zero_copy_only=False)
    if bad_pair.any():
        owners = pc.list_parent_indices(histories).to_numpy()
        bad |= np.bincount(owners[bad_pair], minlength=len(histories)) > 0
    return np.sort(np.concatenate([single[bad], everything[multiline]]))


_JSON_TYPES = {str: ("text", "一段文本"), dict: ("an object", "一个对象"), int: ("a number", "一个数字"),
               float: ("a number", "一个数字"), bool: ("a boolean", "布尔值"), type(None): ("null", "空值 null")}


def _history_detail(text: str) -> tuple[str, str] | None:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return "it is text, not a list", "实际是一段文本而不是列表"
    if not isinstance(value, list):
        found = _JSON_TYPES.get(type(value), ("a value", "其他值"))
        return f"it is {found[0]}", f"实际是{found[1]}"
    for index, pair in enumerate(value):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
            return (f"item {index + 1} is not a pair of texts", f"第 {index + 1} 项不是两段文本组成的对")
    return None


def _check_messages(table: pa.Table, name: str, out: _Collector) -> None:
    column = table.column(name)
    nulls, blank = _blank_mask(column)
    out.add_mask(nulls | blank, "missing_field", name)
    for position in np.flatnonzero(~(nulls | blank)):
        detail = _messages_detail(column[int(position)].as_py())
        if detail:
            out.add_one(int(position), "messages_shape", name, detail=detail[0], detail_zh=detail[1])


def _messages_detail(text: str) -> tuple[str, str] | None:
    try:
        turns = orjson.loads(text)
    except orjson.JSONDecodeError:
        return "it is not valid JSON", "不是有效的 JSON"
    if not isinstance(turns, list) or not turns:
        return "it is empty or not a list", "为空或不是列表"
    roles = []
    for index, turn in enumerate(turns):
        if not isinstance(turn, dict):
            return f"message {index + 1} is not an object", f"第 {index + 1} 条消息不是对象"
        role = turn.get("role", turn.get("from"))
        content = turn.get("content", turn.get("value"))
        if SHAREGPT_ROLES.get(role) is None:
            return f"message {index + 1} has unknown role {role!r}", f"第 {index + 1} 条消息的角色 {role!r} 无法识别"
        if not isinstance(content, str):
            return f"message {index + 1} has no text content", f"第 {index + 1} 条消息没有文本内容"
        roles.append(SHAREGPT_ROLES[role])
    if "user" not in roles or "assistant" not in roles:
        return "it needs at least one user and one assistant message", "至少需要一条用户消息和一条助手消息"
    return None


def _check_length(table: pa.Table, name: str, limit_chars: int, out: _Collector) -> None:
    lengths = pc.fill_null(pc.utf8_length(table.column(name)), 0).to_numpy(zero_copy_only=False)
    positions = np.flatnonzero(lengths > limit_chars)
    out.counts["too_long"] += len(positions)
    for position in positions[: max(0, out.limit - len(out.problems))]:
        out.add_one(int(position), "too_long", name, "warning", count=False,
                    limit=limit_chars, length=int(lengths[position]))


def validate_table(table: pa.Table, schema: str | None = "auto", file: str | None = None,
                   max_length: dict[str, int] | None = None, limit: int = MAX_PROBLEMS) -> ValidationReport:
    """Check every row against the schema ("alpaca", "chat", or "auto" = from the columns)."""
    columns = [c for c in table.column_names if not c.startswith("_")]
    if schema in (None, "auto"):
        schema = detect_schema(columns)
    out = _Collector(table, file, limit)
    if schema == "alpaca":
        for name in ALPACA_REQUIRED:
            if name not in columns:
                out.add_one(-1, "missing_column", name, schema="Alpaca")
                continue
            nulls, blank = _blank_mask(table.column(name))
            out.add_mask(nulls, "missing_field", name)
            out.add_mask(blank & ~nulls, "empty_value", name)
        if "history" in columns:
            _check_history(table, out)
    elif schema == "chat":
        for name in ("conversations", "messages"):
            if name in columns:
                _check_messages(table, name, out)
    for name, limit_chars in (max_length or {}).items():
        if name in columns:
            _check_length(table, name, limit_chars, out)
    return ValidationReport(schema, table.num_rows, out.problems, out.counts, out.ids[out.bad])
