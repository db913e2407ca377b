"""The resumable `infer` job: every (arm, row) pair answered once, in the background.

Resume skips every pair already in outputs.jsonl (answered or failed), so a cancel + resume never generates a
row twice. One arm's trouble never stops the others: a model that cannot load marks that arm's rows failed
with the reason; an endpoint that keeps timing out marks rows failed after its retries.
"""
from __future__ import annotations

import gc
import time

from .. import jobs
from ..i18n import has_han
from ..jobs import job_kind
from ..model_convert import ModelError
from .config import InferConfig
from .engines import arm_endpoint, open_backend
from .prompts import InferInputError, arm_messages, inference_rows, select_rows
from .results import output_record, summarize
from .store import create_inference, get_inference, output_key, read_rows, set_job, set_summary


def check_config(ws, config: InferConfig) -> list[str]:
    """Located problems that stop an inference before it starts: dataset, split, rows, each arm's model."""
    problems = []
    try:
        select_rows(ws, config)
    except (KeyError, InferInputError) as error:
        problems.append(str(error))
    for index, arm in enumerate(config.arms):
        try:
            arm_endpoint(ws, arm.model)
        except (ModelError, ValueError) as error:
            problems.append(f"arms[{index}].model: {error}")
    return problems


def start_inference(ws, config: InferConfig) -> tuple[str, str]:
    """Check the config, snapshot the rows, start the job. Returns (inference id, job id).

    Raises InferInputError listing every located problem (no rows, unknown split, unknown model, ...).
    """
    problems = check_config(ws, config)
    if problems:
        raise InferInputError("\n".join(problems))
    version, table = select_rows(ws, config)
    info = create_inference(ws, config, version, inference_rows(table))
    job_id = jobs.start(ws, "infer", {"inference_id": info.id}, title=info.name)
    set_job(ws, info.id, job_id)
    return info.id, job_id


@job_kind("infer", resumable=True)
def infer_job(ctx, params) -> dict:
    """Answer the inference's remaining (arm, row) pairs; the result is the per-arm summary."""
    info = get_inference(ctx.ws, params["inference_id"])
    summary = run_inference(ctx, info)
    set_summary(ctx.ws, info.id, summary)
    return {"inference_id": info.id, **summary}


def run_inference(ctx, info) -> dict:
    """The work of the job (also callable in-process with any ctx that has progress/log/check_cancelled)."""
    config, rows, log = info.config, read_rows(info.folder), info.outputs
    done = log.done()
    total = len(rows) * len(config.arms)
    counter = {"done": len(done), "generated": 0}
    if done:
        ctx.log(f"resuming: {len(done)} of {total} answers already there")
    loaded: tuple[str, object] | None = None  # prompt-variant arms in a row reuse the loaded model
    for arm in config.arms:
        ctx.check_cancelled()
        todo = [row for row in rows if output_key(arm.label, row["row_id"]) not in done]
        if not todo:
            continue
        unusable = [row for row in todo if row.get("error")]
        _record(ctx, log, counter, total, arm, [(row, row["error"]) for row in unusable])
        todo = [row for row in todo if not row.get("error")]
        if not todo:
            continue
        if loaded is None or loaded[0] != arm.model:
            loaded = _close(loaded)
            gc.collect()  # free the previous arm's weights before the next model loads
            ctx.progress(counter["done"], total, loading_message(arm.model), force=True)
            loaded = _load(ctx, config, arm)
        if isinstance(loaded[1], str):  # the model did not load: its rows fail with the reason
            _record(ctx, log, counter, total, arm, [(row, loaded[1]) for row in todo])
            continue
        _generate(ctx, loaded[1], config, arm, todo, log, counter, total)
        ctx.check_cancelled()
    _close(loaded)
    summary = summarize(config.arms, rows, log.done())
    ctx.log(f"finished: {summary['ok']} ok, {summary['failed']} failed, {counter['generated']} generated now")
    return {**summary, "generated_this_attempt": counter["generated"]}


def _load(ctx, config, arm) -> tuple[str, object]:
    """(model, backend), or (model, message) when it cannot be loaded."""
    ctx.log(f"loading {arm.model} for arm '{arm.label}'")
    started = time.time()
    try:
        backend = open_backend(ctx.ws, arm.model, config, lambda stage, fraction: ctx.log(f"{stage} ({fraction:.0%})"))
    except Exception as error:  # noqa: BLE001 - any load failure (missing files, bad weights, OOM) fails this arm only
        message = (f"model '{arm.model}' could not be loaded: {type(error).__name__}: {error} / "
                   f"模型“{arm.model}”无法加载")
        ctx.log(message)
        return arm.model, message
    ctx.log(f"loaded {arm.model} in {time.time() - started:.1f}s")
    return arm.model, backend


def _close(loaded) -> None:
    """Close a loaded backend (the caller drops its reference so the weights can be freed)."""
    if loaded is not None and not isinstance(loaded[1], str):
        loaded[1].close()


def _generate(ctx, backend, config, arm, todo, log, counter, total) -> None:
    def on_result(index: int, result) -> None:
        counter["generated"] += 1
        _record(ctx, log, counter, total, arm, [(todo[index], result)])

    requests = [arm_messages(row, arm.system_prompt) for row in todo]
    backend.complete_many(requests, config.generation_params(), on_result=on_result, cancelled=lambda: ctx.cancelled)


def _record(ctx, log, counter, total, arm, pairs) -> None:
    if not pairs:
        return
    log.append([output_record(arm, row, result) for row, result in pairs])
    counter["done"] += len(pairs)
    ctx.progress(counter["done"], total, answered_message(arm.label, counter["done"], total))


# Job messages are "English / 中文" (the page shows the user's half, workbench.i18n.in_language), so the English
# half holds no Chinese and neither half a " / " of its own: counts are "3/24" in Chinese, and a name (arm
# label, model) that would break the rule is left out of the English half / written with "/" in the Chinese one.
def loading_message(model: str) -> str:
    return f"loading {_english(model, 'a model')} / 正在加载 {_chinese(model)}"


def answered_message(arm: str, done: int, total: int) -> str:
    return (f"{_english(arm, 'arm')}: {done:,} of {total:,} answers / "
            f"{_chinese(arm)}：已完成 {done:,}/{total:,} 条回答")


def _english(name: str, fallback: str) -> str:
    return fallback if " / " in name or has_han(name) else name  # the English half stays free of Chinese


def _chinese(name: str) -> str:
    return name.replace(" / ", "/")
