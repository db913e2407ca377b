"""Read CSV and Excel (.xlsx) sheets into the table conventions; `_line` is where a row starts in its source.

In a CSV that is the physical line of the text file (a quoted cell holding line breaks makes a record span
several lines, and every later record is located after them, as in an editor); in a workbook it is the
row number the spreadsheet shows.

CSV goes through pyarrow's multithreaded reader with every column as text; a file it rejects (a row
with more fields than the header, blank lines before the header) is parsed again with Python's csv
module, which locates each bad row. Fully empty rows are skipped in both formats, as a spreadsheet
user would not count them as data.
"""
from __future__ import annotations

import csv
import datetime
import io
import itertools
import math
import zipfile
from functools import reduce

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from ..problems import Problem, ReadError
from .encoding import DecodedStream, arrow_read, decode_error
from .read_convert import ProblemLog, finish_table, unique_names

BATCH_ROWS = 50_000
LISTED_LINES = 20
PROGRESS_EVERY_ROWS = 10_000


def read_csv(path, encoding: str, file: str, progress=None, delimiter: str | None = None):
    """A CSV file with a header row; every cell as text, empty cells as null."""
    csv.field_size_limit(1 << 30)  # the default (128 KiB) is smaller than a long answer
    header, header_row, delimiter = _csv_header(path, encoding, file, delimiter)
    log = ProblemLog(file)
    names = unique_names(header, log)
    table = _read_csv_arrow(path, encoding, file, progress, len(names), delimiter) if header_row == 1 else None
    if table is not None:
        lines = _record_start_lines(table)
        table = table.slice(1)
        columns = dict(zip(names, table.columns))
    else:
        columns, lines = _read_csv_python(path, encoding, file, progress, names, delimiter, header_row, log)
    unnamed = [name for name, field in zip(names, header) if not field.strip()]
    columns = {name: column for name, column in columns.items()
               if name not in unnamed or column.null_count < len(column)}  # e.g. a header ending in ","
    columns, lines = drop_empty_rows(columns, lines, log)
    return finish_table(columns, lines), log.problems()


def _text_reader(path, encoding, progress=None):
    stream = DecodedStream(path, encoding, progress)
    return io.TextIOWrapper(io.BufferedReader(stream, 1 << 20), encoding="utf-8", newline="")


def _csv_header(path, encoding, file, delimiter):
    """(header fields, its record number, delimiter): the first non-blank record."""
    with _text_reader(path, encoding) as text:
        try:
            first_line = text.readline()
            if delimiter is None:
                delimiter = next((d for d in (",", "\t", ";") if d in first_line), ",")
            records = csv.reader(itertools.chain([first_line], text), delimiter=delimiter)
            for number, record in enumerate(records, start=1):
                if any(field.strip() for field in record):
                    return record, number, delimiter
        except UnicodeDecodeError:
            raise decode_error(path, encoding, file) from None
    raise ReadError([Problem("file_empty", file=file)])


def _read_csv_arrow(path, encoding, file, progress, width, delimiter) -> pa.Table | None:
    """All rows as text with pyarrow (header included as the first row); None when a row is irregular."""
    irregular = []
    parse = pv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False,
                            invalid_row_handler=lambda row: irregular.append(row) or "skip")
    convert = pv.ConvertOptions(column_types={f"f{i}": pa.string() for i in range(width)}, null_values=[""],
                                strings_can_be_null=True, quoted_strings_can_be_null=True)
    read = arrow_read(path, encoding, file, progress, lambda text, block: pv.read_csv(
        text, read_options=pv.ReadOptions(autogenerate_column_names=True, block_size=block), parse_options=parse,
        convert_options=convert), utf8_invalid_is_decode_error=True)
    if read is None:
        return None
    table, _ = read
    if irregular or table.num_columns != width or table.num_rows == 0:
        return None
    return table


