"""Import in two steps: stage (read + validate, nothing listed yet) then commit (fixes, drops → v1).

A staged import lives under `staging/<id>/`: the parsed rows as Parquet and the located problems.
The user reviews problems, fixes cells or drops bad rows, and only then does a dataset appear. A
file that cannot be read at all raises `ReadError` and leaves the workspace untouched.
"""
from __future__ import annotations

import json
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..problems import Problem
from ..storage import atomic_path, write_json_atomic
from . import edit
from .read import ReadOptions, read_file
from .validate import validate_table

STAGING_MAX_AGE_SECONDS = 7 * 24 * 3600


@dataclass
class StagedImport:
    id: str
    folder: Path
    source: str
    info: dict
    problems: list[Problem]
    counts: dict
    error_rows: list[int]

    @property
    def rows_path(self) -> Path:
        return self.folder / "rows.parquet"

    @property
    def rows(self) -> int:
        return int(self.info.get("rows", 0))

    @property
    def lines_skipped(self) -> int:
        """Source lines/rows that could not be read at all (broken JSONL lines, malformed CSV rows)."""
        return int(self.info.get("rows_skipped", 0))

    def summary(self) -> dict:
        return {"staging_id": self.id, "source": self.source, "rows": self.rows,
                "rows_with_errors": len(self.error_rows), "lines_skipped": self.lines_skipped, "problems": self.counts,
                "format": self.info.get("format"), "encoding": self.info.get("encoding")}


def stage_file(ws, path: str | Path, options: ReadOptions | None = None, display_name: str | None = None,
               progress=None) -> StagedImport:
    """Read and validate a file into a staging folder; raises ReadError when it cannot be read."""
    display_name = display_name or Path(path).name
    result = read_file(path, options or ReadOptions(), progress=progress, display_name=display_name)
    report = validate_table(result.table, "auto", file=display_name)
    problems = _merge(result.problems, report.problems)
    error_rows = sorted(set(report.error_rows.tolist()) | {row for p in result.problems for row in _error_rows(p)})
    counts = dict(report.counts)
    for problem in result.problems:
        listed = problem.code != "problems_not_listed"
        code = problem.code if listed else problem.params["kind"]
        counts[code] = counts.get(code, 0) + (1 if listed else problem.params["count"])
    staging_id = uuid.uuid4().hex[:12]
    folder = ws.root / "staging" / staging_id
    folder.mkdir(parents=True)
    with atomic_path(folder / "rows.parquet") as tmp:
        pq.write_table(result.table, tmp, compression="zstd")
    staged = StagedImport(staging_id, folder, display_name, {**result.info, "rows": result.table.num_rows,
                          "schema": report.schema, "path": str(path), "encoding": shown_encoding(result.info)},
                          problems, counts, error_rows)
    write_json_atomic(folder / "meta.json", {
        "source": display_name, "info": staged.info, "counts": counts, "error_rows": error_rows,
        "problems": [p.to_dict() for p in problems], "created_at": time.time()})
    return staged


TEXT_FORMATS = ("csv", "json", "jsonl")  # read through a text encoding; the others store text as UTF-8 themselves


def shown_encoding(info: dict) -> str:
    """What a summary shows beside the format ("csv, gb18030"): the text encoding, or for a workbook the
    sheet that was read (its text has no encoding to choose); never None."""
    if info.get("format") in TEXT_FORMATS and info.get("encoding"):
        return info["encoding"]
    if info.get("format") == "xlsx" and info.get("sheet"):
        return str(info["sheet"])
    return "utf-8"  # Parquet and datasets folders: Arrow strings are UTF-8 by definition


def _error_rows(problem: Problem) -> list[int]:
    """The rows an error is about: its own row, or those of the unlisted errors a summary stands for."""
    if problem.severity != "error":
        return []
    if problem.code == "problems_not_listed":
        return problem.params.get("rows", [])
    return [] if problem.row is None else [problem.row]


def _merge(first: list[Problem], second: list[Problem]) -> list[Problem]:
    seen, merged = set(), []
    for problem in first + second:
        key = (problem.code, problem.line, problem.row, problem.field)
        if key not in seen:
            seen.add(key)
            merged.append(problem)
    return merged


def _staging_folder(ws, staging_id: str) -> Path:
    """staging/<id>; an id that names no folder of its own ("", ".", "..") is refused, or a discard of
    "staging/.." would remove the whole workspace."""
    name = Path(str(staging_id)).name
    if name in ("", ".", ".."):
        raise ValueError(f"Not a staging id: {staging_id!r}")
    return ws.root / "staging" / name


