"""Reports in the workspace: a catalog row (`reports`) + `reports/<id>/` with config.yaml, the judge logs,
scores.parquet (one row per dataset row x arm x metric) and summary.json.

A report is a saved object: it is built by the `evaluate` job, reopened from the list, exported, compared.
Its state follows its job; human overrides live in the catalog (overrides.py), not in the report folder.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..llm.batch import ResultLog
from ..storage import write_text_atomic
from ..workspace import NotFoundError
from .config import EvalConfig, from_yaml, to_yaml


@dataclass
class ReportInfo:
    id: str
    name: str
    created_at: float
    folder: Path
    summary: dict
    job_id: str | None
    state: str          # "succeeded" once scored; else the job's state ("queued", "running", "failed", ...)

    @property
    def config(self) -> EvalConfig:
        return from_yaml((self.folder / "config.yaml").read_text(encoding="utf-8"))

    @property
    def judge_log(self) -> ResultLog:
        return ResultLog(self.folder / "judge.jsonl")

    @property
    def pairwise_log(self) -> ResultLog:
        return ResultLog(self.folder / "pairwise.jsonl")


def create_report(ws, config: EvalConfig) -> ReportInfo:
    """A new report folder with its config and a catalog row (no scores yet)."""
    report_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:4]
    name = config.name or report_id
    folder = ws.root / "reports" / report_id
    folder.mkdir(parents=True)
    write_text_atomic(folder / "config.yaml", to_yaml(config.model_copy(update={"name": name})))
    with ws.connect(write=True) as con:
        con.execute("INSERT INTO reports(id, name, created_at, folder, summary) VALUES (?,?,?,?,?)",
                    (report_id, name, time.time(), str(folder.relative_to(ws.root)), "{}"))
    return get_report(ws, report_id)


def set_job(ws, report_id: str, job_id: str) -> None:
    write_text_atomic(get_report(ws, report_id).folder / "meta.json", json.dumps({"job_id": job_id}))


def set_summary(ws, report_id: str, summary: dict) -> None:
    info = get_report(ws, report_id)
    write_text_atomic(info.folder / "summary.json", json.dumps(summary, ensure_ascii=False, indent=1, default=str))
    with ws.connect(write=True) as con:
        con.execute("UPDATE reports SET summary=? WHERE id=?", (json.dumps(_brief(summary), ensure_ascii=False,
                                                                          default=str), report_id))


def _brief(summary: dict) -> dict:
    """What the report list shows without opening the folder: arms and their headline means."""
    return {"inference": summary.get("inference"), "dataset": summary.get("dataset"),
            "arms": {arm: {metric: values.get("mean") for metric, values in metrics.items()}
                     for arm, metrics in summary.get("arms", {}).items()}}


def _info(ws, row) -> ReportInfo:
    from .. import jobs

    folder = Path(row["folder"])
    folder = folder if folder.is_absolute() else ws.root / folder
    summary_path, meta_path = folder / "summary.json", folder / "meta.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else {}
    job_id = json.loads(meta_path.read_text(encoding="utf-8")).get("job_id") if meta_path.exists() else None
    state = "succeeded" if summary.get("arms") else "created"
    if job_id and not summary.get("arms"):
        try:
            state = jobs.get(ws, job_id).state
        except KeyError:
            state = "unknown"
    return ReportInfo(row["id"], row["name"], row["created_at"], folder, summary, job_id, state)


def get_report(ws, report_id: str) -> ReportInfo:
    rows = ws._query("SELECT * FROM reports WHERE id=?", (report_id,))
    if not rows:
        raise NotFoundError(f"No report '{report_id}' / 没有评估报告“{report_id}”")
    return _info(ws, rows[0])


def list_reports(ws) -> list[ReportInfo]:
    """Every report, newest first."""
    return [_info(ws, r) for r in ws._query("SELECT * FROM reports ORDER BY created_at DESC")]
