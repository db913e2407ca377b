"""Runs in the workspace: a catalog row + `runs/<id>/` (config.yaml, metrics.jsonl, checkpoints, adapter).

A run's state follows its job (queued, running, interrupted, ...) until the job records how it ended.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..storage import write_json_atomic, write_text_atomic
from ..workspace import NotFoundError
from .config import TrainConfig, from_yaml, to_yaml


@dataclass
class RunInfo:
    id: str
    name: str
    state: str
    created_at: float
    dataset_id: str
    dataset_version: int
    base_model: str
    folder: Path
    job_id: str | None
    summary: dict

    @property
    def config(self) -> TrainConfig:
        return from_yaml((self.folder / "config.yaml").read_text(encoding="utf-8"))

    @property
    def adapter(self) -> Path:
        return self.folder / "adapter"

    @property
    def model_id(self) -> str:
        return f"run-{self.id}"


def create_run(ws, config: TrainConfig, dataset_id: str, version: int, base_model: str) -> RunInfo:
    """A new run folder with its config; the catalog row starts queued."""
    run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:4]
    name = config.name or f"{dataset_id}@{version} · {base_model} · {time.strftime('%m-%d %H:%M')}"
    config = config.model_copy(update={"name": name, "version": version})
    folder = ws.root / "runs" / run_id
    (folder / "checkpoints").mkdir(parents=True)
    write_text_atomic(folder / "config.yaml", to_yaml(config))
    write_json_atomic(folder / "run.json", {"id": run_id, "dataset": dataset_id, "version": version,
                                            "base_model": base_model, "created_at": time.time()})
    with ws.connect(write=True) as con:
        con.execute("INSERT INTO runs(id, name, created_at, state, dataset_id, dataset_version, base_model, folder,"
                    " metrics) VALUES (?,?,?,?,?,?,?,?,?)",
                    (run_id, name, time.time(), "queued", dataset_id, version, base_model,
                     str(folder.relative_to(ws.root)), "{}"))
    return get_run(ws, run_id)


def set_job(ws, run_id: str, job_id: str) -> None:
    with ws.connect(write=True) as con:
        con.execute("UPDATE runs SET job_id=? WHERE id=?", (job_id, run_id))


def finish_run(ws, run_id: str, state: str, summary: dict | None = None) -> None:
    with ws.connect(write=True) as con:
        con.execute("UPDATE runs SET state=?, metrics=COALESCE(?, metrics) WHERE id=?",
                    (state, json.dumps(summary, ensure_ascii=False) if summary is not None else None, run_id))


def _info(ws, row) -> RunInfo:
    from .. import jobs

    state = row["state"]
    if row["job_id"] and state not in ("succeeded",):
        try:
            state = jobs.get(ws, row["job_id"]).state
        except KeyError:
            pass
    folder = Path(row["folder"])
    return RunInfo(row["id"], row["name"], state, row["created_at"], row["dataset_id"], row["dataset_version"],
                   row["base_model"], folder if folder.is_absolute() else ws.root / folder, row["job_id"],
                   json.loads(row["metrics"] or "{}"))


def get_run(ws, run_id: str) -> RunInfo:
    run_id = run_id.removeprefix("run-")
    rows = ws._query("SELECT * FROM runs WHERE id=?", (run_id,))
    if not rows:
        raise NotFoundError(f"No run '{run_id}' / 没有训练记录“{run_id}”")
    return _info(ws, rows[0])


def list_runs(ws) -> list[RunInfo]:
    from .. import jobs

    jobs.mark_dead_jobs(ws)
    return [_info(ws, r) for r in ws._query("SELECT * FROM runs ORDER BY created_at DESC")]


def read_metrics(folder: Path) -> list[dict]:
    """The run's metric rows (train steps and evaluations), skipping a half-written last line."""
    path = Path(folder) / "metrics.jsonl"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def truncate_metrics(folder: Path, step: int) -> None:
    """Drop metric rows after `step` (resuming from that checkpoint redoes them)."""
    rows = [r for r in read_metrics(folder) if r.get("step", 0) <= step]
    write_text_atomic(Path(folder) / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in rows))


def config_diff(runs: list[RunInfo]) -> list[dict]:
    """Knobs whose values differ between the runs: [{knob, <run name>: value, ...}]."""
    configs = [r.config.model_dump() for r in runs]
    keys = [k for k in configs[0] if k != "name" and len({json.dumps(c.get(k)) for c in configs}) > 1]
    return [{"knob": k, **{r.name: c.get(k) for r, c in zip(runs, configs)}} for k in keys]