def load_staged(ws, staging_id: str) -> StagedImport:
    folder = _staging_folder(ws, staging_id)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    return StagedImport(folder.name, folder, meta["source"], meta["info"],
                        [Problem.from_dict(p) for p in meta["problems"]], meta["counts"], meta["error_rows"])


def staged_rows(staged: StagedImport, row_ids: list[int] | None = None, limit: int = 200) -> pa.Table:
    """Rows of a staged import (those with the given ids, or the first `limit`)."""
    table = pq.read_table(staged.rows_path, memory_map=True)
    if row_ids is None:
        return table.slice(0, limit)
    mask = np.isin(table.column("_id").to_numpy(), np.asarray(row_ids[:limit], dtype=np.int64))
    return table.filter(pa.array(mask))


def remaining_errors(staged: StagedImport, table: pa.Table, fixed: dict[int, dict]) -> set[int]:
    """Rows still in error after fixes: read problems on unfixed cells plus a fresh validation."""
    revalidated = ("missing_field", "empty_value", "history_shape", "messages_shape")
    unresolved = {row for p in staged.problems if p.params.get("kind", p.code) not in revalidated
                  for row in _error_rows(p) if p.field not in fixed.get(row, {})}
    return unresolved | set(validate_table(table, "auto").error_rows.tolist())


def commit_staged(ws, staging_id: str, name: str, drop_error_rows: bool = False,
                  fixes: dict[int, dict] | None = None, description: str = ""):
    """Create the dataset (version 1) from a staged import with the user's fixes and drops."""
    staged = load_staged(ws, staging_id)
    table = pq.read_table(staged.rows_path)
    fixes = {int(k): v for k, v in (fixes or {}).items()}
    if fixes:
        table = edit.update_rows(table, fixes)
    errors = remaining_errors(staged, table, fixes)
    dropped = 0
    if drop_error_rows and errors:
        before = table.num_rows
        table = edit.delete_rows(table, sorted(errors))
        dropped = before - table.num_rows
    text_encoding = staged.info.get("encoding") if staged.info.get("format") in TEXT_FORMATS else None
    params = {"source": staged.source, "format": staged.info.get("format"),
              "encoding": text_encoding, "sheet": staged.info.get("sheet"),
              "rows_read": staged.rows, "lines_skipped": staged.lines_skipped, "fixed_rows": len(fixes), "dropped_rows": dropped,
              "rows_with_errors_kept": 0 if drop_error_rows else len(errors),
              "problems": staged.counts}
    version = ws.create_dataset(name or Path(staged.source).stem, table, "import", params, description)
    shutil.rmtree(staged.folder, ignore_errors=True)
    return version


def discard_staged(ws, staging_id: str) -> None:
    shutil.rmtree(_staging_folder(ws, staging_id), ignore_errors=True)


def remove_old_staging(ws) -> int:
    removed = 0
    for folder in (ws.root / "staging").iterdir():
        if folder.is_dir() and time.time() - folder.stat().st_mtime > STAGING_MAX_AGE_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


BACKGROUND_BYTES = 20 * 1024 * 1024  # bigger files are read by a background job with progress


def should_run_in_background(path: str | Path) -> bool:
    path = Path(path)
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else (
        path.stat().st_size if path.exists() else 0)
    return size > BACKGROUND_BYTES


def save_upload(ws, filename: str, stream, chunk_bytes: int = 1 << 20) -> Path:
    """Copy an uploaded file object to the workspace in chunks (sanitized name, never outside)."""
    target = ws.path_for_upload(filename)
    stream.seek(0)
    with atomic_path(target) as tmp, open(tmp, "wb") as out:
        shutil.copyfileobj(stream, out, chunk_bytes)
    return target


def numbered_rows(frame):
    """Rows to fix with `_row` (the row number counted from 1, as problems show it) first, then `_line` (the
    source line, when the reader kept one) and the cells; `_id`, which fixes are keyed by, stays."""
    frame = frame.copy()
    frame.insert(0, "_row", frame["_id"].astype("int64") + 1)
    if "_line" in frame.columns:
        frame.insert(1, "_line", frame.pop("_line"))
    return frame


def cell_changes(before, after) -> dict[int, dict]:
    """Edited cells between two DataFrames with an `_id` column: {row_id: {column: new value}}."""
    changes: dict[int, dict] = {}
    columns = [c for c in before.columns if not str(c).startswith("_")]
    for (_, old), (_, new) in zip(before.iterrows(), after.iterrows()):
        for column in columns:
            old_value, new_value = _cell(old[column]), _cell(new[column])
            if old_value != new_value:
                changes.setdefault(int(old["_id"]), {})[column] = new_value
    return changes


def _cell(value):
    import pandas as pd

    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
