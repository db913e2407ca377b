"""The evaluate job's judge progress follows what the judge logs hold, even when a local judge finishes a whole
batch at once (the walkthrough showed "pairwise judge: 5 / 16" with 12 of 16 pairs written, its ETA growing),
and its ETA counts from the judge's own start, not the answers generated before it in the same job."""
import time

import pytest

from tests.evaluate.test_evaluation import PERSONA, answered
from workbench import jobs
from workbench.evaluate import jobs as evaluate_jobs
from workbench.evaluate.config import EvalConfig
from workbench.evaluate.judge import JudgeConfig, Judgement
from workbench.evaluate.store import create_report
from workbench.i18n import in_language
from workbench.llm import Completion


class ThrottledContext:
    """A job context that writes progress like workbench.jobs.JobContext: at most every 0.25 s unless forced."""

    def __init__(self, ws):
        self.ws, self.cancelled, self.shown, self.last_write, self.lines, self.phases = ws, False, None, 0.0, [], []

    def phase(self, done):
        self.phases.append(done)

    def progress(self, done, total=None, message="", force=False):
        if force or time.time() - self.last_write > 0.25:
            self.shown, self.last_write = (done, total, message), time.time()

    def log(self, message):
        self.lines.append(message)

    def check_cancelled(self):
        pass


class BatchJudge:
    """Like the local backend: each batch of calls finishes together and its results come back in one burst."""

    def __init__(self, after_batch, batch_size=8):
        self.after_batch, self.batch_size = after_batch, batch_size

    def complete_many(self, requests, params, on_result=None, cancelled=None):
        results = []
        for start in range(0, len(requests), self.batch_size):
            for index in range(start, min(start + self.batch_size, len(requests))):
                pairwise = "[回答 A]" in requests[index][-1]["content"]
                text = '{"reason": "ok", "winner": "A"}' if pairwise else '{"reason": "ok", "score": 7}'
                results.append(Completion(text, "m", "stop", 1, 1))
                on_result(index, results[-1])
            self.after_batch()
        return results

    def close(self):
        pass


def test_judge_progress_and_its_message_follow_the_written_results_batch_after_batch(ws, monkeypatch):
    info = answered(ws, {"base": ["一", "二", "三", "四", "五", "六"], "tuned": PERSONA[:6]})
    config = EvalConfig(inference=info.id, judge=JudgeConfig(judge="judge"), baseline_arm="base",
                        pairwise=JudgeConfig(judge="judge", mode="pairwise"), similarity=False, lexical=False)
    report = create_report(ws, config)
    report.judge_log.append([Judgement(0, "base", "ok", 5.0).to_record()])  # judged before a resume
    ctx, seen = ThrottledContext(ws), []

    def after_batch():
        seen.append((ctx.shown, len(report.judge_log.done()), len(report.pairwise_log.done())))

    monkeypatch.setattr(evaluate_jobs, "judge_backend", lambda ws, judge: BatchJudge(after_batch))
    assert evaluate_jobs._judge(ctx, report, config, info) is True
    assert len(seen) == 2 + 2  # 11 answers to score, then 6 pairs = 12 calls, 8 calls a batch
    for (done, total, message), answers_logged, pairs_logged in seen:
        assert total == 12 + 2 * 6 and done == answers_logged + 2 * pairs_logged  # a pair is two judge calls
        english, chinese = in_language(message, "en"), in_language(message, "zh")
        if pairs_logged:
            assert (english, chinese) == (f"pairwise judge: {pairs_logged} of 6 pairs compared",
                                          f"两两比较：已比较 {pairs_logged}/6 对")
        else:
            assert (english, chinese) == (f"pointwise judge: {answers_logged} of 12 answers scored",
                                          f"逐条评分：已评 {answers_logged}/12 条回答")
    assert ctx.shown[0] == ctx.shown[1] == 24
    assert ctx.phases == [1]  # the judge's pace counts from the call judged before the resume
    assert in_language(ctx.lines[0], "en") == "pointwise judge judge: 11 of 12 answers to score"
    assert in_language(ctx.lines[1], "zh") == "两两比较（judge）：6 对中有 6 对待比较，每对交换顺序各评一次"


class TimedJudge:
    """A judge whose every call takes `seconds` of the fake clock; the job's ETA is read after each result."""

    def __init__(self, clock, seconds, read_eta):
        self.clock, self.seconds, self.read_eta = clock, seconds, read_eta

    def complete_many(self, requests, params, on_result=None, cancelled=None):
        for index in range(len(requests)):
            self.clock["now"] += self.seconds
            on_result(index, Completion('{"reason": "ok", "score": 7}', "m", "stop", 1, 1))
            self.read_eta()

    def close(self):
        pass


def test_the_judge_eta_counts_from_the_judges_own_start_not_the_answers_before_it(ws, monkeypatch):
    """A before/after job: 100 s of answers, then 12 judge calls of 2 s each. The ETA while judging is the
    judge's own: 2 s per call left, not its calls over the whole job's time (which said 52 s left after one call)."""
    info = answered(ws, {"base": ["一", "二", "三", "四", "五", "六"], "tuned": PERSONA[:6]})
    config = EvalConfig(inference=info.id, judge=JudgeConfig(judge="judge"), similarity=False, lexical=False)
    report = create_report(ws, config)
    monkeypatch.setattr(jobs, "_spawn", lambda ws, job_id: None)
    job_id = jobs.start(ws, "evaluate", {"report": report.id, "generate": True})
    clock, etas, phase_starts = {"now": 1000.0}, [], []
    monkeypatch.setattr(jobs.time, "time", lambda: clock["now"])
    with ws.connect(write=True) as con:
        con.execute("UPDATE jobs SET state='running', started_at=? WHERE id=?", (1000.0, job_id))
    ctx = jobs.JobContext(ws, job_id)

    def answering(ctx, inference):
        phase_starts.append(jobs.get(ws, job_id).phase_start)
        clock["now"] += 100.0
        ctx.progress(12, 12, "answered", force=True)
        return {}

    monkeypatch.setattr(evaluate_jobs, "run_inference", answering)
    monkeypatch.setattr(evaluate_jobs, "set_inference_summary", lambda *args: None)
    monkeypatch.setattr(evaluate_jobs, "judge_backend",
                        lambda ws, judge: TimedJudge(clock, 2.0, lambda: etas.append(jobs.get(ws, job_id).eta_seconds)))
    monkeypatch.setattr(evaluate_jobs, "score_report", lambda *args, **options: {"arms": {}})
    monkeypatch.setattr(evaluate_jobs, "set_summary", lambda *args: None)
    evaluate_jobs.evaluate_job(ctx, {"report": report.id, "generate": True})
    assert phase_starts == [(1000.0, 12.0)]  # the answers: from the 12 already there
    assert etas == pytest.approx([2.0 * (12 - calls) for calls in range(1, 13)])
    final = jobs.get(ws, job_id)
    assert (final.done, final.total, final.eta_seconds) == (0.95, 1.0, None)  # scoring: no pace of its own yet
