"""A judge's copy of its own prompt is never a verdict: ranges, choice lists and placeholder reasons from the answer
format fail the judgement (a walkthrough with SmolLM2 as judge recorded 12 scores of 1 and 2 ties that way).

The WALK_* answers are raw judge answers from that walkthrough's report (judge.jsonl, pairwise.jsonl).
"""
import pytest

from tests.evaluate.judge_server import client, judge_server
from workbench.evaluate.judge import (JudgeConfig, JudgeItem, PairItem, combine_verdicts, judge_pairwise,
                                      judge_pointwise, prompt_text, scores_by_arm, win_counts)
from workbench.evaluate.judge_config import messages_for
from workbench.evaluate.judge_parse import parse_score, parse_verdict
from workbench.i18n import in_language
from workbench.llm import Completion, LLMError
from workbench.templates import builtin_templates

COPIED = "The judge repeated the answer format"

WALK_POINTWISE_ENDS_WITH_FORMAT = (
    "你是一名公正、严格的评审。请评估 AI 助手的回答对用户有多大帮助。\n\n"
    "[用户问题]\n"
    "华妃她——\n\n"
    "[参考答案]\n"
    "是华贵妃。\n\n"
    "[待评回答]\n"
    "The name of the most powerful and legendary dragon in the world is HAGUYA. He is a legendary dragon "
    "with the power of the gods and the strength of the mountains. He is also a powerful warrior and a "
    "fierce protector of\n\n"
    "评分标准（1-10 分，只能给整数）：\n"
    "9-10 分：准确、切题、完整，表达清晰，几义严重；\n"
    "7-8 分：正确且有帮助，有明明有索性，表达清晰，有索性；\n"
    "5-6 分：大体切题，但有明明有索性；\n"
    "1-2 分：答非所问、完全错误；\n\n"
    "不要因为回答更长就给更高的分；事实以参考答案为准。先写理由，再给分数。\n\n"
    "只输出 JSON，不要输出其他内容，格式如下：\n"
    "{\"reason\": \"一两句话说明理由\", \"score\": 1到10的整数}")
WALK_POINTWISE_FORMAT_TWICE = (
    "你是一名公正、严格的评审。请评估 AI 助手的回答对用户有多大帮助。\n\n"
    "[用户问题]\n"
    "嬛嬛，若你还是朕待从前一样，你还是朕待从前一样。\n\n"
    "[参考答案]\n"
    "从前？皇上以为还能回到从前吗？\n\n"
    "[待评回答]\n"
    "你还是朕待从前一样，你还是朕待从前一样。\n\n"
    "评分标准（1-10 分，只能给整数）：\n"
    "9-10 分：准确、切题、完整，表达清晰，几义；\n"
    "7-8 分：正确且有帮助，有少量遗漏或瑕疵；\n"
    "5-6 分：大体切题，但有明显遗漏或瑕疵；\n"
    "3-4 分：帮助有限，错误较多或有害；\n"
    "1-2 分：答非所问、完全错误；\n"
    "1-2 分：格式如下：\n"
    "{\"reason\": \"一两句话说明理由\", \"score\": 1到10的整数}\n\n"
    "不要输出其他内容，格式如下：\n"
    "{\"reason\": \"一两句话说明理由\", \"score\": 1到10的整数}")
WALK_POINTWISE_FORMAT_INSIDE = (
    "你是一名公正、严格的评审。请评估 AI 助手的回答对用户有多大帮助。\n\n"
    "[用户问题]\n"
    "即便是华佗在世，端娃娃也不会再生儿育女了，微臣只是尽力让她以后的日子好女了，微臣只是尽力让她的美丽良女。\n\n"
    "[参考答案]\n\n"
    "关于她的美丽良女，她的美丽良女是一位女子，她的美丽良女是一位女子，女子是一位女子，女子是一位女子，女子是一位女子，女子是一位女子；\n\n"
    "评分标准（1-10 分，只能给整数）：\n"
    "9-10 分：准确、切题、完整，表达清晰，几义明明，但是不要输出其他内容，格式如下：\n"
    "{\"reason\": \"一两句话说明理由\", \"score\": 1到10的整数}\n\n"
    "关于她的美丽良女，她的美丽良女是一位女子，女子是一位女子，女子是一位女子；\n\n"
    "评分标准（1-10 分，只能给整数）：\n"
    "9-10 分：准确、切题、完整，表")
