"""The report beside the human: judge figures with human overrides applied (means, A/B win rates, κ) next to the
judge's own, the exports' per-row A/B verdicts, reasons and picks (a failed judge call reads as failed), the HTML
file's language, order and counts, the summary's wording of failures, and comparing reports of different rows."""
import io

import pandas as pd
import pytest

from tests.evaluate.judge_server import judge_server
from tests.evaluate.test_evaluation import PERSONA, answered, run_report
from tests.evaluate.test_report_exports import cli
from workbench.evaluate import report as reports
from workbench.evaluate.config import EvalConfig
from workbench.evaluate.judge_config import JudgeConfig
from workbench.evaluate.overrides import set_override
from workbench.evaluate.report_export import export_rows
from workbench.infer.config import Arm, InferConfig
from workbench.infer.prompts import inference_rows, select_rows
from workbench.infer.results import output_record
from workbench.infer.store import create_inference
from workbench.llm import Completion, Endpoint, save_endpoint

BASE = ["不知道", "你好", "日子难熬", "好的", "不敢", "退下"]


def judge(prompt, attempt):
    """Scores by prompt length with a reason; every A/B verdict a tie; nothing readable about 日子难熬."""
    if "日子难熬" in prompt:
        return "理由：无法判断。"
    return f'{{"reason": "理由{len(prompt) % 5}", "winner": "tie", "score": {3 + len(prompt) % 7}}}'


@pytest.fixture
def reviewed(ws):
    """A report with a pointwise and an A/B judge (row 2 of base fails both), 3 human scores and 3 human picks."""
    info = answered(ws, {"base": BASE, "tuned": PERSONA[:6]}, models={"tuned": "run-20260101-000000-abcdef"})
    with judge_server(judge) as (_, url):
        save_endpoint(ws, Endpoint("judge", base_url=url, model="scripted-judge", max_retries=0))
        report = run_report(ws, EvalConfig(inference=info.id, similarity=False, bootstrap=200, baseline_arm="base",
                                           judge=JudgeConfig(judge="judge"),
                                           pairwise=JudgeConfig(judge="judge", mode="pairwise")))
    rows = reports.side_by_side(ws, report.id)["row_id"].tolist()
    keys = reports.human_review(ws, report.id)["arm_keys"]
    set_override(ws, reports.override_key(ws, report.id, rows[2], "base"), score=9, scale="1-10")  # judge failed
    set_override(ws, reports.override_key(ws, report.id, rows[0], "tuned"), score=2, scale="1-10")
    same = reports.side_by_side(ws, report.id)["base · judge"].iloc[3]
    set_override(ws, reports.override_key(ws, report.id, rows[3], "base"), score=same, scale="1-10")  # agrees
    set_override(ws, reports.pair_override_key(ws, report.id, rows[1], "tuned"), winner="tie")  # agrees
    set_override(ws, reports.pair_override_key(ws, report.id, rows[0], "tuned"), winner=keys["tuned"])
    set_override(ws, reports.pair_override_key(ws, report.id, rows[2], "tuned"), winner=keys["base"])
    return report, rows


