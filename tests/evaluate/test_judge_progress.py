"""The evaluate job's judge progress follows what the judge logs hold, even when a local judge finishes a whole
batch at once (the walkthrough showed "pairwise judge: 5 / 16" with 12 of 16 pairs written, its ETA growing)."""
import time

from tests.evaluate.test_evaluation import PERSONA, answered
from workbench.evaluate import jobs as evaluate_jobs
from workbench.evaluate.config import EvalConfig
from workbench.evaluate.judge import JudgeConfig, Judgement
from workbench.evaluate.store import create_report
from workbench.i18n import in_language
from workbench.llm import Completion


class ThrottledContext:
    """A job context that writes progress like workbench.jobs.JobContext: at most every 0.25 s unless forced."""

    def __init__(self, ws):
        self.ws, self.cancelled, self.shown, self.last_write, self.lines = ws, False, None, 0.0, []

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
    assert in_language(ctx.lines[0], "en") == "pointwise judge judge: 11 of 12 answers to score"
    assert in_language(ctx.lines[1], "zh") == "两两比较（judge）：6 对中有 6 对待比较，每对交换顺序各评一次"
