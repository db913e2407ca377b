"""The Evaluate page (AppTest): empty workspace hint, a finished report (summary with the chance baseline, rows,
filters, downloads, compare), a human score stored as an override, an evaluation started from the page, and bad
input shown as an error."""
import json

from tests.evaluate.judge_server import judge_server
from tests.evaluate.test_evaluation import PERSONA, answered
from tests.infer.conftest import qa_table, tiny_folders  # noqa: F401  (fixture)
from tests.pages.conftest import no_errors, page
from tests.pages.train_helpers import finished_run
from workbench import jobs, models
from workbench.evaluate.config import EvalConfig
from workbench.evaluate.jobs import start_evaluation
from workbench.evaluate.judge_config import JudgeConfig
from workbench.evaluate.overrides import HUMAN_PICK, HUMAN_SCALE, HUMAN_SCORE, overrides_for
from workbench.evaluate.store import get_report, list_reports
from workbench.llm import Endpoint, save_endpoint

BASE = ["不知道", "你好", "日子难熬", "好的", "不敢", "退下"]


def finished(ws, config: EvalConfig):
    report_id, job_id = start_evaluation(ws, config)
    info = jobs.wait(ws, job_id, timeout=300)
    assert info.state == "succeeded", (info.error, info.log_tail())
    return get_report(ws, report_id)


def test_empty_workspace_says_what_to_do_first(app_env):
    at = page("evaluate").run()
    no_errors(at)
    assert any("No finished inference yet" in i.value for i in at.info)
    assert any("No report yet" in i.value for i in at.info)
    assert any("No finished training run" in c.value for c in at.caption)


def test_a_finished_report_shows_summary_baseline_rows_downloads_and_compare(app_env):
    info = answered(app_env, {"base": BASE, "tuned": PERSONA[:6]})
    first = finished(app_env, EvalConfig(inference=info.id, similarity=False, name="first", bootstrap=200))
    report = finished(app_env, EvalConfig(inference=info.id, name="second", bootstrap=200))
    at = page("evaluate").run()
    no_errors(at)
    assert at.selectbox(key="eval_report_pick").value == report.id  # the newest first
    assert any(info.id in c.value and info.dataset_ref in c.value for c in at.caption)  # lineage
    assert any("smollm2-135m-instruct" in c.value for c in at.caption)
    summary = at.dataframe[0].value.set_index("arm")
    assert {"similarity", "rouge-l", "chance baseline", "lift"} <= set(summary.columns)
    assert list(summary.columns[3:6]) == ["similarity", "chance baseline", "lift"]  # first, baseline beside it
    zh = page("evaluate")
    zh.session_state["lang"] = "zh"
    headers = list(json.loads(zh.run().dataframe[0].proto.columns).values())
    assert [h["label"] for h in headers[:7]] == ["对比项", "模型", "已回答", "失败", "语义相似度", "随机基线", "提升"]
    assert "随机基线" in headers[4]["help"] and "e5" in headers[4]["help"].lower()  # what the figure means, on hover
    side = {h.get("label") for h in json.loads(zh.dataframe[1].proto.columns).values()}
    assert {"提示", "参考答案", "tuned · 回答", "base · 语义相似度", "差值"} <= side
    assert float(summary.loc["tuned", "lift"]) > float(summary.loc["base", "lift"])
    assert any("0.7" in c.value and "chance baseline" in c.value for c in at.caption)
    assert at.selectbox(key=f"eval_metric_{report.id}").value == "similarity"  # the headline without a judge
    rows = at.dataframe[1].value
    assert len(rows) == 6 and {"tuned · answer", "base · similarity", "difference"} <= set(rows.columns)
    assert rows["difference"].is_monotonic_decreasing
    assert "<b>嬛嬛</b>不敢。" in rows["tuned · answer"].tolist()  # text, not HTML
    assert len(at.get("download_button")) == 2
    at.text_input(key="eval_filter_text").input("臣妾").run()
    no_errors(at)
    assert at.dataframe[1].value["tuned · answer"].tolist() == ["臣妾做不到啊。"]
    at.selectbox(key="eval_compare").select(first.id).run()
    no_errors(at)
    change = at.dataframe[2].value  # arm, metric (its display name), A, B, change (signed text), rows compared
    assert set(change.iloc[:, 1]) >= {"ROUGE-1", "ROUGE-L"}, change
    assert all(float(value) == 0 for value in change.iloc[:, 4]), change