def test_the_summary_puts_the_human_adjusted_judge_beside_the_judges_own(ws, reviewed):
    report, rows = reviewed
    summary, human = report.summary, reports.human_adjusted(ws, report.id)
    judged = reports.side_by_side(ws, report.id).set_index("row_id")
    base_scores = judged["base · judge"].tolist()
    assert pd.isna(base_scores[2]) and summary["arms"]["base"]["judge"]["n"] == 5
    adjusted = human["judge"]["base"]
    assert (adjusted["n"], adjusted["excluded"], adjusted["overrides"]) == (6, 0, 2)  # the human filled the failure
    assert adjusted["mean"] == pytest.approx((sum(base_scores[:2]) + 9 + sum(base_scores[3:])) / 6)
    tuned = judged["tuned · judge"].tolist()
    assert human["judge"]["tuned"]["mean"] == pytest.approx((2 + sum(tuned[1:])) / 6)
    table = reports.summary_table(summary, human, "zh").set_index("arm")
    assert table.loc["base", "judge"].endswith("(5 条有效，1 条失败)")  # the judge's own figure, unchanged
    assert table.loc["base", "judge_human"].endswith("(n=6 · 人工 2 条)")
    assert list(table.columns).index("judge_human") == list(table.columns).index("judge") + 1
    english = reports.summary_table(summary, human).set_index("arm")
    assert english.loc["base", "judge"].endswith("(n=5, 1 failed)")
    assert reports.summary_table(summary).columns.tolist() == [c for c in english.reset_index().columns
                                                              if c != "judge_human"]
    assert list(reports.localized(table.reset_index(), "zh").columns[:2]) == ["对比项", "模型"]
    # A/B: the judge said tie everywhere (row 2 failed); the human picked tuned on row 0 and base on row 2
    ab = reports.pairwise_table(summary, human, "zh").set_index("对比项")
    assert ab.loc["tuned", ["胜", "平", "负", "失败"]].tolist() == [0, 5, 0, 1]
    assert all(isinstance(v, int) for v in ab.loc["tuned", ["胜", "平", "负", "失败", "人工选择"]])
    assert ab.loc["tuned", "胜率"] == "–（没有分出胜负：5 条平局，1 条失败）"
    assert ab.loc["tuned", "含人工选择的胜率"] == "17% (1/6)" and ab.loc["tuned", "人工选择"] == 3
    assert human["pairwise"]["tuned"] == {"wins": 1, "ties": 4, "losses": 1, "failed": 0, "picks": 3,
                                          "win_rate": pytest.approx(1 / 6)}
    notes = reports.human_notes(human, "zh")
    assert notes[0].startswith("逐条打分：人工与评审的一致性：κ = ") and "共 2 条" in notes[0]
    assert notes[1].startswith("A/B 结论：人工与评审的一致性：κ = ") and "人工修正 3 条" in notes[1]


def test_the_exports_carry_verdicts_reasons_and_picks_and_failures_read_as_failed(ws, reviewed):
    report, rows = reviewed
    csv = pd.read_csv(io.BytesIO(reports.export_csv(ws, report.id)), encoding="utf-8-sig", dtype=str)
    csv = csv.set_index("row_id")
    pair = "base vs tuned"
    assert {f"{pair} · A/B judge", f"{pair} · A/B reason", f"{pair} · human pick", "base · judge reason"} <= set(csv)
    failed_row = str(rows[2])
    assert csv.loc[failed_row, "base · judge"] == "failed"  # not blank, not 0
    assert csv.loc[failed_row, "base · judge reason"].startswith("failed: ")
    assert csv.loc[failed_row, f"{pair} · A/B judge"] == "failed"
    assert csv.loc[failed_row, f"{pair} · human pick"] == "base"
    assert csv.loc[str(rows[0]), f"{pair} · human pick"] == "tuned"
    assert csv.loc[str(rows[1]), f"{pair} · A/B judge"] == "tie"
    assert csv.loc[str(rows[1]), f"{pair} · A/B reason"].startswith("AB: tie — 理由")
    assert " | BA: " in csv.loc[str(rows[1]), f"{pair} · A/B reason"]
    assert csv.loc[str(rows[1]), f"{pair} · human pick"] == "tie" and pd.isna(csv.loc[str(rows[4]), f"{pair} · human pick"])
    assert csv.loc[str(rows[1]), "tuned · judge reason"].startswith("理由")
    zh = pd.read_csv(io.BytesIO(reports.export_csv(ws, report.id, "zh")), encoding="utf-8-sig", dtype=str)
    assert zh.set_index("row_id").loc[failed_row, "base · judge"] == "失败"


def test_the_html_file_is_in_the_users_language_sorted_like_the_page_with_counts_and_charts(ws, reviewed):
    report, rows = reviewed
    page = reports.export_html(ws, report.id, "zh")
    body = page.split("<body>")[1]
    assert "<script" not in page and "http" not in body and "<html lang=zh>" in page
    assert "评审得分（含人工修正）" in page and "含人工选择的胜率" in page and "逐条打分：人工与评审的一致性" in page
    assert "<th>对比项</th>" in page and ">arm<" not in page  # headers in the report's language
    assert "<td>5</td><td>0</td><td>1</td>" in page and "5.0" not in body.split("逐条对比")[0]  # integer counts
    assert "–（没有分出胜负：5 条平局，1 条失败）" in page
    assert "max-width:1200px" in page and "grid-template-columns" in page and "class=charts" in page
    table, metric = export_rows(ws, report.id, "zh")
    assert metric == "judge" and "按 评审得分 差异从大到小排列" in page
    order = [part.split("<")[0].split(" · ")[0] for part in body.split("<section class=row><header>#")[1:]]
    assert [str(r) for r in order] == table["row_id"].tolist()
    assert table["difference"].is_monotonic_decreasing or table["difference"].isna().any()
    assert "A/B 评审: <span class=bad>失败</span> · 人工选择: <b>base</b>" in page  # the failure, the pick beside it
    english = reports.export_html(ws, report.id, "en")
    assert "Judge score with human overrides" in english and "评审" not in english.split("<h2>")[1]


