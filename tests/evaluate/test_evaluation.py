"""Evaluation reports: scores per (row, arm), summaries with CIs, the chance baseline, judge failures left out,
resume without re-judging, classification, no-reference rows, exports, overrides, compare, before/after."""
import pyarrow as pa
import pytest

from tests.evaluate.judge_server import judge_server
from tests.infer.conftest import infer_ws, tiny_folders  # noqa: F401  (fixtures)
from workbench import jobs
from workbench.evaluate import report as reports
from workbench.evaluate.config import EvalConfig, from_yaml, to_yaml
from workbench.evaluate.jobs import start_evaluation
from workbench.evaluate.judge_config import JudgeConfig
from workbench.evaluate.overrides import set_override
from workbench.evaluate.store import get_report, list_reports
from workbench.infer.config import Arm, InferConfig
from workbench.infer.prompts import inference_rows, select_rows
from workbench.infer.results import output_record
from workbench.infer.store import create_inference
from workbench.llm import Completion, Endpoint, save_endpoint

PERSONA = ["臣妾做不到啊。", "皇上万福金安。", "这宫里的日子，一天比一天难熬。", "姐姐说得是，妹妹记下了。",
           "<b>嬛嬛</b>不敢。", "本宫乏了，退下吧。"]


def answered(ws, outputs: dict[str, list], references=None, split=True, models: dict[str, str] | None = None,
             prompts=None):
    """An inference whose answers are given (no model runs): {arm: [answer or None (failed)]} per row; every arm
    is the bundled model unless `models` names another (arms of different models keep separate overrides)."""
    n = len(next(iter(outputs.values())))
    table = {"instruction": prompts or [f"问题 {i}：你是谁？" for i in range(n)],
             "output": references or PERSONA[:n]}
    if split:
        table["_split"] = ["test"] * n
    version = ws.create_dataset(f"persona-{len(ws.datasets())}", pa.table(table))
    config = InferConfig(dataset=version.dataset_id, split="test" if split else "all",
                         arms=[Arm(label=arm, model=(models or {}).get(arm, "smollm2-135m-instruct"))
                               for arm in outputs])
    version, rows_table = select_rows(ws, config)
    info = create_inference(ws, config, version, inference_rows(rows_table))
    for arm in config.arms:
        info.outputs.append([output_record(arm, row, Completion(text, "m", "stop", 5, 5) if text else "model down")
                             for row, text in zip(inference_rows(rows_table), outputs[arm.label])])
    return info


def run_report(ws, config: EvalConfig):
    report_id, job_id = start_evaluation(ws, config)
    info = jobs.wait(ws, job_id, timeout=300)
    assert info.state == "succeeded", (info.error, info.log_tail())
    return get_report(ws, report_id)


def fair_judge(prompt, attempt):
    """Scores by length, writes the reason first; gives no score for the answer 日子难熬 (unparsable)."""
    if "日子难熬" in prompt:
        return "理由：无法判断。"
    return f'理由：回答通顺。{{"reason": "ok", "score": {min(10, 3 + len(prompt) % 7)}}}'


