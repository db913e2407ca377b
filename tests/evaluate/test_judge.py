"""The LLM judge against a real OpenAI-compatible server on 127.0.0.1 (scripted judges) and a tiny local model."""
import json
import threading

import pytest

from tests.evaluate.judge_server import client, judge_server, section
from tests.llm.conftest import tiny_model  # noqa: F401 (fixture)
from workbench.evaluate.judge import (DEFAULT_RUBRICS, JudgeConfig, JudgeItem, Judgement, PairItem, PairJudgement,
                                      config_problems, judge_backend, judge_pairwise, judge_pointwise, scores_by_arm,
                                      win_counts)
from workbench.evaluate.judge_parse import parse_score, parse_verdict
from workbench.evaluate.judge_strings import HELP, LABELS
from workbench.llm import Endpoint, LLMError, save_endpoint
from workbench.llm.batch import ResultLog
from workbench.templates import builtin_templates, create_template, duplicate_template, get_template

ROWS = [(i, f"问题 {i}：今天天气如何？", f"参考答案 {i}") for i in range(6)]


def fair_score(answer: str) -> int:
    """What the scripted judge gives an answer (a fixed function, so mixed-up rows would show)."""
    return 1 + sum(map(ord, answer)) % 10


def fair_judge(prompt, attempt):
    answer = section(prompt, "待评回答")
    return json.dumps({"reason": f"看过了：{answer}", "score": fair_score(answer)}, ensure_ascii=False)


def items(arms=("base", "tuned")):
    return [JudgeItem(row, arm, question, f"{arm} 的回答 {row}", reference) for row, question, reference in ROWS
            for arm in arms]


def test_good_answers_get_their_own_score_and_reason_at_temperature_zero():
    config = JudgeConfig(judge="judge")
    with judge_server(fair_judge) as (judge, url):
        seen = []
        results = judge_pointwise(client(url, max_concurrency=4), config, items(), on_result=seen.append)
    assert len(results) == len(seen) == 12 and all(r.status == "ok" for r in results)
    for result in results:
        answer = f"{result.arm} 的回答 {result.row_id}"
        assert result.score == fair_score(answer) and result.reason == f"看过了：{answer}"
        assert json.loads(result.raw)["score"] == result.score and result.error == ""
    call = judge.calls[0]
    assert call["params"].temperature == 0 and call["messages"][0]["role"] == "system"
    assert "先写理由，再给分数" in call["messages"][0]["content"] and "1 到 10" in call["messages"][0]["content"]
    assert "[参考答案]\n参考答案" in call["messages"][1]["content"]  # the reference reaches the rubric
    assert set(scores_by_arm(results)) == {"base", "tuned"}


def test_answers_without_a_readable_score_are_failed_with_the_raw_text_not_zero():
    def judge_reply(prompt, attempt):
        answer = section(prompt, "待评回答")
        if answer.startswith("tuned"):
            return "这个回答不错，很有帮助。" if answer.endswith(("0", "1", "2")) else "分数：12"
        return fair_judge(prompt, attempt)

    with judge_server(judge_reply) as (_, url):
        results = judge_pointwise(client(url), JudgeConfig(judge="judge"), items())
    failed = [r for r in results if r.status == "failed"]
    assert sorted(r.row_id for r in failed) == list(range(6)) and all(r.arm == "tuned" for r in failed)
    assert all(r.score is None and r.raw and r.attempts == 1 for r in failed)
    assert {r.raw for r in failed} == {"这个回答不错，很有帮助。", "分数：12"}
    assert any("no score" in r.error and "没有可读取的分数" in r.error for r in failed)
    assert any("outside the 1-10 scale" in r.error for r in failed)
    scores = scores_by_arm(results)
    assert "tuned" not in scores and len(scores["base"]) == 6  # failed items are left out, never averaged as 0


@pytest.mark.parametrize("text, scale, expected", [
    ('{"reason": "清楚", "score": 8}', "1-10", 8),
    ("理由：回答准确。\n分数：7分", "1-10", 7),
    ("The answer is fine.\nRating: [[9]]", "1-10", 9),
    ('```json\n{"reason": "ok", "score": "6"}\n```', "1-10", 6),
    ("Score: 3. On reflection the final score: 6", "1-10", 6),
    ("得分为 8/10", "1-10", 8),
    ('{"reason": "partly", "score": 0.5}', "0-1", 0.5),
    ("Score: 4/5", "1-10", None),                            # another scale: not guessed
    ('{"reason": "x", "score": true}', "1-5", None),
    ("score: 0", "1-5", None),
    ("I would rate it highly.", "1-5", None),
])
def test_scores_are_read_from_json_or_text_and_checked_against_the_scale(text, scale, expected):
    parsed = parse_score(text, scale)
    assert parsed.value == expected and (parsed.error == "") == (expected is not None)


