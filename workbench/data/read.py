"""Read a source file (JSON, JSONL, CSV, XLSX, Parquet, a `datasets` folder) into the table conventions.

`read_file` returns the table plus located problems; a file that cannot be read at all raises
`ReadError`. Nothing is written anywhere. See `workbench.data` for the table conventions.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa

from ..problems import Problem, ReadError
from ..records import SPLIT
from .encoding import DecodedStream, detect_encoding, resolve_encoding
from .read_convert import ProblemLog, finish_table, text_table, unique_names
from .read_json import read_json_array
from .read_jsonl import read_jsonl
from .read_sheets import list_xlsx_sheets, read_csv, read_xlsx

__all__ = ["ReadOptions", "ReadResult", "detect_format", "detect_encoding", "list_sheets", "read_file"]

FORMATS = ("json", "jsonl", "csv", "xlsx", "parquet", "hf")
SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "csv",
            ".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet", ".pq": "parquet"}
HF_MARKERS = ("dataset_dict.json", "dataset_info.json", "state.json")  # what `save_to_disk` leaves
SPLIT_NAMES = {"valid": "validation", "dev": "validation", "val": "validation", "eval": "validation"}
LISTED_WHEN_UNREADABLE = 50
SKIPPED_ROW_CODES = ("json_syntax", "row_not_object", "row_too_many_fields")  # the row is not in the table
SNIFF_BYTES = 64 << 20  # a first line longer than this is not taken as the start of JSON Lines
_NOT_SPACE = re.compile(rb"[^ \t\r\n]")


@dataclass
class ReadOptions:
    """How to read a source; None everywhere means "work it out from the file"."""

    format: str | None = None  # json, jsonl, csv, xlsx, parquet, hf; None = from the suffix / folder
    encoding: str | None = None  # None or "auto" = detect; else a codec name such as "gb18030"
    sheet: str | None = None  # xlsx sheet; None = the first one


@dataclass
class ReadResult:
    """The rows (see the conventions), the located problems, and facts about the source (format, rows...)."""

    table: pa.Table
    problems: list[Problem] = field(default_factory=list)
    info: dict = field(default_factory=dict)


def detect_format(path) -> str:
    """The format from the suffix (or a saved `datasets` folder); raises ReadError when unknown."""
    path = Path(path)
    if path.is_dir():
        if any((path / marker).is_file() for marker in HF_MARKERS):
            return "hf"
        raise ReadError([Problem("file_unsupported", file=path.name, params={"suffix": "folder"})])
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise ReadError([Problem("file_unsupported", file=path.name, params={"suffix": path.suffix or path.name})])
    return found


def list_sheets(path) -> list[str]:
    """Sheet names of an .xlsx workbook (empty for other formats)."""
    path = Path(path)
    if not path.exists():
        raise ReadError([Problem("file_not_found", file=path.name, params={"path": path.name})])
    return list_xlsx_sheets(path, path.name) if SUFFIXES.get(path.suffix.lower()) == "xlsx" else []


def read_file(path, options: ReadOptions | None = None, progress=None, display_name: str | None = None) -> ReadResult:
    """Read a whole source into a table following the conventions, with located problems.

    `progress(done, total)` is called now and then (bytes for text formats, rows otherwise).
    """
    options, path = options or ReadOptions(), Path(path)
    file = display_name or path.name
    if not path.exists():
        raise ReadError([Problem("file_not_found", file=file, params={"path": file})])
    try:
        fmt = (options.format or "").strip().lower() or detect_format(path)
    except ReadError as error:
        raise ReadError([_renamed(p, file) for p in error.problems]) from None
    if fmt not in FORMATS:
        raise ReadError([Problem("file_unsupported", file=file, params={"suffix": fmt})])
    size = _size(path)
    if path.is_file() and size == 0:
        raise ReadError([Problem("file_empty", file=file)])
    try:
        table, problems, info = _read(path, fmt, options, file, progress)
    except (OSError, pa.ArrowException, zipfile.BadZipFile) as error:
        raise ReadError([Problem("file_unreadable", file=file, params={"detail": str(error)})]) from None
    if table.num_rows == 0 and any(p.severity == "error" for p in problems):
        raise ReadError(problems[:LISTED_WHEN_UNREADABLE])
    columns = [name for name in table.column_names if not name.startswith("_")]
    return ReadResult(table, problems, {"format": fmt, "encoding": None, "rows": table.num_rows,
                                        "columns": columns, "bytes": size, "rows_skipped": _skipped(problems),
                                        **info})


def _skipped(problems: list[Problem]) -> int:
    """Source rows left out of the table because they could not be read (listed or only counted)."""
    listed = sum(1 for p in problems if p.code in SKIPPED_ROW_CODES)
    counted = sum(p.params.get("count", 0) for p in problems
                  if p.code == "problems_not_listed" and p.params.get("kind") in SKIPPED_ROW_CODES)
    return listed + counted


def _read(path: Path, fmt: str, options: ReadOptions, file: str, progress):
    """(table, problems, extra info) for one format."""
    if fmt in ("json", "jsonl", "csv"):
        encoding = resolve_encoding(path, options.encoding)
        info = {"encoding": encoding}
        if fmt == "csv":
            delimiter = "\t" if path.suffix.lower() == ".tsv" else None
            return (*read_csv(path, encoding, file, progress, delimiter), info)
        shape = _json_shape(path, encoding)
        if shape is None:
            raise ReadError([Problem("file_empty", file=file)])
        fmt = "jsonl" if shape == "lines" else "json" if shape == "array" else fmt
        reader = read_jsonl if fmt == "jsonl" else read_json_array
        return (*reader(path, encoding, file, progress), {**info, "format": fmt})
    if fmt == "xlsx":
        return read_xlsx(path, options.sheet, file, progress)
    if fmt == "parquet":
        return (*_read_parquet(path, file, progress), {})
    return _read_datasets(path, file, progress)


def _json_shape(path, encoding: str) -> str | None:
    """"array" ([...]), "lines" (a one-line object, then more), "other", or None when the text is blank.

    Reads only as far as the first line (at most SNIFF_BYTES), so a huge one-line array costs nothing.
    """
    with DecodedStream(path, encoding, count_lines=False) as stream:
        chunks = iter(lambda: stream.read(1 << 16), b"")
        for chunk in chunks:
            found = _NOT_SPACE.search(chunk)
            if found:
                head = chunk[found.start():]
                break
        else:
            return None
        if head[:1] != b"{":
            return "array" if head[:1] == b"[" else "other"
        parts, size = [head], len(head)
        while b"\n" not in parts[-1]:
            chunk = next(chunks, b"")
            if not chunk or size > SNIFF_BYTES:
                return "other"
            parts.append(chunk)
            size += len(chunk)
        line, _, rest = b"".join(parts).partition(b"\n")
        if not _is_object(line):
            return "other"
        more = _NOT_SPACE.search(rest) or any(_NOT_SPACE.search(chunk) for chunk in chunks)
        return "lines" if more else "other"


def _is_object(text: bytes) -> bool:
    try:
        return isinstance(orjson.loads(text), dict)
    except orjson.JSONDecodeError:
        return False


def _renamed(problem: Problem, file: str) -> Problem:
    return Problem(problem.code, problem.severity, file, problem.line, problem.row, problem.field,
                   problem.column, problem.params)


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _read_parquet(path, file, progress):
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    total, parts, done = parquet.metadata.num_rows, [], 0
    for group in range(parquet.num_row_groups):
        part = parquet.read_row_group(group)
        parts.append(text_table(part))
        done += part.num_rows
        if progress is not None:
            progress(done, total)
    table = pa.concat_tables(parts) if parts else text_table(parquet.schema_arrow.empty_table())
    log = ProblemLog(file)
    names = unique_names(table.column_names, log)
    return finish_table(dict(zip(names, table.columns)), np.arange(1, table.num_rows + 1)), log.problems()


def _read_datasets(path, file, progress):
    """A `save_to_disk` folder; a DatasetDict's splits are stacked with their name in `_split`."""
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError) as error:
        raise ReadError([Problem("file_unreadable", file=file, params={"detail": str(error)})]) from None
    splits = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [(None, loaded)]
    total = sum(len(dataset) for _, dataset in splits)
    parts, lines, done = [], [], 0
    for name, dataset in splits:
        part = text_table(dataset.with_format("arrow")[:] if len(dataset) else dataset.data.table.slice(0, 0))
        if name is not None:
            label = SPLIT_NAMES.get(str(name).lower(), str(name))
            part = part.drop_columns([c for c in part.column_names if c == SPLIT])
            part = part.add_column(0, SPLIT, pa.array([label] * part.num_rows, pa.string()))
        parts.append(part)
        lines.append(np.arange(1, part.num_rows + 1))
        done += part.num_rows
        if progress is not None:
            progress(done, total)
    table = pa.concat_tables(parts, promote_options="default")
    log = ProblemLog(file)
    names = unique_names(table.column_names, log)
    info = {"splits": [str(name) for name, _ in splits]} if isinstance(loaded, datasets.DatasetDict) else {}
    return finish_table(dict(zip(names, table.columns)), np.concatenate(lines)), log.problems(), info