def test_a_human_score_is_stored_as_an_override_beside_the_judge(app_env):
    info = answered(app_env, {"a": ["一", "二", "三", "四", "五", "六"]})
    with judge_server(lambda prompt, attempt: '{"reason": "ok", "score": 6}') as (judge, url):
        save_endpoint(app_env, Endpoint("judge", base_url=url, model="scripted-judge", max_retries=0))
        report = finished(app_env, EvalConfig(inference=info.id, judge=JudgeConfig(judge="judge"), similarity=False,
                                              lexical=False, bootstrap=200))
    at = page("evaluate").run()
    no_errors(at)
    assert at.selectbox(key=f"eval_metric_{report.id}").value == "judge"
    assert [m.value for m in at.metric if m.label == "Human scores"] == ["0"]
    rows = [o.split(" · ")[0] for o in at.selectbox(key="eval_review_row").options]  # row ids are text in reports
    row_id, other = rows[2], rows[4]
    at.selectbox(key="eval_review_row").set_value(row_id).run()
    assert at.number_input(key="eval_review_score").value == 6  # nothing saved yet: the box starts at the judge's
    at.number_input(key="eval_review_score").set_value(9).run()
    assert any("Judge: 6" in c.value for c in at.caption)
    at.button(key="eval_review_save").click().run()
    no_errors(at)
    stored = overrides_for(app_env, info.dataset_id, report.config.judge.metric)
    assert [(k.row_id, o.score) for k, o in stored.items()] == [(str(row_id), 9.0)]
    assert [m.value for m in at.metric if m.label == "Human scores"] == ["1"]
    assert any("human: 9" in c.value for c in at.caption)
    assert at.number_input(key="eval_review_score").value == 9

    # another row shows its own value, not the one just saved; back again shows the saved one
    at.selectbox(key="eval_review_row").set_value(other).run()
    assert at.number_input(key="eval_review_score").value == 6
    assert any("Judge: 6 · human: –" in c.value for c in at.caption)
    at.button(key="eval_review_save").click().run()  # Save stores what is shown (the judge's 6), not the 9
    at.selectbox(key="eval_review_row").set_value(row_id).run()
    assert at.number_input(key="eval_review_score").value == 9
    stored = overrides_for(app_env, info.dataset_id, report.config.judge.metric)
    assert {(k.row_id, o.score) for k, o in stored.items()} == {(row_id, 9.0), (other, 6.0)}
    at.button(key="eval_review_clear").click().run()
    assert at.number_input(key="eval_review_score").value == 6  # cleared: the judge's again
    at.selectbox(key="eval_review_row").set_value(other).run()
    at.button(key="eval_review_clear").click().run()
    assert overrides_for(app_env, info.dataset_id) == {}


def test_an_evaluation_starts_from_the_page_and_bad_input_shows_an_error(app_env):
    info = answered(app_env, {"only": ["一", "二", "三", "四", "五", "六"]})
    at = page("evaluate").run()
    no_errors(at)
    assert at.selectbox(key="eval_inference").value == info.id
    at.toggle(key="eval_use_pairwise").set_value(True).run()
    at.button(key="eval_start").click().run()
    no_errors(at)
    assert "pairwise: needs at least two arms" in at.error[0].value
    at.toggle(key="eval_use_pairwise").set_value(False)
    at.toggle(key="eval_use_judge").set_value(True).run()
    rubric = at.selectbox(key="eval_judge_rubric")
    assert not any("judge_pairwise" in o for o in rubric.options) and rubric.value == "judge_helpfulness_en"
    rubric.set_value("judge_groundedness_en")  # needs a `context` that the rows do not have
    at.button(key="eval_start").click().run()
    no_errors(at)
    assert "judge: Rubric 'judge_groundedness_en' needs 'context'" in at.error[0].value
    assert list_reports(app_env) == []
    at.toggle(key="eval_use_judge").set_value(False)
    at.toggle(key="eval_similarity").set_value(False).run()
    at.button(key="eval_start").click().run()
    no_errors(at)
    report = list_reports(app_env)[0]
    assert any("Started report" in s.value for s in at.success)
    assert jobs.wait(app_env, report.job_id, timeout=300).state == "succeeded"
    at.run()
    no_errors(at)
    assert "rouge-1" in at.dataframe[0].value.columns and len(at.get("download_button")) == 2


