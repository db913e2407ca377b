"""The resumable `evaluate` job: (answers first when asked,) then every score, then the report summary.

Order: the inference's missing answers (before/after runs generate them in this same job), lexical and
classification metrics (instant), embedding similarity (cached embeddings, so a resume is cheap), the judge's
pointwise scores and pairwise verdicts (each finished item is in the report's judge logs; a resume never asks
the judge twice), then scores.parquet + summary.json.

While the judge runs, the job's progress counts judge calls over both judges (an answer is one call, a pair two:
both orders) and is written with every result the logs get, so the bar and the ETA follow the logs; the message
says "English / 中文" how many answers or pairs of the running judge are done. Answering, judging and scoring
are each a phase of the job (`JobContext.phase`): the ETA shown is the running phase's, from its own pace.
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
from .judge_strings import both
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
        ctx.phase(len(inference.outputs.done()))  # answers, counted from those an earlier attempt wrote
        set_inference_summary(ctx.ws, inference.id, run_inference(ctx, inference))
    judged = _judge(ctx, report, config, inference)
    ctx.phase(0.95)
    ctx.progress(0.95, 1.0, "scores and summary / 计算分数和汇总", force=True)
    summary = score_report(ctx.ws, report, config, inference, judged, progress=ctx.log)
    set_summary(ctx.ws, report.id, summary)
    return {"report": report.id, "arms": list(summary["arms"])}


def _judge(ctx, report, config: EvalConfig, inference) -> bool:
    """Run the judge (pointwise and/or pairwise) over the answers not judged yet; True when a judge ran."""
    from .judge import judge_pairwise, judge_pointwise

    tasks = [(config.judge, report.judge_log, judge_items, judge_pointwise),
             (config.pairwise, report.pairwise_log, pair_items, judge_pairwise)]
    runs = [(judge, log, items_of(ctx.ws, config, inference), run, log.done()) for judge, log, items_of, run in tasks
            if judge is not None]
    if not runs:
        return False
    progress = JudgeProgress(ctx, [(judge.mode, items, done) for judge, _, items, _, done in runs])
    ctx.phase(progress.calls)  # the judge's ETA from its own calls and time, not the answers' before it
    for judge, log, items, run, done in runs:
        ctx.log(both(f"judge.progress.start_{judge.mode}", judge=judge.judge,
                     todo=f"{len(items) - progress.judged[judge.mode]:,}", total=f"{len(items):,}"))
        progress.show(judge.mode)
        backend = judge_backend(ctx.ws, judge)

        def on_result(judgement, log=log, mode=judge.mode):
            log.append([judgement.to_record()])
            progress.finished(mode)

        try:
            run(backend, judge, items, ws=ctx.ws, on_result=on_result, cancelled=lambda: ctx.cancelled,
                done=done)
        finally:
            backend.close()
        ctx.check_cancelled()
    return True


CALLS_PER_ITEM = {"pointwise": 1, "pairwise": 2}  # a pair is judged in both orders


class JudgeProgress:
    """One progress bar over every judge call of the job, written with every logged result (never throttled:
    a local judge hands back a whole batch at once, and a throttled write would keep only the first of it)."""

    def __init__(self, ctx, phases):
        """`phases`: (mode, items, results already logged by key) per judge, in the order they run."""
        self.ctx = ctx
        self.items = {mode: len(items) for mode, items, _ in phases}
        self.judged = {mode: sum(item.key in logged for item in items) for mode, items, logged in phases}
        self.total = sum(CALLS_PER_ITEM[mode] * count for mode, count in self.items.items())
        self.calls = sum(CALLS_PER_ITEM[mode] * count for mode, count in self.judged.items())

    def finished(self, mode: str) -> None:
        self.judged[mode] += 1
        self.calls += CALLS_PER_ITEM[mode]
        self.show(mode)

    def show(self, mode: str) -> None:
        message = both(f"judge.progress.{mode}", done=f"{self.judged[mode]:,}", total=f"{self.items[mode]:,}")
        self.ctx.progress(self.calls, self.total, message, force=True)
