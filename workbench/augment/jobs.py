"""The resumable `augment` job: requests -> llm.batch (results.jsonl) -> parse -> controls -> new version."""
from __future__ import annotations

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..jobs import job_kind
from ..llm import GenerationParams, LLMError, backend_for
from ..llm.batch import ResultLog, run_batch
from ..records import ROW_ID, SPLIT
from .core import AugmentConfig, build_requests, filter_candidates, parse_result, with_new_rows


def source_rows(ws, version, config: AugmentConfig) -> pa.Table:
    table = ws.read(version)
    if config.split:
        if SPLIT not in table.column_names:
            raise ValueError(f"{version.ref} has no splits / {version.ref} 还没有划分")
        table = table.filter(pc.equal(table.column(SPLIT), config.split))
    if config.max_rows:
        table = table.slice(0, config.max_rows)
    if not table.num_rows:
        raise ValueError("no rows to augment / 没有可增强的行")
    return table


@job_kind("augment", resumable=True)
def augment_job(ctx, params: dict) -> dict:
    config = AugmentConfig(**{**params["config"], "similarity": tuple(params["config"]["similarity"])
                              if params["config"].get("similarity") else None})
    ws, version = ctx.ws, ctx.ws.resolve(params["ref"])
    saved = [v for v in ws.versions(version.dataset_id) if v.params.get("job_id") == ctx.id]
    if saved:
        ctx.log(f"already saved as {saved[0].ref}")
        return {"ref": saved[0].ref, **saved[0].params.get("counts", {})}
    sources = source_rows(ws, version, config)
    items = build_requests(ws, sources, config)
    ctx.log(f"{sources.num_rows} rows, {len(items)} requests ({config.strategy} ×{config.multiplier})")
    backend = backend_for(ws, config.endpoint)
    log = ResultLog(ctx.folder / "results.jsonl")
    try:
        summary = run_batch(ctx, backend, items, GenerationParams(max_new_tokens=config.max_new_tokens,
                                                                  temperature=config.temperature), log)
    finally:
        backend.close()
    by_id = {row[ROW_ID]: row for row in sources.to_pylist()}
    results, candidates, unparsable = log.done(), [], 0
    for item in items:
        record = results.get(item["key"])
        if not record or not record["ok"]:
            continue
        try:
            rows = parse_result(config.strategy, record["text"], by_id[item["row_id"]], config.multiplier)
        except LLMError:
            unparsable += 1
            continue
        candidates += [{"row": row, "parent": item["row_id"], "key": item["key"]} for row in rows]
    ctx.progress(1, 1, "quality controls", force=True)
    full = ws.read(version)
    existing = full.select([c for c in ("instruction", "input", "output") if c in full.column_names]).to_pylist()
    kept, dropped = filter_candidates(candidates, by_id, existing, config)
    with open(ctx.folder / "kept.jsonl", "wb") as handle:
        for candidate in kept:
            handle.write(orjson.dumps(candidate) + b"\n")
    counts = {"source_rows": sources.num_rows, "requests": len(items), "failed_requests": summary["failed"],
              "unparsable": unparsable, "generated": len(candidates), "dropped": dropped, "added": len(kept)}
    ctx.log(f"generated {len(candidates)}, kept {len(kept)}, dropped {dropped}")
    if not kept:
        return {"ref": None, **counts}
    table = with_new_rows(full, kept, config.strategy)
    new = ws.commit_version(version.dataset_id, table, version.number, "augment",
                            {"strategy": config.strategy, "config": config.to_dict(), "job_id": ctx.id,
                             "counts": counts})
    ctx.log(f"saved {new.ref}: {len(kept)} new rows")
    return {"ref": new.ref, **counts}


def live_sample(ws, job_id: str, limit: int = 5) -> list[dict]:
    """The last few answers of a running augment job (for the page's live view): the source row, whether the
    call succeeded, and its text (or error)."""
    records = list(ResultLog(ws.root / "jobs" / job_id / "results.jsonl").done().values())
    return [{"row": r["key"].split(":", 1)[0], "ok": r["ok"], "text": r.get("text") or r.get("error")}
            for r in records[-limit:]]


LOSSES = ("failed_requests", "unparsable", "length", "language", "near_duplicate", "similarity")


def losses(result: dict) -> dict[str, int]:
    """What a finished augment job lost, and where: failed calls, answers without the asked-for JSON, then each
    quality control's drops (only the non-zero ones, in pipeline order)."""
    counts = {**result.get("dropped", {}), **{k: result.get(k, 0) for k in ("failed_requests", "unparsable")}}
    return {name: counts[name] for name in LOSSES if counts.get(name)}


def outcome(result: dict, lang: str = "en", answers: str | None = None) -> tuple[str, str | None]:
    """A finished augment job in words: (what was saved or that nothing was, a hint or None), for the page and the
    CLI: "Saved huanhuan@3: 4 new rows (9 generated; not kept: 3 answers not in the asked-for JSON; …)."
    `answers`: where a CLI user reads the model's answers (the page shows them in its table)."""
    from ..i18n import t

    lost = losses(result)
    dropped = t("common.list_sep", lang).join(t(f"augment.lost.{k}", lang, n=n) for k, n in lost.items()) or "–"
    if result.get("ref"):
        return t("augment.done", lang, ref=result["ref"], added=result["added"], generated=result["generated"],
                 dropped=dropped), None
    hint = None
    if lost.get("unparsable"):
        hint = t("augment.unparsable_hint_cli", lang, path=answers) if answers else t("augment.unparsable_hint", lang)
    return t("augment.none_kept", lang, dropped=dropped), hint