def test_a_report_scores_every_answer_and_summarizes_each_arm(ws):
    info = answered(ws, {"base": ["不知道", "你好", "日子难熬", "好的", "不敢", "退下"],
                         "tuned": PERSONA[:5] + [None]})
    with judge_server(fair_judge) as (judge, url):
        save_endpoint(ws, Endpoint("judge", base_url=url, model="scripted-judge", max_retries=0))
        report = run_report(ws, EvalConfig(inference=info.id, judge=JudgeConfig(judge="judge"), bootstrap=200))
    summary = report.summary
    assert summary["answers"]["tuned"] == {"model": "smollm2-135m-instruct", "ok": 5, "failed": 1, "pending": 0}
    tuned, base = summary["arms"]["tuned"], summary["arms"]["base"]
    assert tuned["rouge-1"]["mean"] == pytest.approx(100.0) and tuned["rouge-1"]["n"] == 5  # identical answers
    assert base["rouge-1"]["mean"] < 60
    assert tuned["rouge-1"]["low"] <= tuned["rouge-1"]["mean"] <= tuned["rouge-1"]["high"]
    similarity = summary["similarity"]["arms"]
    assert similarity["tuned"]["lift"] > similarity["base"]["lift"] > -0.2
    assert similarity["tuned"]["baseline"] < similarity["tuned"]["mean"]
    # the judge gave no score for base row 2: failed, excluded, never a 0; tuned row 5 has no answer to judge
    assert base["judge"]["n"] == 5 and base["judge"]["excluded"] == 1
    assert tuned["judge"]["n"] == 5 and tuned["judge"]["excluded"] == 1
    from workbench.evaluate.scoring import read_scores
    failed = read_scores(report.folder).query("metric == 'judge' and status == 'failed'")
    assert len(failed) == 1 and failed["value"].isna().all() and "无法判断" in failed["detail"].iloc[0]
    assert len(judge.calls) == 11  # 6 base + 5 tuned answers; the failed answer is not judged
    wins = {w["arm"]: w for w in summary["win_rates"]["rouge-1"]}
    assert wins["tuned"]["other"] == "base" and wins["tuned"]["wins"] >= 4
    table = reports.side_by_side(ws, report.id)
    assert len(table) == 6 and {"tuned · answer", "tuned · similarity", "base · judge"} <= set(table.columns)
    assert table["tuned · answer"].iloc[5].startswith("⚠")
    assert list_reports(ws)[0].id == report.id and report.state == "succeeded"


def test_a_resumed_evaluation_never_asks_the_judge_twice(ws):
    info = answered(ws, {"a": ["好"] * 6, "b": ["不好"] * 6})
    stop = {"after": 5}

    def slow_judge(prompt, attempt):
        import time
        time.sleep(0.3)
        return '{"reason": "可以", "score": 5}'

    with judge_server(slow_judge) as (judge, url):
        save_endpoint(ws, Endpoint("judge", base_url=url, model="scripted-judge", max_retries=0, max_concurrency=1))
        report_id, job_id = start_evaluation(ws, EvalConfig(inference=info.id, judge=JudgeConfig(judge="judge"),
                                                            similarity=False))
        while len(judge.calls) < stop["after"]:
            import time
            time.sleep(0.05)
        jobs.cancel(ws, job_id)
        assert jobs.wait(ws, job_id, timeout=120).state == "cancelled"
        asked_before = len(judge.calls)
        assert asked_before < 12
        jobs.resume(ws, job_id)
        assert jobs.wait(ws, job_id, timeout=300).state == "succeeded"
    assert len(judge.calls) == 12, "every answer judged exactly once across the cancel"
    assert get_report(ws, report_id).summary["arms"]["a"]["judge"]["n"] == 6


def test_label_references_get_accuracy_macro_f1_and_a_confusion_matrix(ws):
    references = ["正面", "负面", "正面", "中性", "负面", "正面"]
    info = answered(ws, {"clf": ["正面。", "负面", "负面", "中性", "负面", "好评"]}, references=references)
    report = run_report(ws, EvalConfig(inference=info.id, similarity=False, lexical=False))
    result = report.summary["classification"]["clf"]
    assert result["accuracy"] == pytest.approx(4 / 6)
    assert result["other"] == 1 and result["columns"][-1].startswith("other")
    assert report.summary["arms"]["clf"]["exact"]["mean"] == pytest.approx(4 / 6)


def test_without_references_only_the_judge_scores_and_the_report_says_why(ws):
    info = answered(ws, {"a": ["一", "二", "三"]}, references=["", " ", ""])
    with judge_server(lambda prompt, attempt: '{"reason": "ok", "score": 7}') as (judge, url):
        save_endpoint(ws, Endpoint("judge", base_url=url, model="scripted-judge", max_retries=0))
        report = run_report(ws, EvalConfig(inference=info.id, judge=JudgeConfig(judge="judge")))
    assert report.summary["metrics"] == ["judge"] and report.summary["arms"]["a"]["judge"]["mean"] == 7
    assert "no reference answers" in report.summary["notes"][0]


