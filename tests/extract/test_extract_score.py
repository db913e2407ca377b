"""Precision / coverage against a labelled sample: rule mode (same question) and LLM mode (worded its own way)."""
import pytest

from workbench.extract.score import load_expected, score_extraction, score_review
from workbench.problems import ReadError

EXPECTED = [{"question": "忘记密码了怎么办？", "answer": "在登录页点击忘记密码，按短信提示设置新密码。"},
            {"question": "如何注销账号？", "answer": "进入设置，账户安全，注销账号，15 天内可以撤销。"},
            {"question": "How do I cancel my subscription?", "answer": "Open Billing and press Cancel plan."}]


def test_llm_worded_questions_match_by_overlap_and_each_labelled_pair_counts_once():
    found = [{"question": "忘记密码时应该怎么办？", "answer": "在登录页点击忘记密码，然后按短信提示设置新密码。"},
             {"question": "忘记了密码怎么办", "answer": "在登录页点击忘记密码，按短信提示设置新密码。"},  # same pair again
             {"question": "怎样注销我的账号？", "answer": "客服电话 400-123。"},  # right question, wrong answer
             {"question": "How can I cancel the subscription?", "answer": "Open Billing, then press Cancel plan."},
             {"question": "小鹿云盘支持哪些系统？", "answer": "Windows、macOS、安卓和 iOS。"}]
    exact = score_extraction(found, EXPECTED)
    assert exact.summary()["matched"] == 0  # rule-mode matching asks for the document's own question
    fuzzy = score_extraction(found, EXPECTED, question_threshold=0.5)
    assert [e["question"] for _, e in fuzzy.matched] == ["忘记密码了怎么办？", "How do I cancel my subscription?"]
    assert fuzzy.precision == pytest.approx(2 / 5) and fuzzy.recall == pytest.approx(2 / 3)
    reasons = [item["reason"] for item in fuzzy.unmatched_found]
    assert reasons[0].startswith("question not expected")  # the repeat: its labelled pair is taken
    assert reasons[1].startswith("answer differs") and fuzzy.unmatched_found[1]["expected_answer"].startswith("进入设置")
    assert [item["question"] for item in fuzzy.unmatched_expected] == ["如何注销账号？"]


def test_a_labelled_sample_in_any_table_format_and_samples_that_cannot_be_used(tmp_path):
    csv = tmp_path / "sample.csv"
    csv.write_bytes("instruction,output\n忘记密码了怎么办？,在登录页点击忘记密码\n,\n如何注销账号？,进入设置\n".encode("gb18030"))
    assert [(p["question"], p["answer"]) for p in load_expected(csv)] == [
        ("忘记密码了怎么办？", "在登录页点击忘记密码"), ("如何注销账号？", "进入设置")]
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text('{"question": "q", "reply": "a"}\n', encoding="utf-8")
    with pytest.raises(ReadError) as caught:
        load_expected(wrong)
    problem = caught.value.problems[0]
    assert problem.file == "wrong.jsonl" and "answer" in problem.message_en and "reply" in problem.message_en
    assert "答案" in problem.message_zh
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "q", "answer": "a"}\n{"question": \n', encoding="utf-8")
    with pytest.raises(ReadError) as caught:
        load_expected(broken)
    assert caught.value.problems[0].line == 2
    empty = tmp_path / "empty.json"
    empty.write_text('[{"question": " ", "answer": "a"}]', encoding="utf-8")
    with pytest.raises(ReadError) as caught:
        load_expected(empty)
    assert "no question" in caught.value.problems[0].message_en


def test_a_review_is_scored_on_its_accepted_rows_only():
    rows = [{"accept": True, "instruction": "忘记密码了怎么办", "output": "在登录页点击忘记密码，按短信提示设置新密码。"},
            {"accept": False, "instruction": "小鹿云盘是什么？", "output": "文件同步工具。"}]
    sample = "\n".join('{"question": "%s", "answer": "%s"}' % (p["question"], p["answer"]) for p in EXPECTED)
    score = score_review(rows, "mine.jsonl", sample.encode("utf-8"), mode="rules")
    assert score.precision == 1.0 and score.recall == pytest.approx(1 / 3)
    reworded = [{**rows[0], "instruction": "忘记密码时应该怎么办？"}]
    assert score_review(reworded, "mine.jsonl", sample.encode("utf-8"), mode="rules").precision == 0.0
    assert score_review(reworded, "mine.jsonl", sample.encode("utf-8"), mode="llm").precision == 1.0
