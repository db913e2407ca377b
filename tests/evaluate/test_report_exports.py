"""Reading a report outside the page: classification in the HTML export and `reports show`, line breaks kept in
the HTML, the catch-all column in the user's language, export folders created, comparing reports with no arm in
common, the default report name, and before/after's answer length and classification switches."""
from types import SimpleNamespace

import pyarrow as pa
import pytest

from tests.evaluate.test_evaluation import answered, run_report
from workbench.cli import main
from workbench.evaluate import report as reports
from workbench.evaluate.config import EvalConfig, to_yaml
from workbench.evaluate.store import list_reports
from workbench.i18n import in_language
from workbench.infer.store import get_inference

LABELS = ["正面", "负面", "正面", "中性", "负面", "正面"]
PROMPTS = [f"请判断情感：正面、负面或中性。\n评论 {i}：中等水平吧。" for i in range(6)]


def labelled(ws, **config):
    """A finished classification report: 4 of 6 right, one answer outside the label set (好评)."""
    info = answered(ws, {"clf": ["正面。", "负面", "<b>负面</b>", "中性", "负面", "好评"]}, references=LABELS,
                    prompts=PROMPTS)
    return info, run_report(ws, EvalConfig(inference=info.id, similarity=False, lexical=False, **config))


def cli(ws, capsys, *args) -> tuple[int, str, str]:
    """The CLI in this process (the same entry point as `python -m workbench`): exit code, stdout, stderr."""
    code = main(["--workspace", str(ws.root), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_html_export_has_accuracy_macro_f1_and_each_arms_confusion_matrix(ws):
    info, report = labelled(ws)
    page = reports.export_html(ws, report.id)
    section = page.split("Classification / 分类指标")[1].split("Rows / 逐条对比")[0]
    result = report.summary["classification"]["clf"]
    assert "Accuracy / 准确率" in section and f"{4 / 6:.3f}" in section
    assert "Macro-F1 / 宏平均 F1" in section and f"{result['macro_f1']:.3f}" in section
    assert "Confusion matrix / 混淆矩阵 · clf" in section and "<th>other / 其他</th>" in section
    positive = result["confusion"][result["labels"].index("正面")]
    assert positive[-1] == 2  # 好评 and the tagged answer are outside the label set
    assert "<th>正面</th>" + "".join(f"<td>{count}</td>" for count in positive) in section
    assert "<script" not in page and "&lt;b&gt;负面&lt;/b&gt;" in page
    # the CSV carries each row's exact match (a per-row score) beside the answer
    csv = reports.export_csv(ws, report.id).decode("utf-8-sig")
    assert "clf · exact" in csv.splitlines()[0]


def test_the_html_export_keeps_line_breaks_of_prompts_as_line_breaks(ws):
    _, report = labelled(ws)
    page = reports.export_html(ws, report.id)
    assert "请判断情感：正面、负面或中性。\n评论 0：中等水平吧。" in page
    assert "\\n" not in page
    assert "white-space:pre-wrap" in page


def test_the_catch_all_column_is_named_in_the_users_language_and_labels_stay_data(ws, capsys):
    _, report = labelled(ws)
    result = report.summary["classification"]["clf"]
    assert list(reports.confusion_table(result, "en").columns) == [*result["labels"], "other"]
    assert list(reports.confusion_table(result, "zh").columns) == [*result["labels"], "其他"]
    code, out, _ = cli(ws, capsys, "--lang", "zh", "reports", "show", report.id)
    assert code == 0 and "准确率 0.667" in out and "宏平均 F1" in out and "其他" in out
    assert "other / 其他" not in out
    code, out, _ = cli(ws, capsys, "--lang", "en", "reports", "show", report.id)
    assert code == 0 and "Accuracy 0.667" in out and "Macro-F1" in out and "其他" not in out


def test_exports_create_missing_folders_and_an_unwritable_path_is_a_clean_error(ws, tmp_path, capsys):
    _, report = labelled(ws)
    target = tmp_path / "new" / "deeper" / "r.html"
    code, out, _ = cli(ws, capsys, "reports", "export", report.id, "--html", str(target),
                       "--csv", str(tmp_path / "other" / "r.csv"))
    assert code == 0 and target.read_text(encoding="utf-8").startswith("<!doctype")
    assert (tmp_path / "other" / "r.csv").exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = cli(ws, capsys, "reports", "export", report.id, "--html", str(blocker / "r.html"))
    assert code == 2 and "cannot write the file" in err and "无法写入文件" in err


def test_comparing_reports_with_no_arm_in_common_says_so_and_lists_their_arms(ws, capsys):
    first = answered(ws, {"base": ["一"] * 6, "tuned": ["二"] * 6})
    second = answered(ws, {"smollm2-135m-instruct": ["三"] * 6})
    report_a = run_report(ws, EvalConfig(inference=first.id, similarity=False, classification="off"))
    report_b = run_report(ws, EvalConfig(inference=second.id, similarity=False, classification="off"))
    code, out, err = cli(ws, capsys, "reports", "compare", report_a.id, report_b.id)
    assert code == 2 and "Empty DataFrame" not in out + err
    assert "share no arm" in err and "base, tuned" in err and "smollm2-135m-instruct" in err and "没有相同的对比项" in err
    # a report made without a name is listed under its inference's name, as EvalConfig says
    assert report_a.name == first.name and report_a.name != report_a.id
    code, out, _ = cli(ws, capsys, "reports", "list")
    assert f"{report_b.id}  succeeded   {second.name}" in out


def test_auto_classification_says_why_it_stays_off_and_on_forces_it(ws, tmp_path, capsys):
    few = answered(ws, {"clf": ["正面", "负面", "正面"]}, references=["正面", "负面", "中性"])
    path = tmp_path / "eval.yaml"
    path.write_text(to_yaml(EvalConfig(inference=few.id, similarity=False, lexical=False)), encoding="utf-8")
    code, out, err = cli(ws, capsys, "evaluate", str(path))
    assert code == 0, err
    summary = list_reports(ws)[0].summary
    assert summary["classification"] is None
    reason = summary["classification_off"]
    assert "at least 4 rows" in reason and "found 3" in in_language(reason, "en") and "至少需要 4 行" in reason
    assert reason in out  # printed after the job, one line
    forced = run_report(ws, EvalConfig(inference=few.id, similarity=False, lexical=False, classification="on"))
    assert forced.summary["classification"]["clf"]["accuracy"] == pytest.approx(2 / 3)
    assert "classification_off" not in forced.summary


def test_before_after_passes_answer_length_and_classification_through(ws, monkeypatch):
    import workbench.evaluate.jobs as evaluate_jobs
    import workbench.train.runs as runs

    version = ws.create_dataset("labels", pa.table({"instruction": PROMPTS, "output": LABELS,
                                                    "_split": ["test"] * 6}))
    run = SimpleNamespace(id="20260101-000000-abcdef", name="tiny", state="succeeded", dataset_id=version.dataset_id,
                          dataset_version=version.number, base_model="smollm2-135m-instruct")
    started = {}
    monkeypatch.setattr(runs, "get_run", lambda ws, run_id: run)
    monkeypatch.setattr(evaluate_jobs, "inference_problems", lambda ws, config: [])
    monkeypatch.setattr(evaluate_jobs, "start_evaluation",
                        lambda ws, config, generate=False: started.update(config=config) or ("r", "j"))
    evaluate_jobs.start_before_after(ws, run.id, max_rows=3, max_new_tokens=8, classification="on")
    assert started["config"].classification == "on"
    inference = get_inference(ws, started["config"].inference)
    assert inference.config.max_new_tokens == 8 and inference.config.max_rows == 3
    evaluate_jobs.start_before_after(ws, run.id)  # the keyword defaults stay as they were
    assert started["config"].classification == "auto"
    assert get_inference(ws, started["config"].inference).config.max_new_tokens == 256


def test_the_cli_before_after_takes_max_new_tokens_and_classification(ws, monkeypatch, capsys):
    import workbench.evaluate.jobs as evaluate_jobs

    calls = []
    monkeypatch.setattr(evaluate_jobs, "start_before_after",
                        lambda *args, **kwargs: calls.append((args, kwargs)) or ("r", "j"))
    code, out, err = cli(ws, capsys, "evaluate", "before-after", "RUN", "--max-rows", "3", "--max-new-tokens", "8",
                         "--classification", "on", "--detach")
    assert code == 0 and "report r, job j" in out, err
    assert calls[0][0][1:4] == ("RUN", "test", 3) and calls[0][1] == {"classification": "on", "max_new_tokens": 8}
    cli(ws, capsys, "evaluate", "before-after", "RUN", "--detach")
    assert calls[1][1] == {"classification": "auto"}  # start_before_after's own default answer length
    with pytest.raises(SystemExit) as refused:
        cli(ws, capsys, "evaluate", "before-after", "RUN", "--classification", "maybe")
    assert refused.value.code == 2
