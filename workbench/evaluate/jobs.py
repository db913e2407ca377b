"""The resumable `evaluate` job: (answers first when asked,) then every score, then the report summary.

Order: the inference's missing answers (before/after runs generate them in this same job), lexical and
classification metrics (instant), embedding similarity (cached embeddings, so a resume is cheap), the judge's
pointwise scores and pairwise verdicts (each finished item is in the report's judge logs; a resume never asks
the judge twice), then scores.parquet + summary.json.
"""
from __future__ import annotations

from .. import jobs
from ..infer.config import Arm, InferConfig
from ..infer.jobs import check_config as inference_problems
from ..infer.jobs import run_inference
from ..infer.prompts import InferInputError, inference_rows, select_rows
from ..infer.results import inference_summary
from ..infer.store import create_inference, get_inference
from ..infer.store import set_job as set_inference_job
from ..infer.store import set_summary as set_inference_summary
from ..jobs import job_kind
from .config import EvalConfig
from .judge import judge_backend
from .scoring import judge_items, pair_items, score_report
from .store import create_report, get_report, set_job, set_summary


def start_evaluation(ws, config: EvalConfig, generate: bool = False) -> tuple[str, str]:
    """Create the report and start its job; (report id, job id). `generate`: answer missing rows first."""
    info = get_inference(ws, config.inference)
    if not generate and info.state in jobs.ACTIVE:
        raise ValueError(f"Inference '{info.name}' is still {info.state}; score it when it has finished / "
                         f"推理“{info.name}”仍在进行（{info.state}），请在完成后再评估")
    if not generate and not inference_summary(ws, info.id)["rows"] - inference_summary(ws, info.id)["pending"]:
        raise ValueError(f"Inference '{info.name}' has no answers yet; run it first / 推理“{info.name}”还没有任何回答，请先运行")
    arms = [arm.label for arm in info.config.arms]
    if config.baseline_arm and config.baseline_arm not in arms:
        raise ValueError(f"baseline_arm: '{config.baseline_arm}' is not one of {arms} / 基准模型不在推理的模型中")
    if config.pairwise is not None and len(arms) < 2:
        raise ValueError("pairwise: needs at least two arms / A/B 比较至少需要两个模型")
    report = create_report(ws, config if config.name else config.model_copy(update={"name": info.name}))
    job_id = jobs.start(ws, "evaluate", {"report": report.id, "generate": generate}, title=report.name)
    set_job(ws, report.id, job_id)
    if generate:
        set_inference_job(ws, info.id, job_id)
    return report.id, job_id


def start_before_after(ws, run_id: str, split: str = "test", max_rows: int | None = None,
                       judge=None, max_new_tokens: int = 256, classification: str = "auto") -> tuple[str, str]:
    """One click: the run's base model vs the run on the run's own dataset version, answers + scores in one job.
    `max_new_tokens` caps each answer (a one-word classifier needs few); `classification`: auto, on or off."""
    from ..train.runs import get_run

    run = get_run(ws, run_id)
    if run.state != "succeeded":
        raise ValueError(f"Run '{run.name}' has not succeeded ({run.state}) / 训练“{run.name}”尚未成功完成")
    config = InferConfig(dataset=run.dataset_id, version=run.dataset_version, split=split, max_rows=max_rows,
                         max_new_tokens=max_new_tokens, name=f"before/after {run.name}",
                         arms=[Arm(label="base", model=run.base_model), Arm(label="tuned", model=f"run-{run.id}")])
    problems = inference_problems(ws, config)
    if problems:
        raise InferInputError("\n".join(problems))
    version, table = select_rows(ws, config)
    inference = create_inference(ws, config, version, inference_rows(table))
    return start_evaluation(ws, EvalConfig(name=f"before/after {run.name}", inference=inference.id, judge=judge,
                                           baseline_arm="base", classification=classification), generate=True)


@job_kind("evaluate", resumable=True)
def evaluate_job(ctx, params) -> dict:
    report = get_report(ctx.ws, params["report"])
    config = report.config
    inference = get_inference(ctx.ws, config.inference)
    if params.get("generate"):
        set_inference_summary(ctx.ws, inference.id, run_inference(ctx, inference))
    judged = _judge(ctx, report, config, inference)
    ctx.progress(0.95, 1.0, "scores and summary", force=True)
    summary = score_report(ctx.ws, report, config, inference, judged, progress=ctx.log)
    set_summary(ctx.ws, report.id, summary)
    return {"report": report.id, "arms": list(summary["arms"])}


def _judge(ctx, report, config: EvalConfig, inference) -> bool:
    """Run the judge (pointwise and/or pairwise) over the answers not judged yet; True when a judge ran."""
    from .judge import judge_pairwise, judge_pointwise

    tasks = [(config.judge, report.judge_log, judge_items, judge_pointwise),
             (config.pairwise, report.pairwise_log, pair_items, judge_pairwise)]
    if not any(judge for judge, *_ in tasks):
        return False
    for judge, log, items_of, run in tasks:
        if judge is None:
            continue
        items = items_of(ctx.ws, config, inference)
        done = log.done()
        total, counter = len(items), {"done": len(done)}
        ctx.log(f"{judge.mode} judge {judge.judge}: {total - len(done)} of {total} items to judge")
        backend = judge_backend(ctx.ws, judge)

        def on_result(judgement, log=log, total=total, counter=counter, mode=judge.mode):
            log.append([judgement.to_record()])
            counter["done"] += 1
            ctx.progress(counter["done"], total, f"{mode} judge: {counter['done']:,} / {total:,}")

        try:
            run(backend, judge, items, ws=ctx.ws, on_result=on_result, cancelled=lambda: ctx.cancelled,
                done=done)
        finally:
            backend.close()
        ctx.check_cancelled()
    return True