def test_exports_are_standalone_escaped_and_readable_in_excel(ws):
    info = answered(ws, {"a": ["<script>alert(1)</script>", "你好", "好", "是", "否", "嗯"]})
    report = run_report(ws, EvalConfig(inference=info.id, similarity=False))
    page = reports.export_html(ws, report.id)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;嬛嬛&lt;/b&gt;" in page and "http" not in page.split("<body>")[1]
    csv = reports.export_csv(ws, report.id)
    assert csv.startswith(b"\xef\xbb\xbf") and "你好".encode() in csv


def test_human_overrides_sit_beside_the_judge_with_kappa_and_survive_a_new_report(ws):
    info = answered(ws, {"a": ["一", "二", "三", "四", "五", "六"]})
    scores = iter([2, 4, 6, 8, 10, 9] * 2)
    with judge_server(lambda prompt, attempt: f'{{"reason": "ok", "score": {next(scores)}}}') as (judge, url):
        save_endpoint(ws, Endpoint("judge", base_url=url, model="scripted-judge", max_retries=0, max_concurrency=1))
        config = EvalConfig(inference=info.id, judge=JudgeConfig(judge="judge"), similarity=False, lexical=False)
        first = run_report(ws, config)
        table = reports.side_by_side(ws, first.id)
        for row_id, score in zip(table["row_id"], table["a · judge"]):
            set_override(ws, reports.override_key(ws, first.id, row_id, "a"), score=score, scale="1-10")
        review = reports.human_review(ws, first.id)
        assert review["overrides"] == 6 and review["agreement"].kappa == pytest.approx(1.0)
        beside = reports.side_by_side(ws, first.id)
        assert list(beside.columns).index("a · human") == list(beside.columns).index("a · judge") + 1
        assert beside["a · human"].tolist() == beside["a · judge"].tolist()
        assert "Human review" in reports.export_html(ws, first.id)
        second = run_report(ws, config)
    assert reports.human_review(ws, second.id)["overrides"] == 6  # kept across re-runs


def test_human_winners_of_the_ab_judge_are_kept_by_model_pair_with_kappa(ws):
    info = answered(ws, {"base": ["一", "二", "三", "四", "五", "六"], "tuned": PERSONA[:6]},
                    models={"tuned": "run-20260101-000000-abcdef"})
    with judge_server(lambda prompt, attempt: '{"reason": "差不多", "winner": "tie"}') as (judge, url):
        save_endpoint(ws, Endpoint("judge", base_url=url, model="scripted-judge", max_retries=0))
        config = EvalConfig(inference=info.id, pairwise=JudgeConfig(judge="judge", mode="pairwise"),
                            similarity=False, lexical=False, baseline_arm="base")
        first = run_report(ws, config)
        assert first.summary["pairwise"]["arms"]["tuned"]["ties"] == 6
        review = reports.pair_review(ws, first.id)
        assert review["overrides"] == 0 and len(review["judge"]) == 6 and set(review["judge"].values()) == {"tie"}
        rows = reports.side_by_side(ws, first.id)["row_id"].tolist()
        keys = review["arm_keys"]
        for row_id, winner in zip(rows, ["tuned", "tuned", "tie", "tie"]):
            key = reports.pair_override_key(ws, first.id, row_id, "tuned")
            assert key.arm == "run-20260101-000000-abcdef vs smollm2-135m-instruct"  # order-free, by model
            set_override(ws, key, winner=keys.get(winner, winner))
        with pytest.raises(ValueError, match="neither of"):
            set_override(ws, reports.pair_override_key(ws, first.id, rows[5], "tuned"), winner="someone else")
        review = reports.pair_review(ws, first.id)
        agreement = review["agreement"]
        assert (review["overrides"], agreement.compared, agreement.exact) == (4, 4, 0.5)
        assert agreement.kappa == pytest.approx(0.0)  # a judge that always says tie agrees only by chance
        second = run_report(ws, config)
    assert reports.pair_review(ws, second.id)["overrides"] == 4  # kept across re-runs
    assert reports.human_review(ws, second.id)["overrides"] == 0  # and apart from pointwise scores
    assert "Human A/B picks" in reports.export_html(ws, second.id)


