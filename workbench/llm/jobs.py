"""Background job `llm_batch`: run a list of chat requests through one endpoint, resumably.

params: {"endpoint": name, "items": path of a JSONL of {"key", "messages"}, "params": GenerationParams fields}
Results land in the job folder's results.jsonl (see batch.py); the job result is the summary.
"""
from __future__ import annotations

from pathlib import Path

import orjson

from ..jobs import job_kind
from .backends import backend_for
from .batch import ResultLog, run_batch
from .types import GenerationParams


@job_kind("llm_batch", resumable=True)
def llm_batch(ctx, params: dict) -> dict:
    with open(Path(params["items"]), "rb") as handle:
        items = [orjson.loads(line) for line in handle if line.strip()]
    backend = backend_for(ctx.ws, params["endpoint"])
    try:
        summary = run_batch(ctx, backend, items, GenerationParams(**params.get("params", {})),
                            ResultLog(ctx.folder / "results.jsonl"))
    finally:
        backend.close()
    ctx.log(f"finished: {summary['ok']} ok, {summary['failed']} failed")
    return summary


def write_items(path: Path, items: list[dict]) -> Path:
    """The items file an `llm_batch` job reads (keys must be unique)."""
    keys = [item["key"] for item in items]
    if len(set(keys)) != len(keys):
        raise ValueError("item keys must be unique / 每个条目的 key 必须唯一")
    from ..storage import atomic_path

    with atomic_path(Path(path)) as tmp, open(tmp, "wb") as handle:
        for item in items:
            handle.write(orjson.dumps(item) + b"\n")
    return Path(path)
