"""The resumable `augment` job: requests -> llm.batch (results.jsonl) -> parse -> controls -> new version."""
from __future__ import annotations

import time

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..jobs import job_kind
from ..i18n import in_language
from ..llm import GenerationParams, LLMError, backend_for, get_endpoint
from ..llm.batch import ResultLog, progress_message, run_batch
from ..records import ROW_ID, SPLIT
from ..workspace import StaleVersionError
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
    log = ResultLog(ctx.folder / "results.jsonl")
    backend = _open_backend(ctx, config.endpoint, len(items), len(set(log.done()) & {i["key"] for i in items}))
    try:
        run_batch(ctx, backend, items,
                  GenerationParams(max_new_tokens=config.max_new_tokens, temperature=config.temperature), log)
    finally:
        backend.close()
    by_id = {row[ROW_ID]: row for row in sources.to_pylist()}
    candidates, answered = parsed_candidates(items, log.done(), by_id, config)
    ctx.progress(len(items), len(items), progress_message(len(items), len(items), note=(
        "quality controls", "质量控制")), force=True)
    full = ws.read(version)
    existing = full.select([c for c in ("instruction", "input", "output") if c in full.column_names]).to_pylist()
    kept, dropped = filter_candidates(candidates, by_id, existing, config)
    with open(ctx.folder / "kept.jsonl", "wb") as handle:
        for candidate in kept:
            handle.write(orjson.dumps(candidate) + b"\n")
    # each request in one bucket: failed_requests + unparsable + usable_requests == requests; each generated row
    # (a usable answer gives one or more) is either dropped by one control or added
    counts = {"source_rows": sources.num_rows, "requests": len(items), **answered, "generated": len(candidates),
              "dropped": dropped, "added": len(kept)}
    ctx.log(f"generated {len(candidates)}, kept {len(kept)}, dropped {dropped}")
    if not kept:
        return {"ref": None, **counts}
    table = with_new_rows(full, kept, config.strategy)
    try:
        new = ws.commit_version(version.dataset_id, table, version.number, "augment",
                                {"strategy": config.strategy, "config": config.to_dict(), "job_id": ctx.id,
                                 "counts": counts})
    except StaleVersionError as error:  # saved meanwhile: `outcome` says what to do, in the page's or the CLI's terms
        ctx.log(f"not saved: {error.dataset_id}@{error.head} was saved while the job ran")
        return {"ref": None, "stale": {"dataset": error.dataset_id, "parent": error.parent, "head": error.head},
                **counts}
    ctx.log(f"saved {new.ref}: {len(kept)} new rows")
    return {"ref": new.ref, **counts}


def _open_backend(ctx, endpoint_name: str, total: int, done: int):
    """The endpoint's backend; the job's count (done of total) shows from the start, with "loading the model" while a
    local model loads (converting a GGUF can take minutes), and a cancel meanwhile stops the loading."""
    local = get_endpoint(ctx.ws, endpoint_name).kind != "openai"
    note = ("loading the model", "正在加载模型") if local else None
    ctx.progress(done, total, progress_message(done, total, note=note), force=True)
    started = time.time()

    def loading(stage: str, fraction: float) -> None:
        ctx.check_cancelled()
        note = (f"loading the model: {in_language(stage, 'en')}", f"正在加载模型：{in_language(stage, 'zh')}")
        ctx.progress(done, total, progress_message(done, total, note=note), force=True)
        ctx.log(f"loading the model: {stage} ({fraction:.0%})")

    if local:
        ctx.log(f"loading the model of {endpoint_name}")
    backend = backend_for(ctx.ws, endpoint_name, progress=loading)
    if local:
        ctx.log(f"model loaded in {time.time() - started:.1f}s")
    return backend


def parsed_candidates(items: list[dict], results: dict[str, dict], sources: dict[int, dict],
                      config: AugmentConfig) -> tuple[list[dict], dict[str, int]]:
    """The new rows the answers hold, and how many requests failed, gave no usable answer, or gave rows (every
    request is in exactly one of these; one not answered at all, which a finished job does not have, counts as
    failed)."""
    candidates, counts = [], {"failed_requests": 0, "unparsable": 0, "usable_requests": 0}
    for item in items:
        record = results.get(item["key"])
        if not record or not record["ok"]:
            counts["failed_requests"] += 1
            continue
        try:
            rows = parse_result(config.strategy, record["text"], sources[item["row_id"]], config.multiplier)
        except LLMError:
            counts["unparsable"] += 1
            continue
        counts["usable_requests"] += 1
        candidates += [{"row": row, "parent": item["row_id"], "key": item["key"]} for row in rows]
    return candidates, counts


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
    `answers`: where a CLI user reads the model's answers (the page shows them in its table); given, hints are the
    CLI's (commands to run), else the page's (what to pick)."""
    from ..i18n import t

    lost = losses(result)
    dropped = t("common.list_sep", lang).join(t(f"augment.lost.{k}", lang, n=n) for k, n in lost.items()) or "–"
    if result.get("ref"):
        return t("augment.done", lang, ref=result["ref"], added=result["added"], generated=result["generated"],
                 dropped=dropped), None
    if result.get("stale"):
        stale = result["stale"]
        return (t("augment.stale_done", lang, new=f"{stale['dataset']}@{stale['head']}"),
                stale_advice(stale["dataset"], stale["parent"], stale["head"], lang, cli=answers is not None))
    hint = None
    if lost.get("unparsable"):
        hint = t("augment.unparsable_hint_cli", lang, path=answers) if answers else t("augment.unparsable_hint", lang)
    return t("augment.none_kept", lang, dropped=dropped), hint


def job_dataset(info) -> str:
    """The dataset id an augment job works on."""
    return info.params["ref"].partition("@")[0]


def page_jobs(ws, dataset_id: str):
    """What the Augment page shows after any reload or in a new session, from the catalog: (this dataset's running
    augment job, else its newest one, or None; augment jobs running on other datasets)."""
    from .. import jobs

    found = jobs.list_jobs(ws, kinds=("augment",))
    here = [info for info in found if job_dataset(info) == dataset_id]
    shown = next((info for info in here if info.state in jobs.ACTIVE), here[0] if here else None)
    elsewhere = [info for info in found if info.state in jobs.ACTIVE and job_dataset(info) != dataset_id]
    return shown, elsewhere


def newest_job_dataset(ws) -> str | None:
    """The dataset of the newest augment job: where the page opens when the session has no dataset picked."""
    from .. import jobs

    found = jobs.list_jobs(ws, kinds=("augment",), limit=1)
    return job_dataset(found[0]) if found else None


def job_subject(info, lang: str = "en") -> str:
    """"huanhuan@2 · 改写指令 ×3": the version, the strategy's name in `lang` and the multiplier (the stored title
    holds the strategy's id)."""
    from ..i18n import t

    config = info.params.get("config") or {}
    if "strategy" not in config or "ref" not in info.params:
        return info.subject
    name = t("augment.strategy." + config["strategy"], lang)
    return f"{info.params['ref']} · {name} ×{config.get('multiplier', 2)}"


def stale_advice(dataset: str, parent: int, head: int, lang: str = "en", cli: bool = False) -> str:
    """What to do when the augmented version is not the newest: on the command line which command to run (as
    `split` and `map` say), on the page what to pick (a reload would not help: a job keeps its version)."""
    from ..i18n import t

    names = {"old": f"{dataset}@{parent}", "new": f"{dataset}@{head}", "dataset": dataset}
    return t("cli.stale", lang, command="augment", **names) if cli else t("augment.stale", lang, **names)