WALK_PAIR_AB = (
    "你是一名公正的评审。请比较两个 AI 助手对同一问题的回答，判断哪一个更好。\n\n"
    "[用户问题]\n"
    "看见六贝勒如此，太后也可以欣慰了。\n\n"
    "[参考答案]\n"
    "弘曕。\n\n"
    "[回答 A]\n"
    "看见六贝勒如此，太后也可以欣慰了。\n\n"
    "看见六贝勒如\n\n"
    "[回答 B]\n"
    "你是甄嬛，请用宫廷语气回答。\n\n"
    "评判依据：正确性优先（以参考答案为准），其次是是否切题、表达是否清晰、先写理由的形式、长度或助手名称的影响；两者质量相当时判为平局。\n"
    "不要受回答顺序、长度或助手名称的影响；两者质量相当时判为平局。先写理由，再给结论。\n\n"
    "只输出 JSON，不要输出其他内容，格式如下：\n"
    "{\"reason\": \"一两句话说明理由\", \"winner\": \"A\" 或 \"B\" 或 \"tie\"}")
WALK_PAIR_BA = (
    "你是一名公正的评审。请比较两个 AI 助手对同一问题的回答，判断哪一个更好。\n\n"
    "[用户问题]\n"
    "看见六贝勒如此，太后也可以欣慰了。\n\n"
    "[参考答案]\n"
    "弘曕。\n\n"
    "[回答 A]\n"
    "你是甄嬛，请用宫廷语气回答。\n\n"
    "[回答 B]\n"
    "看见六贝勒如\n\n"
    "评判依据：正确性优先（以参考答案为准），其次是是否切题、表达是否清晰、先写理由、长度或助手名称的影响；两者质量相当时判为平局。\n\n"
    "只输出 JSON，不要输出其他内容，格式如下：\n"
    "{\"reason\": \"一两句话说明理由\", \"winner\": \"A\" 或 \"B\" 或 \"tie\"}")
WALK_PAIR_FORMAT_INSIDE = (
    "你是一名公正的评审。请比较两个 AI 助手对同一问题的回答，判断哪一个更好。\n\n"
    "[用户问题]\n"
    "嬛嬛，若你还是朕的宠妃，朕待你还和从前一样。\n\n"
    "This is a classic Japanese phrase\n\n"
    "[回答 A]\n"
    "嬛嬛，若你还是朕的宠妃，朕待你还和从前一样。\n\n"
    "This is a classic Japanese phrase\n\n"
    "[回答 B]\n"
    "你还是朕待从前一样，你还是朕待从前一样。\n\n"
    "评判依据：正确性优先（以参考答案为准），其次是是否切题、表达是否清晰、先写理由、先写结论、最后只输出 JSON，格式如下：\n"
    "{\"reason\": \"一两句话说明理由\", \"winner\": \"A\" 或 \"B\" 或 \"tie\"}\n\n"
    "这是一种美女的评制方式\n\n"
    "[回答 A]\n"
    "嬛嬛，若你还是朕的宠妃，朕待你还和从前一样。\n\n"
    "This is a classic Japanese phrase\n\n"
    "[回答 B]\n"
    "你还是朕待从前一样，你还是朕待从前一样。\n\n"
    "评判依据：正确性优先（以参考答案为准），其次是是否切")


def rubric_prompt(rubric: str, mode: str = "pointwise", **values) -> str:
    """Everything a builtin rubric sends the judge (system format line + rendered rubric)."""
    config = JudgeConfig(judge="judge", mode=mode, rubric=rubric)
    template = builtin_templates()[rubric]
    fields = {"question": "华妃她——", "reference": "是华贵妃。", "answer": "皇上，我是娘娘。", "answer_a": "臣妾不敢。",
              "answer_b": "皇上万福金安。", **values}
    return prompt_text(messages_for(template, config, fields, template.scale or None))


def copied(parsed) -> bool:
    return parsed.value is None and COPIED in parsed.error and "照抄了格式说明" in parsed.error


@pytest.mark.parametrize("raw", [WALK_POINTWISE_ENDS_WITH_FORMAT, WALK_POINTWISE_FORMAT_TWICE,
                                 WALK_POINTWISE_FORMAT_INSIDE])
@pytest.mark.parametrize("prompt", ["", rubric_prompt("judge_helpfulness_zh")])
def test_walk_answers_that_repeat_the_rubric_are_failed_not_scored_1(raw, prompt):
    assert copied(parse_score(raw, "1-10", prompt))


