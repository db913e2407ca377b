"""Quality of stored versions: options, reports cached next to the version, one-click fixes.

A report is cached as `quality-vNNNNN-<options digest>.json` beside the version file (version files
never change, so a cached report never goes stale). Each fix reads the version, drops the rows the
report names and commits the next version with op + params (dropped ids listed up to
`LISTED_IDS`); a save from a version that is no longer the newest raises `StaleVersionError`.
Row ids are stable, so a report of version N also drives fixes on its descendants: a group keeps its
first row that is still there.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, Field, field_validator

from ..records import ROW_ID, SPLIT
from ..storage import write_json_atomic
from . import edit
from .browse import _take_positions
from .quality import FIXES, QualityReport, quality_report

LISTED_IDS = 1_000  # ids kept in a version's params; the count is always exact
FIX_OPS = {"exact": "dedup", "near": "dedup", "leakage": "drop_leakage", "empty": "drop_empty",
           "too_long": "drop_too_long"}


class QualityOptions(BaseModel):
    """What the report checks; the page form, the CLI flags and the job params all fill this."""

    fields: list[str] | None = None  # columns compared and measured; None = every user column
    label_field: str | None = None  # column whose balance is shown, e.g. the output of a classifier
    max_tokens: int | None = Field(None, ge=1)  # longer rows (fields summed) are "too long"
    tokenizer: str | None = None  # model id whose tokenizer counts tokens; None counts characters
    near_threshold: float = Field(0.8, ge=0.5, le=0.95)  # estimated Jaccard of character 3-gram sets
    required_fields: list[str] | None = None  # a blank one makes an empty row; None = instruction/output...
    num_perm: int = Field(128, ge=16, le=512)  # MinHash size: more is more exact and slower
    ngram: int = Field(3, ge=1, le=8)  # characters per shingle

    @field_validator("label_field", "tokenizer", mode="before")
    @classmethod
    def blank_is_none(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("fields", "required_fields", mode="before")
    @classmethod
    def empty_list_is_none(cls, value):
        return None if value is not None and not list(value) else value

    def digest(self) -> str:
        return hashlib.sha1(self.model_dump_json().encode()).hexdigest()[:10]


def cache_path(version, options: QualityOptions) -> Path:
    return version.path.parent / f"quality-v{version.number:05d}-{options.digest()}.json"


def cached_report(version, options: QualityOptions) -> QualityReport | None:
    """The report of an earlier run with the same options (None when there is none)."""
    path = cache_path(version, options)
    return QualityReport.from_dict(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else None


def report_for_version(ws, version, options: QualityOptions,
                       progress: Callable[[float, str], None] | None = None) -> QualityReport:
    """Run the report on a stored version (reading only the columns it needs) and cache it."""
    wanted = set((options.fields or [c for c in version.columns if not c.startswith("_")])
                 + (options.required_fields or []) + ([options.label_field] if options.label_field else []))
    columns = [c for c in version.columns if c in wanted or c in (ROW_ID, SPLIT)]
    unknown = sorted(wanted - set(version.columns))
    if unknown:
        raise ValueError(f"Unknown field(s) {unknown}; columns are {version.columns} / "
                         f"不存在的字段 {unknown}；现有列为 {version.columns}")
    tokenizer = _tokenizer(ws, options.tokenizer) if options.tokenizer else None
    report = quality_report(ws.read(version, columns), options.fields, options.max_tokens, tokenizer,
                            options.label_field, options.near_threshold, options.required_fields,
                            options.num_perm, options.ngram, progress)
    report.ref = version.ref
    report.settings["tokenizer"] = options.tokenizer
    write_json_atomic(cache_path(version, options), report.to_dict())
    return report


def _tokenizer(ws, model_id: str):
    """The model's tokenizer; straight from tokenizer.json when there is one (no transformers import, 5 s here)."""
    from ..models import load_tokenizer, tokenizer_folder

    path = tokenizer_folder(ws, model_id) / "tokenizer.json"
    if path.is_file():
        from tokenizers import Tokenizer

        return Tokenizer.from_file(str(path))
    return load_tokenizer(ws, model_id)


