"""Many LLM calls inside a background job: resumable, cancellable, no item generated twice.

Finished items are appended to `results.jsonl` in the job folder (flushed per item, fsynced per
round). On resume the keys already there are skipped, so cancel + resume continues from the last
finished item. A line torn by a crash is ignored when read back (that item simply runs again).
Failed items (LLMError after the backend's retries) are recorded as failed and not retried on resume.

    log = ResultLog(ctx.folder / "results.jsonl")
    summary = run_batch(ctx, backend, [{"key": "row-17", "messages": [...]}, ...], params, log)
    results = log.done()        # key -> {"ok", "text" | "error", ...}
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import orjson

from .types import Completion, GenerationParams, LLMError


class ResultLog:
    def __init__(self, path: Path):
        self.path = Path(path)

    def done(self) -> dict[str, dict]:
        records: dict[str, dict] = {}
        if not self.path.exists():
            return records
        with open(self.path, "rb") as handle:
            for line in handle:
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue  # a line cut short by a crash: that item runs again
                records[record["key"]] = record
        return records

    def append(self, records: list[dict]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab+") as handle:
            if handle.tell() > 0:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":  # a torn line from a crash: end it so it stays alone
                    handle.write(b"\n")
            for record in records:
                handle.write(orjson.dumps(record) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())


def record_of(key: str, result: Completion | LLMError) -> dict:
    if isinstance(result, LLMError):
        return {"key": key, "ok": False, "error_kind": result.kind, "error": str(result), "attempts": result.attempts}
    return {"key": key, "ok": True, "text": result.text, "model": result.model, "finish_reason": result.finish_reason,
            "completion_tokens": result.completion_tokens, "seconds": round(result.seconds, 3),
            "attempts": result.attempts}


def run_batch(ctx, backend, items: list[dict], params: GenerationParams, log: ResultLog,
              round_size: int | None = None, label: str = "rows") -> dict:
    """Run every item whose key is not in `log` yet; progress and cancel checks between rounds."""
    done = log.done()
    todo = [item for item in items if item["key"] not in done]
    total, finished = len(items), len(items) - len(todo)
    if finished:
        ctx.log(f"resuming: {finished} of {total} {label} already done")
    round_size = round_size or max(1, backend.endpoint.max_concurrency * 4)
    started = time.time()
    for start in range(0, len(todo), round_size):
        ctx.check_cancelled()
        chunk = todo[start:start + round_size]
        results = backend.complete_many([item["messages"] for item in chunk], params, cancelled=lambda: ctx.cancelled)
        records = [record_of(item["key"], result) for item, result in zip(chunk, results) if result is not None]
        log.append(records)
        finished += len(records)
        failed = sum(1 for r in records if not r["ok"])
        if failed:
            ctx.log(f"{failed} of {len(records)} {label} failed in this round (kept as failed)")
        ctx.progress(finished, total, f"{finished:,} / {total:,} {label}")
        ctx.check_cancelled()
    records = log.done()
    return {"total": total, "ok": sum(1 for r in records.values() if r["ok"]),
            "failed": sum(1 for r in records.values() if not r["ok"]), "seconds": round(time.time() - started, 2)}
