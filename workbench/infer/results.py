"""An inference's outputs as a table (one row per arm x dataset row) and its per-arm summary."""
from __future__ import annotations

from ..llm.types import Completion, LLMError
from .store import OUTPUT_COLUMNS, get_inference, output_key, read_rows


def output_record(arm, row: dict, result: Completion | LLMError | str) -> dict:
    """What outputs.jsonl keeps for one (arm, row): the answer, or `failed` with the reason (never an empty answer).

    `result` may be a plain message for rows that never reached the model (unusable row, model not loaded).
    """
    record = {"key": output_key(arm.label, row["row_id"]), "arm": arm.label, "row_id": row["row_id"]}
    if isinstance(result, Completion):
        return {**record, "status": "ok", "output": result.text, "error": None, "error_kind": None,
                "model": result.model, "finish_reason": result.finish_reason, "seconds": round(result.seconds, 4),
                "prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
                "attempts": result.attempts}
    kind, attempts = (result.kind, result.attempts) if isinstance(result, LLMError) else ("model", 0)
    return {**record, "status": "failed", "output": None, "error": str(result), "error_kind": kind, "model": None,
            "finish_reason": None, "seconds": None, "prompt_tokens": None, "completion_tokens": None,
            "attempts": attempts}


def read_outputs(ws, inference_id: str):
    """A pandas DataFrame: one row per (arm, dataset row) in config order, with OUTPUT_COLUMNS + lineage columns.

    status is "ok", "failed" (error says why; output is None) or "pending" (not generated yet).
    """
    import pandas as pd

    info = get_inference(ws, inference_id)
    config, rows, records = info.config, read_rows(info.folder), info.outputs.done()
    table = []
    for arm in config.arms:
        for row in rows:
            record = records.get(output_key(arm.label, row["row_id"]), {})
            system = arm.system_prompt if arm.system_prompt is not None else row.get("system")
            table.append({"row_id": row["row_id"], "arm": arm.label, "model": arm.model, "system_prompt": system,
                          "prompt": row.get("prompt"), "reference": row.get("reference"),
                          "output": record.get("output"), "status": record.get("status", "pending"),
                          "error": record.get("error"), "seconds": record.get("seconds"),
                          "prompt_tokens": record.get("prompt_tokens"),
                          "completion_tokens": record.get("completion_tokens"), **row.get("lineage", {})})
    lineage = list(rows[0].get("lineage", {})) if rows else []
    return pd.DataFrame(table, columns=OUTPUT_COLUMNS + lineage)


def summarize(arms, rows: list[dict], records: dict[str, dict]) -> dict:
    """Per arm: ok / failed / pending counts, generated tokens, seconds per answer; and the totals."""
    per_arm = {}
    for arm in arms:
        found = [records[k] for k in (output_key(arm.label, row["row_id"]) for row in rows) if k in records]
        ok = [r for r in found if r["status"] == "ok"]
        tokens = sum(r.get("completion_tokens") or 0 for r in ok)
        seconds = sum(r.get("seconds") or 0 for r in ok)
        per_arm[arm.label] = {"model": arm.model, "ok": len(ok), "failed": len(found) - len(ok),
                              "pending": len(rows) - len(found), "completion_tokens": tokens,
                              "seconds_per_answer": round(seconds / len(ok), 3) if ok else None,
                              "errors": sorted({r["error_kind"] for r in found if r["status"] == "failed"})}
    counts = {key: sum(arm[key] for arm in per_arm.values()) for key in ("ok", "failed", "pending")}
    return {"rows": len(rows), "arms": per_arm, **counts}


def inference_summary(ws, inference_id: str) -> dict:
    """The live summary of an inference (also while its job runs)."""
    info = get_inference(ws, inference_id)
    return summarize(info.config.arms, read_rows(info.folder), info.outputs.done())
