"""Read a JSON file holding an array of objects; also the row building shared with JSON Lines.

The array is parsed element by element with the standard decoder, so each row keeps the line where
its element starts and a syntax error is located by line and column. A JSON array is read whole
(it is one value); large data belongs in JSON Lines, which `read_jsonl` streams.
"""
from __future__ import annotations

import json
import os
import re
from array import array

import numpy as np
import orjson
import pyarrow as pa

from ..problems import Problem, ReadError
from .encoding import decode_error
from .json_messages import json_error_zh
from .read_convert import ProblemLog, expected_type, finish_table

BATCH_ROWS = 50_000
SNIPPET_CHARS = 200
PROGRESS_EVERY_ROWS = 20_000
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_FIRST_KEY = re.compile(r'\{[ \t\n\r]*"(?:[^"\\]|\\.)*"[ \t\n\r]*:[ \t\n\r]*')
_FOUND = {"text": "文本", "a number": "一个数字", "a boolean": "一个布尔值", "a list": "一个列表",
          "an object": "一个对象", "null": "空值"}


def json_type(value) -> str:
    """The JSON type name used in wrong_type problems."""
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "list"
    return "object" if isinstance(value, dict) else "null"


def found_params(value) -> dict:
    """found / found_zh params naming a value's type as a phrase ("an object", "a number")."""
    name = {"text": "text", "boolean": "a boolean", "number": "a number", "list": "a list",
            "object": "an object", "null": "null"}[json_type(value)]
    return {"found": name, "found_zh": _FOUND[name]}


def value_text(value) -> str | None:
    """A parsed JSON value as stored: text as is, numbers and booleans as JSON, nested as compact JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else None
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):  # integers beyond 64 bits
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class RowBuilder:
    """Collects JSON objects into Arrow batches of text columns, noting wrong types as it goes."""

    def __init__(self, log: ProblemLog, first_row: int = 0, batch_rows: int = BATCH_ROWS):
        self.log, self.first_row, self.batch_rows = log, first_row, batch_rows
        self.columns: dict[str, list] = {}
        self.lines = array("q")
        self.size = 0
        self.batches: list[pa.Table] = []

    def add(self, row: dict, line: int) -> None:
        row_id = self.first_row + len(self.lines)
        for key, value in row.items():
            values = self.columns.get(key)
            if values is None:
                values = self.columns[key] = [None] * self.size
            expected = expected_type(key)
            if expected is not None and value is not None:
                self._check_type(key, value, expected, line, row_id)
            values.append(value_text(value))
        self.size += 1
        self.lines.append(line)
        if len(row) != len(self.columns):
            for values in self.columns.values():
                if len(values) < self.size:
                    values.append(None)
        if self.size >= self.batch_rows:
            self._flush()

    def _check_type(self, key, value, expected, line, row_id) -> None:
        found = json_type(value)
        if found == expected or (found == "text" and not value.strip()):
            return
        self.log.add("wrong_type", line=line, row=row_id, field=key, expected=expected, found=found)

    def _flush(self) -> None:
        if self.size:
            self.batches.append(pa.table({k: pa.array(v, pa.string()) for k, v in self.columns.items()}))
        self.columns = {name: [] for name in self.columns}
        self.size = 0

    def text_table(self) -> tuple[pa.Table, np.ndarray]:
        """The rows so far as text columns (no `_id`/`_line` yet) and their source lines."""
        self._flush()
        if not self.batches:
            empty = pa.table({name: pa.array([], pa.string()) for name in self.columns})
            return empty, np.zeros(0, dtype=np.int64)
        return pa.concat_tables(self.batches, promote_options="default"), np.asarray(self.lines, dtype=np.int64)

    def table(self) -> pa.Table:
        table, lines = self.text_table()
        return finish_table(dict(zip(table.column_names, table.columns)), lines)


def read_json_array(path, encoding: str, file: str, progress=None) -> tuple[pa.Table, list[Problem]]:
    """A JSON file holding an array of objects (or an object wrapping one list of them)."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise decode_error(path, encoding, file) from None
    del data
    log = ProblemLog(file)
    start = _skip(text, 0)
    if start == len(text):
        raise ReadError([Problem("file_empty", file=file)])
    wrapped = text[start] != "["
    if wrapped:
        start = _wrapped_list(text, start, file, log)
    builder = RowBuilder(log)
    end = _array_rows(text, start, builder, log, _scaled(progress, len(text), os.path.getsize(path)))
    if not wrapped and _skip(text, end) < len(text):  # a wrapping object was checked whole already
        _syntax_error(text, _skip(text, end), "Extra data after the array", file)
    return builder.table(), log.problems()