def test_before_after_answers_and_scores_base_vs_tuned_in_one_click(app_env, tiny_folders):  # noqa: F811
    base = models.register_local(app_env, tiny_folders["a"], "tiny a").id
    app_env.create_dataset("qa", qa_table())
    run = finished_run(app_env, base)  # its adapter folder is empty: the tuned arm fails to load, base answers
    at = page("evaluate").run()
    no_errors(at)
    assert at.selectbox(key=f"eval_ba_split_{run.id}").value == "test"
    at.number_input(key="eval_ba_rows").set_value(2).run()
    at.button(key="eval_ba_start").click().run()
    no_errors(at)
    report = list_reports(app_env)[0]
    info = jobs.wait(app_env, report.job_id, timeout=300)
    assert info.state == "succeeded", (info.error, info.log_tail())
    at.run()
    no_errors(at)
    summary = at.dataframe[0].value.set_index("arm")
    assert summary.loc["base", "model"] == base and summary.loc["tuned", "model"] == f"run-{run.id}"
    assert (summary.loc["base", "ok"], summary.loc["tuned", "failed"]) == (2, 2)


def test_a_human_pick_of_an_ab_verdict_and_a_rubric_value_from_the_page(app_env):
    info = answered(app_env, {"base": BASE, "tuned": PERSONA[:6]}, models={"tuned": "run-20260101-000000-abcdef"})
    with judge_server(lambda prompt, attempt: '{"reason": "难分高下", "winner": "tie", "score": 5}') as (judge, url):
        save_endpoint(app_env, Endpoint("judge", base_url=url, model="scripted-judge", max_retries=0))
        report = finished(app_env, EvalConfig(inference=info.id, similarity=False, lexical=False, bootstrap=200,
                                              pairwise=JudgeConfig(judge="judge", mode="pairwise")))
        at = page("evaluate").run()
        no_errors(at)
        assert [m.value for m in at.metric if m.label == "Human picks"] == ["0"]
        assert at.selectbox(key="eval_pair_arm").value == "tuned"
        rows = [o.split(" · ")[0] for o in at.selectbox(key="eval_pair_row").options]
        assert at.radio(key="eval_pair_winner").value == "tie"  # nothing picked yet: the judge's verdict
        at.radio(key="eval_pair_winner").set_value("tuned").run()
        assert any("Judge: tie · human: –" in c.value for c in at.caption)
        at.button(key="eval_pair_save").click().run()
        no_errors(at)
        stored = overrides_for(app_env, info.dataset_id, report.config.pairwise.metric)
        assert [o.winner for o in stored.values()] == ["run-20260101-000000-abcdef"]
        assert [m.value for m in at.metric if m.label == "Human picks"] == ["1"]
        assert any("Judge: tie · human: tuned" in c.value for c in at.caption)
        assert at.radio(key="eval_pair_winner").value == "tuned"

        # another row shows its own verdict, not the pick just saved; back again shows the pick
        at.selectbox(key="eval_pair_row").set_value(rows[3]).run()
        assert at.radio(key="eval_pair_winner").value == "tie"
        assert any("Judge: tie · human: –" in c.value for c in at.caption)
        at.selectbox(key="eval_pair_row").set_value(rows[0]).run()
        assert at.radio(key="eval_pair_winner").value == "tuned"
        assert any("Judge: tie · human: tuned" in c.value for c in at.caption)
        at.button(key="eval_pair_clear").click().run()
        assert overrides_for(app_env, info.dataset_id) == {}
        assert at.radio(key="eval_pair_winner").value == "tie"

        # a rubric value the rows do not carry (the persona) is asked once for the whole evaluation
        at.toggle(key="eval_use_judge").set_value(True).run()
        at.selectbox(key="eval_judge_rubric").set_value("judge_persona_style_en").run()
        at.text_area(key="eval_judge_var_persona").input("Zhen Huan, a consort of the Qing court").run()
        no_errors(at)
        at.button(key="eval_start").click().run()
        no_errors(at)
        started = list_reports(app_env)[0]
        assert started.config.judge.variables == {"persona": "Zhen Huan, a consort of the Qing court"}
        assert jobs.wait(app_env, started.job_id, timeout=300).state == "succeeded"
    assert any("Zhen Huan, a consort" in call["messages"][-1]["content"] for call in judge.calls)


