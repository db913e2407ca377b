"""One figure, one table: Cohen's κ between the human and the judge is computed once (over the rows and arms of
this report both scored) and the summary, the review section and the HTML file show that same value; a report
without a judge carries the human's scores in the side-by-side table, so the CSV and HTML exports have them;
metric names are one function for the summary and the compare table; the answers are read once while unchanged."""
import io

import pandas as pd
import pytest

from tests.evaluate.judge_server import judge_server
from tests.evaluate.test_evaluation import PERSONA, answered, run_report
from workbench.evaluate import report as reports
from workbench.evaluate import report_compare, scoring
from workbench.evaluate.config import EvalConfig
from workbench.evaluate.judge_config import JudgeConfig
from workbench.evaluate.metric_strings import column_name
from workbench.evaluate.overrides import HUMAN_SCORE, OverrideKey, set_override
from workbench.evaluate.report_data import report_answers, report_scores
from workbench.llm import Endpoint, save_endpoint

BASE = ["不知道", "你好", "日子难熬", "好的", "不敢", "退下"]


def disputed_report(ws):
    """A judged report (scores 2, 4, 6, 8, 10, 9 on a 1-10 rubric) with three human scores on its rows (2, 9, 6)
    and one on a row of the same dataset that this report does not have. The two scopes the page used to count in
    differ here: κ over the scale's points or over the values seen (3 vs 4 overridden)."""
    info = answered(ws, {"a": ["一", "二", "三", "四", "五", "六"]})
    scores = iter([2, 4, 6, 8, 10, 9])
    with judge_server(lambda prompt, attempt: f'{{"reason": "ok", "score": {next(scores)}}}') as (_, url):
        save_endpoint(ws, Endpoint("judge", base_url=url, model="scripted-judge", max_retries=0, max_concurrency=1))
        report = run_report(ws, EvalConfig(inference=info.id, judge=JudgeConfig(judge="judge"), similarity=False,
                                           lexical=False, bootstrap=200))
    rows = reports.side_by_side(ws, report.id)["row_id"].tolist()
    for row_id, score in zip(rows, (2, 9, 6)):
        set_override(ws, reports.override_key(ws, report.id, row_id, "a"), score=score, scale="1-10")
    elsewhere = reports.override_key(ws, report.id, rows[0], "a")
    set_override(ws, OverrideKey(elsewhere.dataset_id, "999999", elsewhere.arm, elsewhere.metric), score=1,
                 scale="1-10")  # a row of the dataset this report does not have: not counted here
    return report


@pytest.fixture
def disputed(ws):
    return disputed_report(ws)


def test_kappa_is_one_figure_for_the_summary_the_review_and_the_html(ws, disputed):
    human = reports.human_adjusted(ws, disputed.id)
    found = human["judge_agreement"]
    assert (found.compared, found.overridden) == (3, 3) and found.kappa is not None
    review = reports.human_review(ws, disputed.id)
    assert review["agreement"] == found and review["overrides"] == 3  # the other row of the dataset is not counted
    assert reports.human_review(ws, disputed.id, human)["agreement"] == found  # the page passes the one it has
    message = found.message("en")
    assert message.startswith(f"Human–judge agreement: κ = {found.kappa:.2f} over 3 items (3 overridden)")
    assert [line for line in reports.human_notes(human, "en") if message in line]  # the page's summary line
    page = reports.export_html(ws, disputed.id, "en")
    assert page.count(message) == 2  # the summary line and the review section, the same figure


def test_a_report_without_a_judge_exports_the_human_scores_in_csv_and_html(ws):
    info = answered(ws, {"base": BASE, "tuned": PERSONA[:6]}, models={"tuned": "run-20260101-000000-abcdef"})
    report = run_report(ws, EvalConfig(inference=info.id, similarity=False, bootstrap=200))  # lexical only
    rows = reports.side_by_side(ws, report.id)["row_id"].tolist()
    key = OverrideKey(info.dataset_id, rows[1], "smollm2-135m-instruct", HUMAN_SCORE)
    set_override(ws, key, score=7, scale="1-10")
    table = reports.side_by_side(ws, report.id).set_index("row_id")
    assert table.at[rows[1], "base · human"] == 7 and table["tuned · human"].isna().all()
    columns = list(table.columns)
    assert columns.index("base · human") == max(i for i, c in enumerate(columns) if c.startswith("base · ") and
                                                 c != "base · human") + 1  # after the arm's own columns
    csv = pd.read_csv(io.BytesIO(reports.export_csv(ws, report.id)), encoding="utf-8-sig", dtype=str)
    csv = csv.set_index("row_id")
    assert csv.loc[rows[1], "base · human"] == "7.0" and csv["tuned · human"].isna().all()
    page = reports.export_html(ws, report.id, "en")
    blocks = {b.split("<")[0].split(" · ")[0]: b for b in page.split("<section class=row><header>#")[1:]}
    assert set(blocks) == set(rows) and "human <b>7</b>" in blocks.pop(rows[1])
    assert not any("human <b>" in block for block in blocks.values())  # no human score: nothing shown


def test_metric_and_column_names_come_from_one_function():
    assert not hasattr(report_compare, "_metric_name")
    assert reports.column_name is column_name
    assert column_name("rouge-1", "zh") == "ROUGE-1" and column_name("similarity", "zh") == "语义相似度"
    assert column_name("arm", "zh") == "对比项" and column_name("arm", None) == "arm / 对比项"
    assert column_name("my-metric", "en") == "my-metric"  # unknown: as stored


def test_the_answers_and_scores_are_read_once_while_their_files_are_unchanged(ws, monkeypatch):
    info = answered(ws, {"a": ["一", "二", "三", "四", "五", "六"]})
    report = run_report(ws, EvalConfig(inference=info.id, similarity=False, bootstrap=200))
    reads = []
    real_outputs, real_scores = scoring.read_outputs, scoring.read_scores
    monkeypatch.setattr(scoring, "read_outputs", lambda *a: reads.append("answers") or real_outputs(*a))
    monkeypatch.setattr(scoring, "read_scores", lambda *a: reads.append("scores") or real_scores(*a))
    first = report_answers(ws, info)
    first["output"] = "changed by the caller"  # a copy: the next reader gets the file's values
    assert report_answers(ws, info)["output"].tolist() == ["一", "二", "三", "四", "五", "六"]
    reports.side_by_side(ws, report.id)
    reports.human_adjusted(ws, report.id)
    reports.export_csv(ws, report.id)
    reports.export_html(ws, report.id)
    report_scores(report.folder)
    assert sorted(reads) == ["answers", "scores"]  # once each, for every section and both exports
    info.outputs.append([{"key": "a\x1f999", "arm": "a", "row_id": 999, "status": "ok", "output": "x"}])
    report_answers(ws, info)  # the file changed: read again
    assert reads.count("answers") == 2