def _record_start_lines(table: pa.Table) -> np.ndarray:
    """The physical line where each data record starts, from the line breaks inside the cells before it.

    `table` still holds the header as its first record; a record spans 1 + (breaks in its cells) lines,
    counting \r\n, \n and a lone \r as one break each, as the text reader does.
    """
    breaks = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        counts = [pc.count_substring(column, pattern) for pattern in ("\n", "\r", "\r\n")]
        newlines, returns, pairs = (np.asarray(pc.fill_null(c, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
                                    for c in counts)
        breaks += newlines + returns - pairs
    starts = 1 + np.concatenate([[0], np.cumsum(1 + breaks)[:-1]])
    return starts[1:]


def _read_csv_python(path, encoding, file, progress, names, delimiter, header_row, log):
    """Row by row with the csv module: every irregular row located by the line where its record starts."""
    width, batches, empty = len(names), [], []
    values: list[list] = [[] for _ in names]
    lines: list[int] = []
    with _text_reader(path, encoding, progress) as text:
        try:
            reader = csv.reader(text, delimiter=delimiter)
            start = 1  # reader.line_num counts physical lines, so a multi-line cell moves the next start on
            for index, record in enumerate(reader, start=1):
                number, start = start, reader.line_num + 1
                if index <= header_row:
                    continue
                if len(record) > width and not any(record[width:]):
                    record = record[:width]  # trailing delimiters, as some exports write them
                if len(record) > width:
                    log.add("row_too_many_fields", line=number, found=len(record), expected=width,
                            text=delimiter.join(record)[:200])
                    continue
                if not any(record):
                    empty.append(number)
                    continue
                if len(record) < width:
                    log.add("row_too_few_fields", "warning", line=number, row=len(lines), found=len(record),
                            expected=width)
                    record = record + [""] * (width - len(record))
                for column, value in zip(values, record):
                    column.append(value if value != "" else None)
                lines.append(number)
                if len(values[0]) >= BATCH_ROWS:
                    batches.append([pa.array(column, pa.string()) for column in values])
                    values = [[] for _ in names]
        except UnicodeDecodeError:
            raise decode_error(path, encoding, file) from None
    batches.append([pa.array(column, pa.string()) for column in values])
    columns = {name: pa.chunked_array([batch[i] for batch in batches], pa.string()) for i, name in enumerate(names)}
    _note_empty_rows([n for n in empty if lines and n < lines[-1]], log)
    return columns, np.asarray(lines, dtype=np.int64)


def _note_empty_rows(numbers: list[int], log: ProblemLog) -> None:
    """Empty rows before the last data row are worth a warning; trailing ones are just the file's end."""
    if numbers:
        log.add("rows_skipped_empty", "warning", count=len(numbers), lines=[int(n) for n in numbers[:LISTED_LINES]])


def drop_empty_rows(columns: dict, lines: np.ndarray, log: ProblemLog):
    """Remove rows whose cells are all null; warn about those before the last data row."""
    if not columns or not len(lines):
        return columns, lines
    empty = reduce(pc.and_, (column.is_null() for column in columns.values()))
    empty = np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)
    if not empty.any():
        return columns, lines
    keep = ~empty
    last = np.flatnonzero(keep)[-1] if keep.any() else 0
    _note_empty_rows(lines[np.flatnonzero(empty[:last])].tolist(), log)
    mask = pa.array(keep)
    return {name: column.filter(mask) for name, column in columns.items()}, lines[keep]


def _open_workbook(path, file):
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        detail = f"not a valid .xlsx file ({error})"
        raise ReadError([Problem("file_unreadable", file=file, params={"detail": detail})]) from None


def list_xlsx_sheets(path, file: str | None = None) -> list[str]:
    workbook = _open_workbook(path, file)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def read_xlsx(path, sheet: str | None, file: str, progress=None):
    """One sheet: first non-empty row is the header; merged ranges filled from their top-left cell."""
    workbook = _open_workbook(path, file)
    log = ProblemLog(file)
    try:
        names = list(workbook.sheetnames)
        if sheet is None:
            sheet = names[0]
            if len(names) > 1:
                log.add("several_sheets", "warning", count=len(names), names=", ".join(names), sheet=sheet)
        elif sheet not in names:
            raise ReadError([Problem("sheet_not_found", file=file, params={"sheet": sheet, "names": ", ".join(names)})])
        rows, merged = _sheet_cells(workbook, workbook[sheet], progress)
    finally:
        workbook.close()
    if merged:
        _fill_merged(rows, merged)
        shown = ", ".join(merged[:LISTED_LINES]) + (", ..." if len(merged) > LISTED_LINES else "")
        log.add("merged_cells", "warning", ranges=shown, count=len(merged))
    table = _sheet_table(rows, log, file)
    return table, log.problems(), {"sheets": names, "sheet": sheet}


def _sheet_cells(workbook, worksheet, progress):
    """{row number: {column number: value}} for rows with a value, and the merged ranges ("A1:B2")."""
    # openpyxl's read-only sheets do not expose merged ranges; its parser (what they use inside) does.
    from openpyxl.worksheet._reader import WorkSheetParser

    rows: dict[int, dict[int, object]] = {}
    total = worksheet.max_row or 0
    with worksheet._get_source() as source:
        parser = WorkSheetParser(source, worksheet._shared_strings, data_only=True, epoch=workbook.epoch,
                                 date_formats=workbook._date_formats, timedelta_formats=workbook._timedelta_formats)
        for count, (number, cells) in enumerate(parser.parse(), start=1):
            values = {cell["column"]: cell["value"] for cell in cells if _present(cell["value"])}
            if values:
                rows[number] = values
            if progress is not None and count % PROGRESS_EVERY_ROWS == 0:
                progress(count, max(total, count))
        merged = [str(item.ref) for item in parser.merged_cells.mergeCell] if parser.merged_cells else []
    if progress is not None:
        progress(max(total, len(rows)), max(total, len(rows)))
    return rows, merged


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _fill_merged(rows: dict, merged: list[str]) -> None:
    from openpyxl.utils.cell import range_boundaries

    for ref in merged:
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        value = rows.get(min_row, {}).get(min_col)
        if value is None:
            continue
        for number in range(min_row, max_row + 1):
            row = rows.setdefault(number, {})
            for column in range(min_col, max_col + 1):
                row[column] = value


def _sheet_table(rows: dict, log: ProblemLog, file: str) -> pa.Table:
    """The first row with a value is the header; an unnamed column is called after its letter (column_D)."""
    from openpyxl.utils.cell import get_column_letter

    if not rows:
        raise ReadError([Problem("no_columns", file=file)])
    numbers = sorted(rows)
    header_row, data_rows = numbers[0], numbers[1:]
    header = rows[header_row]
    used = sorted(set(header).union(*(rows[n].keys() for n in data_rows)))
    names = unique_names([cell_text(header.get(column)) or f"column_{get_column_letter(column)}" for column in used],
                         log)
    columns = {name: pa.array([cell_text(rows[n].get(column)) for n in data_rows], pa.string())
               for name, column in zip(names, used)}
    if data_rows and data_rows[-1] - header_row > len(data_rows):
        present = set(data_rows)
        _note_empty_rows([n for n in range(header_row + 1, data_rows[-1]) if n not in present], log)
    return finish_table(columns, data_rows)


def cell_text(value) -> str | None:
    """A cell as text the way a spreadsheet shows it: 3 not 3.0, 0.3 not 0.30000000000000004."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)