def test_a_report_without_a_judge_still_takes_a_human_score_and_pick(app_env):
    info = answered(app_env, {"base": BASE, "tuned": PERSONA[:6]}, models={"tuned": "run-20260101-000000-abcdef"})
    report = finished(app_env, EvalConfig(inference=info.id, similarity=False, bootstrap=200))  # lexical only
    at = page("evaluate").run()
    no_errors(at)
    assert at.selectbox(key="eval_report_pick").value == report.id
    assert any("No judge scored this report" in c.value for c in at.caption)
    rows = [o.split(" · ")[0] for o in at.selectbox(key="eval_review_row").options]
    at.selectbox(key="eval_review_row").set_value(rows[1]).run()
    assert at.number_input(key="eval_review_score").value is None  # no judge, nothing saved: empty, not a guess
    at.button(key="eval_review_save").click().run()
    assert "Enter a score first" in at.error[0].value and overrides_for(app_env, info.dataset_id) == {}
    at.number_input(key="eval_review_score").set_value(7).run()
    at.button(key="eval_review_save").click().run()
    no_errors(at)
    stored = overrides_for(app_env, info.dataset_id, HUMAN_SCORE)
    assert [(k.row_id, k.arm, o.score, o.scale) for k, o in stored.items()] == [
        (rows[1], "smollm2-135m-instruct", 7.0, HUMAN_SCALE)]
    side = at.dataframe[1].value.set_index("row_id")
    assert side.at[rows[1], "base · human"] == 7 and side["tuned · human"].isna().all()  # beside the answers
    at.selectbox(key="eval_review_arm").set_value("tuned").run()
    assert at.number_input(key="eval_review_score").value is None  # the other arm: its own (none)
    at.selectbox(key="eval_review_arm").set_value("base").run()
    assert at.number_input(key="eval_review_score").value == 7

    # the better of two answers, picked by the human alone
    assert at.selectbox(key="eval_pair_arm").options == ["tuned"]  # compared with the baseline arm
    assert at.radio(key="eval_pair_winner").value is None
    at.button(key="eval_pair_save").click().run()
    assert "Choose the better answer first" in at.error[0].value
    at.radio(key="eval_pair_winner").set_value("tuned").run()
    at.button(key="eval_pair_save").click().run()
    no_errors(at)
    picks = overrides_for(app_env, info.dataset_id, HUMAN_PICK)
    assert [o.winner for o in picks.values()] == ["run-20260101-000000-abcdef"]
    assert [m.value for m in at.metric if m.label == "Human picks"] == ["1"]
    first = at.selectbox(key="eval_pair_row").value
    at.selectbox(key="eval_pair_row").set_value(rows[5] if first != rows[5] else rows[4]).run()
    assert at.radio(key="eval_pair_winner").value is None
    at.selectbox(key="eval_pair_row").set_value(first).run()
    assert at.radio(key="eval_pair_winner").value == "tuned"


def test_the_new_evaluation_panel_stays_open_while_it_is_configured(app_env):
    info = answered(app_env, {"base": BASE, "tuned": PERSONA[:6]})
    finished(app_env, EvalConfig(inference=info.id, similarity=False, bootstrap=200))
    at = page("evaluate").run()
    assert not at.expander[0].proto.expanded  # a report exists: the panel starts folded
    at.session_state["eval_preselect"] = info.id  # "Evaluate these answers" on the Inference page
    at.run()
    assert at.expander[0].proto.expanded and at.selectbox(key="eval_inference").value == info.id
    at.toggle(key="eval_use_judge").set_value(True).run()
    no_errors(at)
    assert at.expander[0].proto.expanded
    at.toggle(key="eval_use_pairwise").set_value(True).run()
    assert at.expander[0].proto.expanded


