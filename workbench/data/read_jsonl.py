"""Read JSON Lines into the table conventions, with every bad line located.

The whole file first goes through `pyarrow.json.read_json` (multithreaded, no Python object per row).
If that fails (a broken line, a row that is not an object, a field whose type changes), the file is
read again in pieces of whole lines: worker threads parse each piece with pyarrow, and only the pieces
pyarrow rejects are parsed line by line in Python, which locates each problem. So one broken line in a
million costs one piece of Python parsing, not a million rows of it.
"""
from __future__ import annotations

import json
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ..problems import Problem
from .encoding import UTF8_NAMES, DecodedStream, arrow_read, decode_error, iter_lines
from .json_messages import json_error_zh
from .read_convert import ProblemLog, finish_table, text_table, wrong_type_problems
from .read_json import SNIPPET_CHARS, RowBuilder, found_params

PIECE_BYTES = 8 << 20


class _NotUtf8(Exception):
    """A piece holds bytes that are not UTF-8 (pyarrow's JSON parser does not check)."""


def read_jsonl(path, encoding: str, file: str, progress=None) -> tuple[pa.Table, list[Problem]]:
    """JSON Lines: one object per line; blank lines are skipped and line numbers stay true to the file."""
    whole = _read_whole(path, encoding, file, progress)
    if whole is not None:
        return whole
    return _read_pieces(path, encoding, file, progress)


def _read_whole(path, encoding, file, progress):
    """The fast path; None when pyarrow cannot take the file as it is."""
    read = arrow_read(path, encoding, file, progress,
                      lambda text, block: pj.open_json(text, read_options=pj.ReadOptions(block_size=block)).read_all())
    if read is None:
        return None
    table, stream = read
    if encoding in UTF8_NAMES:  # transcoded text is valid UTF-8 by construction
        try:
            with ThreadPoolExecutor(max(1, pa.cpu_count())) as pool:
                list(pool.map(_check_utf8, [chunk for column in table.columns for chunk in column.chunks]))
        except _NotUtf8:
            raise decode_error(path, encoding, file) from None
    if not _plain(table):
        return None
    lines = _whole_lines(table.num_rows, stream, path, encoding)
    if lines is None:
        return None
    log = ProblemLog(file)
    wrong_type_problems(table, lines, log)
    return finish_table(dict(zip(table.column_names, table.columns)), lines), log.problems()


def _check_utf8(array: pa.Array) -> None:
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        raise _NotUtf8() from None


def _plain(table: pa.Table) -> bool:
    """False when pyarrow changed what was written: date-like text read as timestamps, huge integers as doubles."""
    for column in table.columns:
        if _has_temporal(column.type):
            return False
        if pa.types.is_floating(column.type) and column.null_count < len(column):
            largest = pc.max(pc.abs(column)).as_py()
            if largest is not None and largest >= 2 ** 63:
                return False
    return True


def _has_temporal(kind: pa.DataType) -> bool:
    if pa.types.is_temporal(kind):
        return True
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _has_temporal(kind.value_type)
    return pa.types.is_struct(kind) and any(_has_temporal(kind.field(i).type) for i in range(kind.num_fields))


def _whole_lines(rows: int, stream: DecodedStream, path, encoding) -> np.ndarray | None:
    """Source line of each row; None when rows and non-blank lines do not pair up (two objects on a line)."""
    if stream.last_content_line() == rows:
        return np.arange(1, rows + 1, dtype=np.int64)
    with DecodedStream(path, encoding) as again:  # blank lines in between: find the non-blank ones
        lines = np.fromiter((number for number, text in iter_lines(again) if text.strip()), dtype=np.int64)
    return lines if len(lines) == rows else None


