"""Before/after in one click: a tiny run trained on 8 question/answer pairs is compared with its base model on the
test split, answers and scores in one background job; the tuned model must win on ROUGE and judge-free metrics."""
import pyarrow as pa

from tests.train.conftest import ANSWERS, QUESTIONS, config
from workbench import jobs
from workbench.evaluate.jobs import start_before_after
from workbench.evaluate.report import side_by_side
from workbench.evaluate.store import get_report
from workbench.train.jobs import start_training

JOB_TIMEOUT = 600


def test_the_tuned_run_beats_its_base_on_the_test_split(train_ws):
    ws, model_id = train_ws
    rows = 48
    table = pa.table({"instruction": [QUESTIONS[i % 8] for i in range(rows)],
                      "output": [ANSWERS[i % 8] for i in range(rows)],
                      "_split": ["train"] * 40 + ["test"] * 8})
    version = ws.create_dataset("memorize", table)
    run, job_id = start_training(ws, config(model_id, dataset=version.dataset_id, max_steps=40, eval_steps=0,
                                            save_steps=0, eval_split=None, learning_rate=2e-2))
    assert jobs.wait(ws, job_id, timeout=JOB_TIMEOUT).state == "succeeded"
    report_id, job_id = start_before_after(ws, run.id, split="test", max_new_tokens=6)
    info = jobs.wait(ws, job_id, timeout=JOB_TIMEOUT)
    assert info.state == "succeeded", info.log_tail(40)
    summary = get_report(ws, report_id).summary
    assert list(summary["answers"]) == ["base", "tuned"] and summary["answers"]["tuned"]["ok"] == 8
    assert summary["baseline_arm"] == "base" and summary["dataset"] == version.ref
    tuned, base = summary["arms"]["tuned"]["rouge-1"]["mean"], summary["arms"]["base"]["rouge-1"]["mean"]
    assert tuned > base + 30, (tuned, base)
    wins = {w["arm"]: w for w in summary["win_rates"]["rouge-1"]}["tuned"]
    assert wins["wins"] > wins["losses"]
    table = side_by_side(ws, report_id)
    exact = {arm: int((table[f"{arm} · answer"].str.strip() == table["reference"]).sum()) for arm in ("base", "tuned")}
    assert exact["tuned"] >= 2 and exact["base"] == 0, exact