@pytest.mark.parametrize("text, expected", [
    ('{"reason": "A 更完整", "winner": "A"}', "A"), ('{"reason": "相当", "winner": "平局"}', "tie"),
    ("The winner is a tie.", "tie"), ("回答B更好。", "B"), ("[[C]]", "tie"), ("Verdict: Answer B", "B"),
    ("Both have merits.", None),
])
def test_verdicts_are_read_from_json_or_text(text, expected):
    assert parse_verdict(text).value == expected


def test_http_500s_are_retried_then_the_score_counts_and_a_call_that_keeps_failing_is_recorded_failed(ws):
    def flaky(prompt, attempt):
        answer = section(prompt, "待评回答")
        if answer.endswith("5") or attempt <= 2:  # row 5 never recovers
            return LLMError("server", "overloaded")
        return fair_judge(prompt, attempt)

    with judge_server(flaky) as (judge, url):
        save_endpoint(ws, Endpoint("flaky-judge", base_url=url, model="scripted-judge", max_retries=0, timeout_s=10))
        config = JudgeConfig(judge="flaky-judge", max_retries=2, max_concurrency=3)
        backend = judge_backend(ws, config)  # the config's retries replace the endpoint's own (0)
        assert backend.endpoint.max_retries == 2 and backend.endpoint.max_concurrency == 3
        results = judge_pointwise(backend, config, items(("base",)), ws=ws)
    by_row = {r.row_id: r for r in results}
    assert all(by_row[row].status == "ok" and by_row[row].attempts == 3 for row in range(5))
    assert by_row[5].status == "failed" and by_row[5].score is None and by_row[5].attempts == 3
    assert "HTTP 500" in by_row[5].error and by_row[5].raw == ""
    assert len(judge.calls) == 6 * 3


def pair_items():
    return [PairItem(row, "base", "tuned", question, f"base says {row}", f"tuned says {row}", reference)
            for row, question, reference in ROWS]


def test_a_judge_that_always_picks_position_a_gives_only_ties():
    with judge_server(lambda prompt, attempt: '{"reason": "A 更好", "winner": "A"}') as (judge, url):
        results = judge_pairwise(client(url), JudgeConfig(judge="judge", mode="pairwise"), pair_items())
    assert len(results) == 6 and len(judge.calls) == 12
    for result in results:
        assert result.status == "ok" and result.winner == "tie" and result.consistent is False
        assert [v["order"] for v in result.verdicts] == ["AB", "BA"]
        assert [v["verdict"] for v in result.verdicts] == ["A", "A"]
        assert [v["picked"] for v in result.verdicts] == ["base", "tuned"]  # A was base, then tuned
        assert all(v["raw"] for v in result.verdicts)
    shown_first = [section(call["messages"][1]["content"], "回答 A") for call in judge.calls]
    assert sorted(shown_first) == sorted([f"base says {r}" for r in range(6)] + [f"tuned says {r}" for r in range(6)])
    assert win_counts(results) == {"tie": 6}


def test_a_judge_that_prefers_one_arm_in_both_orders_gives_it_the_win_and_its_ties_stay_ties():
    def prefers_tuned(prompt, attempt):
        if "says 0" in prompt:
            return "两个回答差不多。结论：平局"
        return '{"reason": "更好", "winner": "%s"}' % ("A" if section(prompt, "回答 A").startswith("tuned") else "B")

    config = JudgeConfig(judge="judge", mode="pairwise")
    with judge_server(prefers_tuned) as (_, url):
        results = judge_pairwise(client(url), config, pair_items())
    by_row = {r.row_id: r for r in results}
    assert by_row[0].winner == "tie" and by_row[0].consistent is True
    assert all(by_row[row].winner == "tuned" and by_row[row].consistent for row in range(1, 6))
    assert win_counts(results) == {"tuned": 5, "tie": 1}


def test_a_pair_with_a_failed_order_is_failed_not_a_win():
    def half(prompt, attempt):
        if section(prompt, "回答 A").startswith("tuned"):
            return "I cannot decide."
        return '{"reason": "r", "winner": "A"}'

    with judge_server(half) as (_, url):
        results = judge_pairwise(client(url), JudgeConfig(judge="judge", mode="pairwise"), pair_items()[:2])
    assert all(r.status == "failed" and r.winner is None for r in results)
    assert all("BA order" in r.error and "没有给出胜者" in r.error for r in results)
    assert win_counts(results) == {"failed": 2}