def _read_pieces(path, encoding, file, progress):
    log = ProblemLog(file)
    parts: list[pa.Table] = []
    lines: list[np.ndarray] = []
    workers = max(1, pa.cpu_count())
    with DecodedStream(path, encoding, progress, count_lines=False) as stream, ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        try:
            for first, data, newlines in _pieces(stream):
                pending.append((first, data, newlines, pool.submit(_parse_piece, data)))
                if len(pending) > workers:  # keep a few pieces in flight, not the whole file in memory
                    _collect(*pending.popleft(), parts, lines, log)
            while pending:
                _collect(*pending.popleft(), parts, lines, log)
        except (UnicodeDecodeError, _NotUtf8):
            raise decode_error(path, encoding, file) from None
    if not parts:
        return finish_table({}, []), log.problems()
    table = pa.concat_tables(parts, promote_options="default")
    return finish_table(dict(zip(table.column_names, table.columns)), np.concatenate(lines)), log.problems()


def _pieces(stream: DecodedStream):
    """(first line number, bytes of whole lines, newlines in them) of about PIECE_BYTES each."""
    number, rest = 1, b""
    for chunk in iter(lambda: stream.read(PIECE_BYTES), b""):
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        piece, rest = data[:cut], data[cut:]
        if piece:
            newlines = piece.count(b"\n")
            yield number, piece, newlines
            number += newlines
    if rest:
        yield number, rest, rest.count(b"\n")


def _parse_piece(data: bytes) -> pa.Table | None:
    """pyarrow's parse of one piece (in a worker thread); None when it rejects or alters the piece."""
    try:
        options = pj.ReadOptions(block_size=len(data) + 1, use_threads=False)
        table = pj.read_json(pa.BufferReader(data), read_options=options)
    except pa.ArrowInvalid:
        return None
    for column in table.columns:
        for chunk in column.chunks:
            _check_utf8(chunk)
    return table if _plain(table) else None


def _collect(first: int, data: bytes, newlines: int, future, parts: list, lines: list, log: ProblemLog) -> None:
    """Add one piece's rows: pyarrow's table when it took the piece, else a located line-by-line parse."""
    table, done = future.result(), sum(len(piece) for piece in lines)
    piece_lines = _piece_lines(table.num_rows, data, first, newlines) if table is not None else None
    if piece_lines is None:
        builder = RowBuilder(log, first_row=done)
        for number, raw in enumerate(data.split(b"\n"), start=first):
            _add_line(number, raw, builder, log)
        text, piece_lines = builder.text_table()
    else:
        wrong_type_problems(table, piece_lines, log, first_row=done)
        text = text_table(table)
    parts.append(text)
    lines.append(piece_lines)


def _piece_lines(rows: int, data: bytes, first: int, newlines: int) -> np.ndarray | None:
    if rows == newlines + (0 if data.endswith(b"\n") else 1):
        return np.arange(first, first + rows, dtype=np.int64)
    numbers = [first + i for i, line in enumerate(data.split(b"\n")) if line.strip()]
    return np.asarray(numbers, dtype=np.int64) if len(numbers) == rows else None


def _add_line(number: int, raw: bytes, builder: RowBuilder, log: ProblemLog) -> None:
    if not raw.strip():
        return  # blank lines are skipped; numbering stays true to the file
    value, error = _parse_line(raw)
    if error is not None:
        log.add("json_syntax", line=number, column=error.colno, detail=error.msg, text=error.doc[:SNIPPET_CHARS],
                detail_zh=json_error_zh(error.msg, number, error.colno))
    elif not isinstance(value, dict):
        log.add("row_not_object", line=number, **found_params(value))
    else:
        builder.add(value, number)


def _parse_line(raw: bytes):
    """(value, None) or (None, the JSONDecodeError locating the fault within the line)."""
    try:
        return orjson.loads(raw), None
    except orjson.JSONDecodeError:
        pass
    text = raw.decode("utf-8").rstrip("\r")  # not UTF-8 -> UnicodeDecodeError, located by the caller
    try:
        return json.loads(text), None  # accepts what orjson refuses: integers beyond 64 bits, NaN
    except json.JSONDecodeError as error:
        return None, error