def _scaled(progress, characters: int, total_bytes: int):
    """Progress in bytes (as the other readers report it) from a position in the decoded text."""
    if progress is None:
        return None
    return lambda done, _: progress(int(done / max(1, characters) * total_bytes), total_bytes)


def _skip(text: str, position: int) -> int:
    return _WHITESPACE.match(text, position).end()


def _array_rows(text, start, builder, log, progress) -> int:
    """Parse the array at `start` element by element; returns the position after its ']'."""
    decoder, size = json.JSONDecoder(), len(text)
    position = _skip(text, start + 1)
    if position < size and text[position] == "]":
        return position + 1
    line, counted = text.count("\n", 0, position) + 1, position
    while True:
        line += text.count("\n", counted, position)
        counted = position
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise _located_error(error, log.file) from None
        if isinstance(value, dict):
            builder.add(value, line)
        else:
            log.add("row_not_object", line=line, **found_params(value))
        if progress is not None and len(builder.lines) % PROGRESS_EVERY_ROWS == 0:
            progress(end, size)
        position = _skip(text, end)
        if position < size and text[position] == ",":
            position = _skip(text, position + 1)
        elif position < size and text[position] == "]":
            if progress is not None:
                progress(size, size)
            return position + 1
        else:
            _syntax_error(text, position, "Expecting ',' or ']' after an array element", log.file)


def _wrapped_list(text, start, file, log) -> int:
    """For {"key": [rows]}: warn and return where the list starts; any other top-level value is an error."""
    try:
        value, end = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError as error:
        raise _located_error(error, file) from None
    if _skip(text, end) < len(text):
        _syntax_error(text, _skip(text, end), "Extra data after the first value", file)
    found = found_params(value)
    lists = [key for key, item in value.items() if _rows_list(item)] if isinstance(value, dict) else []
    match = _FIRST_KEY.match(text, start)
    if isinstance(value, dict) and len(value) == 1 and lists and match and text[match.end()] == "[":
        log.add("json_not_array", "warning", line=text.count("\n", 0, start) + 1, **found,
                hint=f" The rows were read from its '{lists[0]}' list.", hint_zh=f"已读取其中“{lists[0]}”列表中的行。")
        return match.end()
    hint, hint_zh = "", ""
    if lists:
        names = ", ".join(f"'{key}'" for key in lists)
        hint = f" The rows seem to be in {names}; save that list as the whole file."
        hint_zh = f"行数据似乎在 {names} 中；请将该列表单独保存为文件内容。"
    raise ReadError([Problem("json_not_array", file=file, line=text.count("\n", 0, start) + 1,
                             params={**found, "hint": hint, "hint_zh": hint_zh})])


def _rows_list(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value[:100])


def _located_error(error: json.JSONDecodeError, file: str) -> ReadError:
    line_start = error.doc.rfind("\n", 0, error.pos) + 1
    snippet = error.doc[line_start: line_start + SNIPPET_CHARS].split("\n", 1)[0]
    return ReadError([Problem("json_syntax", file=file, line=error.lineno, column=error.colno,
                              params={"detail": error.msg, "text": snippet,
                                      "detail_zh": json_error_zh(error.msg, error.lineno, error.colno)})])


def _syntax_error(text: str, position: int, message: str, file: str):
    raise _located_error(json.JSONDecodeError(message, text, position), file)
