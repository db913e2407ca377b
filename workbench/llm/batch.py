"""Many LLM calls inside a background job: resumable, cancellable, no item generated twice.

Finished items are appended to `results.jsonl` in the job folder as each one finishes (flushed per
item, fsynced per round), and progress moves per item. On resume the keys already there are skipped,
so cancel + resume continues from the last finished item; a cancel stops the backend within a request
(a local model within a token), and the items it cut short run again on resume. A line torn by a crash is ignored when read back (that item simply runs again).
Failed items (LLMError after the backend's retries) are recorded as failed and not retried on resume.

    log = ResultLog(ctx.folder / "results.jsonl")
    summary = run_batch(ctx, backend, [{"key": "row-17", "messages": [...]}, ...], params, log)
    results = log.done()        # key -> {"ok", "text" | "error", ...}
"""
from __future__ import annotations

import os
import threading
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

    def append(self, records: list[dict], sync: bool = True) -> None:
        """Add finished items; `sync`: also fsync (once per round: a crash loses at most the round's flush)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab+") as handle:
            if handle.tell() > 0:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":  # a torn line from a crash: end it so it stays alone
                    handle.write(b"\n")
            for record in records:
                handle.write(orjson.dumps(record) + b"\n")
            handle.flush()
            if sync:
                os.fsync(handle.fileno())


def record_of(key: str, result: Completion | LLMError) -> dict:
    if isinstance(result, LLMError):
        return {"key": key, "ok": False, "error_kind": result.kind, "error": str(result), "attempts": result.attempts}
    return {"key": key, "ok": True, "text": result.text, "model": result.model, "finish_reason": result.finish_reason,
            "completion_tokens": result.completion_tokens, "seconds": round(result.seconds, 3),
            "attempts": result.attempts}


# the Chinese for run_batch's labels, for the bilingual progress message ("3 / 100 rows / 已完成 3/100 行")
LABELS_ZH = {"rows": "行", "chunks": "段", "questions": "个问题", "answers to judge": "条待评判的回答"}


def progress_message(finished: int, total: int, label: str = "rows", note: tuple[str, str] | None = None) -> str:
    """ "3 / 100 rows" in both languages (the Chinese half without " / ", which splits the halves); `note`:
    (English, Chinese) said after the count, e.g. that the model is loading."""
    english = f"{finished:,} / {total:,} {label}"
    chinese = f"已完成 {finished:,}/{total:,} {LABELS_ZH.get(label, label)}"
    if note:
        english, chinese = f"{english} · {note[0]}", f"{chinese} · {note[1]}"
    return f"{english} / {chinese}"


def run_batch(ctx, backend, items: list[dict], params: GenerationParams, log: ResultLog,
              round_size: int | None = None, label: str = "rows") -> dict:
    """Run every item whose key is not in `log` yet: each finished item is recorded and counted as it comes (a
    local model finishes a batch at a time), the cancel is checked per item, a log line per round says the counts."""
    done = log.done()
    todo = [item for item in items if item["key"] not in done]
    total, finished = len(items), len(items) - len(todo)
    if finished:
        ctx.log(f"resuming: {finished} of {total} {label} already done")
    ctx.progress(finished, total, progress_message(finished, total, label), force=True)
    ctx.phase(finished)  # the ETA's pace counts from here: not the model's loading, not an earlier attempt
    round_size = round_size or max(1, backend.endpoint.max_concurrency * 4)
    started, lock = time.time(), threading.Lock()
    ok = failed = 0
    for start in range(0, len(todo), round_size):
        ctx.check_cancelled()
        chunk = todo[start:start + round_size]
        before, round_start = (ok, failed), finished

        def record(index: int, result) -> None:
            nonlocal finished, ok, failed
            entry = record_of(chunk[index]["key"], result)
            with lock:  # backends may call back from several threads
                log.append([entry], sync=False)
                finished += 1
                ok, failed = ok + entry["ok"], failed + (not entry["ok"])
                ctx.progress(finished, total, progress_message(finished, total, label))

        def partly(done_in_round: float) -> None:  # a local model's batch on its way: the bar moves meanwhile
            with lock:
                ctx.progress(max(finished, round_start + done_in_round), total,
                             progress_message(finished, total, label))

        backend.complete_many([item["messages"] for item in chunk], params, on_result=record,
                              cancelled=lambda: ctx.cancelled, on_progress=partly)
        log.append([])  # fsync the round
        ctx.progress(finished, total, progress_message(finished, total, label), force=True)
        round_ok, round_failed = ok - before[0], failed - before[1]
        ctx.log(f"{finished:,} / {total:,} {label} done; this round {round_ok} ok, {round_failed} failed"
                + (" (kept as failed)" if round_failed else "") + f"; {time.time() - started:.0f}s so far")
        ctx.check_cancelled()
    records = log.done()
    return {"total": total, "ok": sum(1 for r in records.values() if r["ok"]),
            "failed": sum(1 for r in records.values() if not r["ok"]), "seconds": round(time.time() - started, 2)}