def test_a_resumed_run_skips_done_items_and_never_judges_one_twice(tmp_path):
    """Cancel part-way, log what finished (as the job will), resume with those keys as done."""
    log, stop, config = ResultLog(tmp_path / "judgements.jsonl"), threading.Event(), JudgeConfig(judge="judge")

    def record(judgement):
        log.append([judgement.to_record()])
        if len(log.done()) == 4:
            stop.set()

    with judge_server(fair_judge) as (judge, url):
        backend = client(url, max_concurrency=1)
        first = judge_pointwise(backend, config, items(), on_result=record, cancelled=stop.is_set)
        assert len(first) == 4
        second = judge_pointwise(backend, config, items(), on_result=record, done=set(log.done()))
    assert len(second) == 8 and len(judge.calls) == 12
    restored = [Judgement.from_record(r) for r in log.done().values()]
    assert sorted((r.row_id, r.arm) for r in restored) == sorted((i.row_id, i.arm) for i in items())
    assert all(r.score == fair_score(f"{r.arm} 的回答 {r.row_id}") for r in restored)
    pair = PairJudgement(3, "a", "b", "ok", "a", True, [{"order": "AB"}])
    assert PairJudgement.from_record(json.loads(json.dumps(pair.to_record()))) == pair


def test_a_required_rubric_value_missing_in_a_row_fails_that_row_without_a_call():
    config = JudgeConfig(judge="judge", rubric="judge_correctness_en")
    rows = [JudgeItem(1, "base", "What is 2+2?", "4", "4"), JudgeItem(2, "base", "Capital of France?", "Paris", "")]
    with judge_server(lambda prompt, attempt: '{"reason": "matches", "score": 10}') as (judge, url):
        results = judge_pointwise(client(url), config, rows)
    assert [r.status for r in results] == ["ok", "failed"] and len(judge.calls) == 1
    assert "no value for 'reference'" in results[1].error and "缺少评分模板需要的“reference”" in results[1].error
    assert results[1].score is None and results[1].raw == ""


def test_rubric_checks_name_the_problem(ws):
    correctness = get_template(ws, "judge_correctness_zh")
    pointwise = JudgeConfig(judge="x", rubric="judge_correctness_zh")
    assert config_problems(correctness, pointwise) == []
    no_reference = config_problems(correctness, pointwise, row_fields=("question", "answer"))
    assert len(no_reference) == 1 and "'reference'" in no_reference[0]
    wrong_mode = config_problems(correctness, JudgeConfig(judge="x", mode="pairwise", rubric="judge_correctness_zh"))
    assert any("answer_a, answer_b" in p for p in wrong_mode)
    mine = create_template(ws, "my rubric", "Rate {{ answer }} for {{ question }}.", category="judge")
    assert mine.scale == "" and "1-5, 1-10 or 0-1" in config_problems(mine, JudgeConfig(judge="x", rubric=mine.ref))[0]
    assert config_problems(mine, JudgeConfig(judge="x", rubric=mine.ref, scale="1-5")) == []
    copy = duplicate_template(ws, "judge_helpfulness_zh")  # a user's editable copy keeps the rubric's scale
    assert copy.scale == "1-10" and config_problems(copy, JudgeConfig(judge="x", rubric=copy.ref)) == []
    with pytest.raises(ValueError):
        JudgeConfig(judge="x", temperature=0.7)  # extra knobs are refused: a judge is always greedy


def test_every_judge_knob_has_a_label_and_help_in_both_languages():
    assert set(LABELS) == set(HELP) == set(JudgeConfig.model_fields)
    assert all(JudgeConfig.model_fields[name].description == HELP[name][0] for name in HELP)


def test_every_default_rubric_exists_in_both_languages_with_a_scale():
    builtins = builtin_templates()
    for purpose, by_language in DEFAULT_RUBRICS.items():
        for language, template_id in by_language.items():
            template = builtins[template_id]
            assert template.language == language and template.category == "judge"
            assert bool(template.scale) == (purpose != "pairwise")
            shape = template.text[template.text.rindex("\n{"):]
            assert shape.index('"reason"') < shape.index('"score"' if template.scale else '"winner"')


def test_a_local_model_can_judge_and_an_unreadable_answer_is_recorded_failed(tiny_model):  # noqa: F811
    ws, model_id = tiny_model
    config = JudgeConfig(judge=f"local:{model_id}", max_new_tokens=16)
    backend = judge_backend(ws, config)
    try:
        results = judge_pointwise(backend, config, items(("base",))[:3], ws=ws)
    finally:
        backend.close()
    assert len(results) == 3
    for result in results:  # a random tiny model: whatever it says is kept; no score means failed, never 0
        assert (result.status == "ok") == (result.score is not None)
        assert result.status == "ok" and 1 <= result.score <= 10 or result.status == "failed" and result.error