def test_compare_shows_metric_changes_next_to_the_data_diff(ws):
    first = answered(ws, {"a": ["臣妾做不到", "你好", "好", "是", "否", "嗯"]})
    report_a = run_report(ws, EvalConfig(inference=first.id, similarity=False))
    dataset = first.dataset_id
    version = ws.version(dataset)
    from workbench.data import operations
    operations.edit_rows(ws, version, {0: {"output": "改过的参考"}})
    config = InferConfig(dataset=dataset, split="test", arms=[Arm(label="a", model="smollm2-135m-instruct")])
    version, rows_table = select_rows(ws, config)
    second = create_inference(ws, config, version, inference_rows(rows_table))
    second.outputs.append([output_record(config.arms[0], row, Completion(PERSONA[i], "m", "stop", 5, 5))
                           for i, row in enumerate(inference_rows(rows_table))])
    report_b = run_report(ws, EvalConfig(inference=second.id, similarity=False))
    diff = reports.compare_reports(ws, report_a.id, report_b.id)
    assert diff["data"]["changed"] == 1 and diff["data"]["A"].endswith("@1") and diff["data"]["B"].endswith("@2")
    change = diff["metrics"].set_index("metric").loc["rouge-1", "change"]
    assert change > 0


def test_bad_configs_are_refused_with_a_located_message(ws):
    info = answered(ws, {"a": ["一"] * 6})
    with pytest.raises(ValueError, match="baseline_arm"):
        start_evaluation(ws, EvalConfig(inference=info.id, baseline_arm="nope"))
    with pytest.raises(ValueError, match="two arms"):
        start_evaluation(ws, EvalConfig(inference=info.id, pairwise=JudgeConfig(judge="x", mode="pairwise")))
    with pytest.raises(KeyError, match="No inference"):
        start_evaluation(ws, EvalConfig(inference="missing"))
    with pytest.raises(ValueError, match="inference"):
        from_yaml("similarity: true\n")
    config = EvalConfig(inference=info.id, judge=JudgeConfig(judge="local:x"))
    assert from_yaml(to_yaml(config)) == config


def cli(ws, *args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "workbench", "--workspace", str(ws.root), *args],
                          capture_output=True, text=True, timeout=300)


def test_the_cli_evaluates_lists_shows_and_exports(ws, tmp_path):
    info = answered(ws, {"a": ["臣妾做不到", "你好", "好", "是", "否", "嗯"]})
    path = tmp_path / "eval.yaml"
    path.write_text(to_yaml(EvalConfig(inference=info.id, similarity=False)), encoding="utf-8")
    done = cli(ws, "evaluate", str(path))
    assert done.returncode == 0 and "succeeded" in done.stdout, done.stderr
    report_id = list_reports(ws)[0].id
    assert report_id in cli(ws, "reports", "list").stdout
    assert "rouge-1" in cli(ws, "reports", "show", report_id).stdout
    exported = cli(ws, "reports", "export", report_id, "--html", str(tmp_path / "r.html"), "--csv",
                   str(tmp_path / "r.csv"))
    assert exported.returncode == 0 and (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!doctype")
    missing = cli(ws, "reports", "show", "nope")
    assert missing.returncode == 2 and "No report" in missing.stderr and "Traceback" not in missing.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("inference: x\nunknown_knob: 1\n", encoding="utf-8")
    refused = cli(ws, "evaluate", str(bad))
    assert refused.returncode == 2 and "unknown_knob" in refused.stderr and "Traceback" not in refused.stderr


def test_the_summary_gives_every_arm_the_same_decimals_per_metric():
    from workbench.evaluate.report import summary_table

    figure = lambda mean, low, high: {"mean": mean, "low": low, "high": high, "n": 100}  # noqa: E731
    summary = {"arms": {"base": {"similarity": figure(0.854, 0.846, 0.862), "rouge-2": figure(0.273, 0.0666, 0.535)},
                        "tuned": {"similarity": figure(0.87, 0.867, 0.874), "rouge-2": figure(1.25, 0.69, 1.97)}}}
    table = summary_table(summary).set_index("arm")
    assert table.loc["tuned", "similarity"] == "0.870 [0.867, 0.874] (n=100)"  # not 0.87 next to 0.854
    assert table.loc["base", "rouge-2"] == "0.27 [0.07, 0.54] (n=100)"  # the column's scale (x100) sets 2 places
    assert table.loc["tuned", "rouge-2"] == "1.25 [0.69, 1.97] (n=100)"