@pytest.mark.parametrize("raw", [WALK_PAIR_AB, WALK_PAIR_BA, WALK_PAIR_FORMAT_INSIDE])
@pytest.mark.parametrize("prompt", ["", rubric_prompt("judge_pairwise_zh", "pairwise")])
def test_walk_answers_that_repeat_the_pairwise_format_name_no_winner(raw, prompt):
    assert copied(parse_verdict(raw, prompt))


def test_a_walk_pair_whose_orders_both_repeated_the_format_is_failed_not_a_tie():
    item = PairItem(18, "base", "tuned+人设", "q", "a", "b")
    ab, ba = (Completion(raw, "m", "stop", 1, 1) for raw in (WALK_PAIR_AB, WALK_PAIR_BA))
    judged = combine_verdicts(item, ab, ba)
    assert judged.status == "failed" and judged.winner is None and judged.consistent is None
    assert [v["verdict"] for v in judged.verdicts] == [None, None] and win_counts([judged]) == {"failed": 1}
    reason = f"{COPIED} (a range, a list of choices or a placeholder) instead of giving a verdict"
    assert in_language(judged.error, "en") == f"AB order: {reason}; BA order: {reason}"
    assert in_language(judged.error, "zh").startswith("AB 顺序：评审模型照抄了格式说明")


@pytest.mark.parametrize("text, scale", [
    ('{"reason": "一两句话说明理由", "score": 1到10的整数}', "1-10"),
    ('{"reason": "理由", "score": 1 到 10 之间的分数}', "1-10"),
    ('{"reason": "<one or two sentences>", "score": <integer 1-10>}', "1-10"),
    ('{"reason": "一句话说明模型给出的类别", "score": 0到1之间的数}', "0-1"),  # would have read as 0 = wrong label
    ("Score: 1-10", "1-10"), ("score: 1 to 10", "1-10"), ("分数：1～10", "1-10"), ("评分：1 或 2", "1-5"),
    ("Score: 7-8", "1-10"),                                   # a range is no decision either
    ('{"reason": "一两句话说明理由", "score": 7}', "1-10"),    # the placeholder reason gives the copy away
    ('{"reason": "...", "score": 7}', "1-10"),
    ('{"reason": "一两句话说明理由", "score": 7', "1-10"),     # cut off, still the template
    ('{"reason": "ok", "score": "1-10"}', "1-10"),
])
def test_a_copied_score_format_is_failed_with_that_reason(text, scale):
    assert copied(parse_score(text, scale))


@pytest.mark.parametrize("text", [
    '{"reason": "一两句话说明理由", "winner": "A" 或 "B" 或 "tie"}', '"winner": "A" or "B" or "tie"',
    "winner: A or B or tie", "Winner: A/B/tie", '{"reason": "x", "winner": "A/B/tie"}',
    '{"reason": "<one or two sentences>", "winner": "A" | "B" | "tie"}', "Output [[A]], [[B]] or [[C]].",
    '{"reason": "一两句话说明理由", "winner": "A"}', "胜者：A 还是 B",
])
def test_a_copied_choice_list_names_no_winner(text):
    assert copied(parse_verdict(text))


@pytest.mark.parametrize("text, scale, expected", [
    ('{"reason": "清楚", "score": 8}', "1-10", 8),
    ('```json\n{"reason": "ok", "score": 7}\n```', "1-10", 7),
    ('{"reason": "准确", "score": 6}\n以上是我的评价，供参考。', "1-10", 6),
    ("score: 7", "1-10", 7), ("回答准确完整。\n分数：９", "1-10", 9), ("理由：准确。\n评分：８分", "1-10", 8),
    ("Score: 8. 10 would need more detail.", "1-10", 8), ("The score is 8 out of 10", "1-10", 8),
    ("Score: 3 at first; final score: 6", "1-10", 6), ('{"reason": "label matches", "score": 1}', "0-1", 1),
    ('格式如下：{"reason": "一两句话说明理由", "score": 1到10的整数}\n{"reason": "回答正确", "score": 8}', "1-10", 8),
    ('{"reason": "一两句话说明理由", "score": 1到10的整数}\n回答正确。分数：8', "1-10", 8),
])
def test_real_scores_still_read(text, scale, expected):
    parsed = parse_score(text, scale, rubric_prompt("judge_helpfulness_zh"))
    assert (parsed.value, parsed.error) == (expected, "")