def test_rubric_values_say_which_are_optional_and_the_rows_table_reads_compactly(app_env, monkeypatch):
    info = answered(app_env, {"base": BASE, "tuned": PERSONA[:6]})
    finished(app_env, EvalConfig(inference=info.id, similarity=False, bootstrap=200))
    for language, optional, required in (("en", "Rubric value: criteria (optional)", "(required unless"),
                                         ("zh", "评分标准变量：criteria（可选）", "（数据行中没有时必填）")):
        monkeypatch.setenv("WORKBENCH_LANG", language)
        at = page("evaluate").run()
        at.toggle(key="eval_use_pairwise").set_value(True).run()  # the A/B rubric's `criteria` may stay empty
        assert [a.label for a in at.text_area] == [optional]
        at.toggle(key="eval_use_judge").set_value(True).run()
        at.selectbox(key="eval_judge_rubric").set_value("judge_groundedness_en").run()  # `context` has no default
        assert any(required in a.label for a in at.text_area)
    columns = json.loads(at.dataframe[1].proto.columns)
    assert columns["prompt"]["pinned"] and columns["tuned · answer"]["width"] == "medium"
    assert columns["tuned · rouge-l"]["width"] == "small"
    order = list(at.dataframe[1].proto.column_order)  # compact: each answer with its scores beside it
    assert order.index("base · rouge-l") == order.index("base · answer") + 1
    assert "base · rouge-1" not in order and order[-1] == "difference"
    assert at.dataframe[1].proto.placeholder == "–"  # empty cells read "–", not "None"
    at.toggle(key="eval_compact").set_value(False).run()
    assert list(at.dataframe[1].proto.column_order) == []  # every score


def test_kappa_reads_the_same_in_the_summary_and_in_the_review(app_env):
    from tests.evaluate.test_report_one_table import disputed_report

    disputed_report(app_env)  # judge and human disagree on one row; a human score on a row not in this report
    at = page("evaluate").run()
    no_errors(at)
    found = [c.value[c.value.index("κ = "):] for c in at.caption if "κ = " in c.value]
    assert len(found) == 2 and found[0] == found[1], found  # the summary's line and the review's, one figure
    assert found[0].endswith("over 3 items (3 overridden)")
    assert [m.value for m in at.metric if m.label == "Human scores"] == ["3"]  # this report's rows only


def test_one_render_reads_the_answers_once_and_builds_the_exports_only_when_asked(app_env, monkeypatch):
    """A judge-free report with a human score: the page reads the answers and scores once (and not again on a
    rerun), builds neither export while rendering, and the downloads it offers carry the human's score."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    from workbench.evaluate import report_export, scoring

    info = answered(app_env, {"base": BASE, "tuned": PERSONA[:6]})
    report = finished(app_env, EvalConfig(inference=info.id, similarity=False, bootstrap=200))  # lexical only
    reads, built, downloads = [], [], {}
    real_outputs, real_scores, real_rows = scoring.read_outputs, scoring.read_scores, report_export.export_rows
    monkeypatch.setattr(scoring, "read_outputs", lambda ws, i: reads.append("answers") or real_outputs(ws, i))
    monkeypatch.setattr(scoring, "read_scores", lambda folder: reads.append("scores") or real_scores(folder))
    monkeypatch.setattr(report_export, "export_rows", lambda *a: built.append(a) or real_rows(*a))
    real_deferred = MediaFileManager.add_deferred

    def deferred(self, data, mimetype, coordinates, file_name=None, **kwargs):
        downloads[file_name] = data  # what a click on the button runs
        return real_deferred(self, data, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", deferred)
    at = page("evaluate").run()
    no_errors(at)
    assert sorted(reads) == ["answers", "scores"] and built == []  # once each; no export built yet
    rows = [o.split(" · ")[0] for o in at.selectbox(key="eval_review_row").options]
    at.selectbox(key="eval_review_row").set_value(rows[1]).run()
    at.number_input(key="eval_review_score").set_value(7).run()
    at.button(key="eval_review_save").click().run()
    no_errors(at)
    assert sorted(reads) == ["answers", "scores"] and built == []  # reruns: the files did not change
    assert at.dataframe[1].value.set_index("row_id").at[rows[1], "base · human"] == 7
    csv = downloads[f"report-{report.id}.csv"]().decode("utf-8-sig")
    assert "base · human" in csv.splitlines()[0] and ",7.0," in csv
    html = downloads[f"report-{report.id}.html"]()
    assert "human <b>7</b>" in html and len(built) == 2  # built on the click, with the page's table