def apply_fix(ws, version, report: QualityReport, kind: str):
    """Commit the version without the rows `kind` names (one of FIXES); returns the new VersionInfo."""
    if report.ref and report.ref.partition("@")[0] != version.dataset_id:
        raise ValueError(f"The report is of {report.ref}, not of {version.ref} / "
                         f"报告属于 {report.ref}，不是 {version.ref}")
    table = ws.read(version)
    present = set(table.column(ROW_ID).to_pylist())
    dropped = report.rows_to_drop(kind, present)
    if not dropped:
        raise ValueError(f"Nothing to drop for '{kind}' in {version.ref} / "
                         f"{version.ref} 中没有需要删除的行（{kind}）")
    params = {"kind": kind, "report": report.ref, "dropped_count": len(dropped), "dropped": dropped[:LISTED_IDS]}
    if kind in ("exact", "near"):
        kept = report.kept_rows(kind, present)
        params.update(kept_count=len(kept), kept=kept[:LISTED_IDS], fields=report.fields)
        if kind == "near":
            params.update(threshold=report.settings["near_threshold"], ngram=report.settings["ngram"])
    elif kind == "leakage":
        gone = set(dropped)
        params["splits"] = sorted({p["split"] for p in report.leakage if p["id"] in gone})
    elif kind == "empty":
        params["required_fields"] = report.empty["required_fields"]
    elif kind == "too_long":
        params.update(max=report.too_long["max"], unit=report.too_long["unit"],
                      tokenizer=report.settings.get("tokenizer"), fields=report.fields)
    return ws.commit_version(version.dataset_id, edit.delete_rows(table, dropped), version.number,
                             FIX_OPS[kind], params)


def rows_by_id(version, row_ids: list[int], columns: list[str] | None = None) -> dict[int, dict]:
    """{id: row} for the listed ids that the version holds (reads only the row groups that hold them)."""
    parquet = pq.ParquetFile(version.path, memory_map=True)
    all_ids = parquet.read(columns=[ROW_ID]).column(ROW_ID).to_numpy()
    positions = np.flatnonzero(np.isin(all_ids, np.asarray(row_ids, dtype=np.int64)))
    table = _take_positions(parquet, positions)
    if columns is not None:
        table = table.select([c for c in [ROW_ID, *columns] if c in table.column_names])
    return {row[ROW_ID]: row for row in table.to_pylist()}


def group_rows(version, report: QualityReport, kind: str, limit: int = 100) -> pa.Table:
    """The first `limit` duplicate groups ('exact' or 'near') as rows for a data grid, kept row first."""
    groups = ([{"ids": g, "similarity": [1.0] * len(g)} for g in report.exact_groups] if kind == "exact"
              else report.near_groups)[:limit]
    rows = rows_by_id(version, [i for g in groups for i in g["ids"]], [SPLIT, *report.fields])
    out = []
    for number, group in enumerate(groups, 1):
        for position, (row_id, score) in enumerate(zip(group["ids"], group["similarity"])):
            row = rows.get(row_id, {})
            out.append({"group": number, "_id": row_id, "keep": position == 0, "similarity": score,
                        "_split": row.get(SPLIT), **{f: row.get(f) for f in report.fields}})
    return _table(out, ["group", "_id", "keep", "similarity", "_split", *report.fields])


def leakage_rows(version, report: QualityReport, limit: int = 200) -> pa.Table:
    """The first `limit` leaked rows beside the train row they match, for a data grid."""
    pairs = report.leakage[:limit]
    rows = rows_by_id(version, [p["id"] for p in pairs] + [p["train_id"] for p in pairs], report.fields)
    out = []
    for pair in pairs:
        row, train = rows.get(pair["id"], {}), rows.get(pair["train_id"], {})
        out.append({**pair, **{f: row.get(f) for f in report.fields},
                    **{f"train {f}": train.get(f) for f in report.fields}})
    names = ["id", "split", "train_id", "kind", "similarity", *report.fields, *[f"train {f}" for f in report.fields]]
    return _table(out, names)


def _table(rows: list[dict], names: list[str]) -> pa.Table:
    return pa.Table.from_pylist(rows) if rows else pa.table({n: pa.array([], pa.string()) for n in names})