def test_win_rates_and_failures_are_worded_not_shown_as_zero():
    assert reports.win_rate_text({"wins": 0, "ties": 0, "losses": 0, "failed": 8}, "zh") == "–（没有分出胜负：8 条失败）"
    assert reports.win_rate_text({"wins": 0, "ties": 1, "losses": 0, "failed": 7}, "en") == \
        "– (nothing won or lost: 1 ties, 7 failed)"
    assert reports.win_rate_text({"wins": 3, "ties": 1, "losses": 0, "failed": 2}, "en") == "75% (3/4)"
    assert " / –（" in reports.win_rate_text({"wins": 0, "ties": 0, "losses": 0, "failed": 2}, None)
    value = {"mean": 1.0, "low": 1.0, "high": 1.0, "n": 3, "excluded": 5}
    assert reports.figure(value, 3, "judge", "zh") == "1.000 [1.000, 1.000] (3 条有效，5 条失败)"
    assert reports.figure(value, 3, "rouge-1", "en") == "1.000 [1.000, 1.000] (n=3, 5 left out)"
    assert reports.figure({**value, "excluded": 0}, 3, "judge", "zh") == "1.000 [1.000, 1.000] (n=3)"


def fewer_rows(ws, info, count: int, arms: dict[str, list]):
    """Another inference on the same dataset version: its first `count` rows, answered by `arms`."""
    config = InferConfig(dataset=info.dataset_id, split="test", max_rows=count,
                         arms=[Arm(label=arm, model="smollm2-135m-instruct") for arm in arms])
    version, rows_table = select_rows(ws, config)
    inference = create_inference(ws, config, version, inference_rows(rows_table))
    for arm in config.arms:
        inference.outputs.append([output_record(arm, row, Completion(text, "m", "stop", 5, 5))
                                  for row, text in zip(inference_rows(rows_table), arms[arm.label])])
    return inference


def test_comparing_reports_of_different_rows_uses_the_shared_rows_and_says_what_differs(ws, capsys):
    info = answered(ws, {"a": ["臣妾做不到", "你好", "好", "是", "否", "嗯"], "b": PERSONA[:6]})
    report_a = run_report(ws, EvalConfig(inference=info.id, similarity=False, classification="off"))
    small = fewer_rows(ws, info, 3, {"a": PERSONA[:3]})
    report_b = run_report(ws, EvalConfig(inference=small.id, similarity=False, classification="off"))
    diff = reports.compare_reports(ws, report_a.id, report_b.id)
    assert diff["rows"] == {"A": 6, "B": 3, "shared": 3, "basis": "shared"}
    assert diff["only"]["A"]["arms"] == ["b"] and diff["only"]["B"] == {"arms": [], "metrics": [], "pairwise": False}
    row = diff["metrics"].set_index("metric").loc["rouge-1"]
    from workbench.evaluate.scoring import read_scores
    scores = read_scores(report_a.folder).query("arm == 'a' and metric == 'rouge-1'")
    shared = reports.side_by_side(ws, report_b.id)["row_id"].tolist()
    assert row["A"] == pytest.approx(scores[scores["row_id"].isin(shared)]["value"].mean())  # not the 6-row mean
    assert row["rows"] == 3 and row["B"] == pytest.approx(100.0)
    notes = reports.compare_notes(diff, "zh")
    assert notes[0] == "行数：A 有 6 行，B 有 3 行，共有 3 行。" and "只按共有的 3 行计算" in notes[1]
    assert "仅 A 有：对比项 b" in notes[2] and notes[-1].startswith("数据集版本相同")
    table = reports.compare_table(diff, "zh")
    assert list(table.columns) == ["对比项", "指标", "A", "B", "变化（B − A）", "行数"]
    assert table.set_index("指标").loc["ROUGE-1", "B"] == "100.00"
    assert table.set_index("指标").loc["ROUGE-1", "变化（B − A）"].startswith("+")
    code, out, _ = cli(ws, capsys, "--lang", "zh", "reports", "compare", report_a.id, report_b.id)
    assert code == 0 and "共有 3 行" in out and "ROUGE-1" in out and "rouge-1" not in out
    assert "数据集版本相同" in out and "的数据差异：\n" not in out
