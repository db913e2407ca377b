"""Inferences in the workspace: a catalog row + `inference/<id>/` with config.yaml, rows.jsonl, outputs.jsonl.

rows.jsonl is the snapshot of the prompts taken when the inference was created (so a resume and the report
see exactly the rows that were asked, whatever happens to the dataset later). outputs.jsonl holds one record
per finished (arm, row), appended as it finishes (llm.batch.ResultLog). An inference's state follows its job.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson

from ..llm.batch import ResultLog
from ..storage import atomic_path, write_text_atomic
from ..workspace import NotFoundError
from .config import InferConfig, from_yaml, to_yaml

OUTPUT_COLUMNS = ["row_id", "arm", "model", "system_prompt", "prompt", "reference", "output", "status", "error",
                  "seconds", "prompt_tokens", "completion_tokens"]


@dataclass
class InferenceInfo:
    id: str
    name: str
    state: str                  # the job's state ("queued", "running", "succeeded", ...), "created" before it
    created_at: float
    dataset_id: str
    dataset_version: int
    split: str | None
    folder: Path
    job_id: str | None
    summary: dict

    @property
    def config(self) -> InferConfig:
        return from_yaml((self.folder / "config.yaml").read_text(encoding="utf-8"))

    @property
    def outputs(self) -> ResultLog:
        return ResultLog(self.folder / "outputs.jsonl")

    @property
    def dataset_ref(self) -> str:
        return f"{self.dataset_id}@{self.dataset_version}"


def output_key(arm: str, row_id) -> str:
    """The ResultLog key of one (arm, row) pair (JSON, so any label text is safe)."""
    return orjson.dumps([arm, row_id]).decode()


def create_inference(ws, config: InferConfig, version, rows: list[dict]) -> InferenceInfo:
    """A new inference folder (config + the rows snapshot) and its catalog row."""
    inference_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:4]
    split = config.split or "all"
    name = config.name or f"{version.ref} · {split} · {time.strftime('%m-%d %H:%M')}"
    config = config.model_copy(update={"name": name, "version": version.number})
    folder = ws.root / "inference" / inference_id
    folder.mkdir(parents=True)
    write_text_atomic(folder / "config.yaml", to_yaml(config))
    with atomic_path(folder / "rows.jsonl") as tmp, open(tmp, "wb") as handle:
        for row in rows:
            handle.write(orjson.dumps(row) + b"\n")
    with ws.connect(write=True) as con:
        con.execute("INSERT INTO inferences(id, name, created_at, dataset_id, dataset_version, split, folder, summary)"
                    " VALUES (?,?,?,?,?,?,?,?)",
                    (inference_id, name, time.time(), version.dataset_id, version.number, config.split,
                     str(folder.relative_to(ws.root)), "{}"))
    return get_inference(ws, inference_id)


def set_job(ws, inference_id: str, job_id: str) -> None:
    with ws.connect(write=True) as con:
        con.execute("UPDATE inferences SET job_id=? WHERE id=?", (job_id, inference_id))


def set_summary(ws, inference_id: str, summary: dict) -> None:
    with ws.connect(write=True) as con:
        con.execute("UPDATE inferences SET summary=? WHERE id=?",
                    (json.dumps(summary, ensure_ascii=False), inference_id))


def _info(ws, row) -> InferenceInfo:
    from .. import jobs

    state = "created"
    if row["job_id"]:
        try:
            state = jobs.get(ws, row["job_id"]).state
        except KeyError:
            state = "unknown"
    folder = Path(row["folder"])
    return InferenceInfo(row["id"], row["name"], state, row["created_at"], row["dataset_id"], row["dataset_version"],
                         row["split"], folder if folder.is_absolute() else ws.root / folder, row["job_id"],
                         json.loads(row["summary"] or "{}"))


def get_inference(ws, inference_id: str) -> InferenceInfo:
    rows = ws._query("SELECT * FROM inferences WHERE id=?", (inference_id,))
    if not rows:
        raise NotFoundError(f"No inference '{inference_id}' / 没有推理记录“{inference_id}”")
    return _info(ws, rows[0])


def list_inferences(ws) -> list[InferenceInfo]:
    """Every inference, newest first (states refreshed: a dead job shows as interrupted)."""
    from .. import jobs

    jobs.mark_dead_jobs(ws)
    return [_info(ws, r) for r in ws._query("SELECT * FROM inferences ORDER BY created_at DESC")]


def read_rows(folder: Path) -> list[dict]:
    with open(Path(folder) / "rows.jsonl", "rb") as handle:
        return [orjson.loads(line) for line in handle if line.strip()]