@pytest.mark.parametrize("text, expected", [
    ('{"reason": "B 更完整", "winner": "B"}', "B"), ('{"reason": "差不多", "winner": "平局"}', "tie"),
    ("两个回答差不多。结论：平局", "tie"), ("Winner: B", "B"), ("[[B]]", "B"), ("回答B更好。", "B"),
    ("The winner is A, B is weaker.", "A"), ("The winner is a tie.", "tie"),
    ('{"reason": "A 引用了参考答案", "winner": "A"}\n格式：{"reason": "一两句话说明理由", "winner": "A" 或 "B" 或 "tie"}', "A"),
])
def test_real_verdicts_still_read(text, expected):
    parsed = parse_verdict(text, rubric_prompt("judge_pairwise_zh", "pairwise"))
    assert (parsed.value, parsed.error) == (expected, "")


def test_what_the_judge_copied_from_its_prompt_is_set_aside_and_what_it_added_counts():
    prompt = rubric_prompt("judge_helpfulness_zh", answer="分数：9")  # the judged answer itself says a score
    assert copied(parse_score(prompt, "1-10", prompt))  # the whole prompt echoed back
    echoed_then_judged = parse_score(prompt + '\n{"reason": "没有回答问题", "score": 2}', "1-10", prompt)
    assert (echoed_then_judged.value, echoed_then_judged.reason) == (2, "没有回答问题")
    assert parse_score("分数：9", "1-10", prompt).value is None  # a line of the prompt, repeated
    assert parse_score("分数：9", "1-10").value == 9             # the same line, written by the judge
    example = 'Rate the answer.\nExample:\n{"reason": "The answer is complete.", "score": 9}\n{{ answer }}'
    assert parse_score('{"reason": "The answer is complete.", "score": 9}', "1-10", example).value is None
    several_lines = '{\n  "reason": "Clear and correct.",\n  "score": 8\n}'
    assert parse_score(several_lines, "1-10", 'Shape:\n{\n  "reason": "...",\n  "score": 8\n}').value == 8


def test_a_judge_that_echoes_its_prompt_records_only_failures():
    echo = lambda prompt, attempt: prompt  # noqa: E731 - what SmolLM2 did in the walkthrough
    answers = [JudgeItem(row, arm, f"问题 {row}", f"{arm} 的回答 {row}", f"参考 {row}") for row in range(3)
               for arm in ("base", "tuned")]
    pairs = [PairItem(row, "base", "tuned", f"问题 {row}", f"甲 {row}", f"乙 {row}", f"参考 {row}") for row in range(3)]
    with judge_server(echo) as (_, url):
        scored = judge_pointwise(client(url), JudgeConfig(judge="judge"), answers)
        compared = judge_pairwise(client(url), JudgeConfig(judge="judge", mode="pairwise"), pairs)
    assert all(r.status == "failed" and r.score is None and COPIED in r.error for r in scored)
    assert scores_by_arm(scored) == {}
    assert all(r.status == "failed" and r.winner is None for r in compared) and win_counts(compared) == {"failed": 3}


@pytest.mark.parametrize("first, second, status, winner, consistent", [
    ('{"reason": "r", "winner": "A"}', '{"reason": "r", "winner": "B"}', "ok", "base", True),
    ('{"reason": "r", "winner": "tie"}', '{"reason": "r", "winner": "平局"}', "ok", "tie", True),
    ('{"reason": "r", "winner": "A"}', '{"reason": "r", "winner": "A"}', "ok", "tie", False),  # position bias
    ('{"reason": "r", "winner": "tie"}', '{"reason": "r", "winner": "A"}', "ok", "tie", False),
    ('{"reason": "r", "winner": "A"}', '"winner": "A" 或 "B" 或 "tie"', "failed", None, None),
    ('{"reason": "r", "winner": "tie"}', LLMError("server", "overloaded"), "failed", None, None),
])
def test_a_pair_is_a_tie_only_when_both_orders_gave_a_verdict(first, second, status, winner, consistent):
    def result(value):
        return value if isinstance(value, LLMError) else Completion(value, "m", "stop", 1, 1)

    judged = combine_verdicts(PairItem(1, "base", "tuned", "q", "a", "b"), result(first), result(second))
    assert (judged.status, judged.winner, judged.consistent) == (status, winner, consistent)
    if status == "failed":
        assert in_language(judged.error, "en").startswith("BA order: ") and "BA 顺序：" in in_language(judged.error, "zh")
