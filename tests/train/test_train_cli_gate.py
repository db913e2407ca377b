"""What `python -m workbench train config.yaml` prints: the data gate before a launch (in English and Chinese),
its refusal of a run left with nothing to train on (exit 2, nothing started), and the live progress lines while
it follows a run (step/total, loss, tokens/s, ETA, validation loss, the outcome)."""
import json

import pyarrow as pa
import pytest

from tests.train.conftest import config, qa_table
from tests.train.test_preflight import gate_table
from workbench import cli, jobs
from workbench.i18n import duration
from workbench.train.cli import follow_run, step_line
from workbench.train.config import to_yaml
from workbench.train.runs import list_runs


def train(ws, tmp_path, cfg, *options, lang="en") -> int:
    """The train verb in this process (as `python -m workbench --lang LANG train config.yaml OPTIONS`)."""
    path = tmp_path / "config.yaml"
    path.write_text(to_yaml(cfg), encoding="utf-8")
    return cli.main(["--workspace", str(ws.root), "--lang", lang, "train", str(path), *options])


@pytest.fixture
def no_spawn(monkeypatch):
    """Launches create their run and job but start no process (the gate is what these tests look at)."""
    monkeypatch.setattr(jobs, "_spawn", lambda ws, job_id: None)


GATE_EN = [
    "Data check of gate@1, split train (tokens counted with local-tiny-llama's tokenizer)",
    "11 rows, 9 left to train on.",
    "Tokens per row: mean 155, p95 643, longest 1129 (max length 200).",
    "warning: 1 row will be skipped: the prompt alone is longer than max_length=200, nothing left to learn.",
    "warning: 1 row with an empty output will be skipped.",
    "warning: 4 exact and 5 near duplicate rows in gate@1.",
    "warning: 2 rows also in the validation/test split (leakage).",
    "warning: gate@1 has no validation split 'dev': the run computes no validation loss.",
    "Fix: `python -m workbench quality gate@1 --fix exact near leakage empty` writes a cleaned version.",
    "Raise max_length (or drop the long rows) to keep answers whole."]
GATE_ZH = [
    "gate@1 的数据检查，划分 train（用 local-tiny-llama 的分词器计数）",
    "共 11 行，可训练 9 行。",
    "每行 token 数：平均 155，p95 643，最长 1129（最大长度 200）。",
    "注意：1 行将被跳过：提示词本身超过最大长度 200，没有可学习的回答。",
    "注意：1 行回答为空，将被跳过。",
    "注意：gate@1 中有 4 行完全重复、5 行近似重复。",
    "注意：2 行同时出现在验证/测试集中（泄漏）。",
    "注意：gate@1 没有验证集划分“dev”：本次训练不计算验证损失。",
    "处理方法：`python -m workbench quality gate@1 --fix exact near leakage empty` 会写出清理后的新版本。",
    "调大 max_length（或删除超长行）可保留完整回答。"]


def test_the_gate_is_printed_before_the_launch_in_the_users_language(train_ws, tmp_path, capsys, no_spawn):
    ws, model_id = train_ws
    ws.create_dataset("gate", gate_table())
    cfg = config(model_id, dataset="gate", max_length=200, tokens_per_micro_batch=256, eval_split="dev")
    assert train(ws, tmp_path, cfg, "--detach") == 0
    english = capsys.readouterr().out.splitlines()
    [run] = list_runs(ws)
    assert english[:len(GATE_EN)] == GATE_EN
    assert english[len(GATE_EN):] == [f"Started run {run.id} ({run.name}), job {run.job_id}.",
                                      f"It runs in the background: `python -m workbench jobs list`, "
                                      f"`runs show {run.id}`."]
    assert train(ws, tmp_path, cfg, "--detach", lang="zh") == 0
    chinese = capsys.readouterr().out.splitlines()
    assert chinese[:len(GATE_ZH)] == GATE_ZH and chinese[len(GATE_ZH)].startswith("已开始训练 ")
    assert len(list_runs(ws)) == 2  # warnings warn: the runs start


def test_rows_cut_by_max_length_and_a_clean_split_in_the_gate(train_ws, tmp_path, capsys, no_spawn):
    ws, model_id = train_ws
    assert train(ws, tmp_path, config(model_id, max_length=39), "--detach") == 0
    out = capsys.readouterr().out
    assert "warning: 16 of 32 rows are longer than max_length=39 and will be cut.\n" in out
    assert "Raise max_length (or drop the long rows) to keep answers whole." in out
    assert train(ws, tmp_path, config(model_id, max_length=39), "--detach", lang="zh") == 0
    assert "注意：32 行中有 16 行超过最大长度 39，将被截断。\n" in capsys.readouterr().out

    ws.create_dataset("clean", pa.concat_tables([gate_table().slice(0, 6), gate_table().slice(13, 1)]))
    assert train(ws, tmp_path, config(model_id, dataset="clean"), "--detach") == 0
    out = capsys.readouterr().out
    assert "6 rows, 6 left to train on.\nTokens per row:" in out and "warning" not in out
    assert "No rows cut, no empty answers, no duplicates or leakage.\nStarted run " in out


@pytest.mark.parametrize("lang, expected", [
    ("en", "The run cannot start:\n- Nothing to train on in qa@1, split train: none of its 32 rows is left "
           "(0 empty outputs, 32 prompts longer than max_length=8, 0 rows the chat template cannot render). "
           "Raise max_length or fix the data.\n"),
    ("zh", "无法开始训练：\n- qa@1 的划分 train 中没有可训练的行：32 行全部被跳过（0 行回答为空，32 行提示词超过最大长度 8，"
           "0 行无法用对话模板渲染）。请调大 max_length 或修正数据。\n")])
def test_a_gate_with_nothing_left_to_train_on_refuses_with_exit_2(train_ws, tmp_path, capsys, lang, expected):
    """The trainer would fail on it ('nothing to train on'): the CLI says so before starting anything."""
    ws, model_id = train_ws
    for options in ((), ("--estimate",), ("--detach",)):
        assert train(ws, tmp_path, config(model_id, max_length=8), *options, lang=lang) == 2
        captured = capsys.readouterr()
        assert captured.err == expected
        assert ("32 rows, 0 left to train on." if lang == "en" else "共 32 行，可训练 0 行。") in captured.out
    assert ws.runs() == [] and jobs.list_jobs(ws) == []


def test_every_output_empty_is_refused_naming_the_empty_outputs(train_ws, tmp_path, capsys):
    ws, model_id = train_ws
    table = qa_table(20)
    ws.create_dataset("blank", table.set_column(table.column_names.index("output"), "output", pa.array([" "] * 20)))
    assert train(ws, tmp_path, config(model_id, dataset="blank")) == 2
    captured = capsys.readouterr()
    assert "warning: 16 rows with an empty output will be skipped." in captured.out
    assert "Nothing to train on in blank@1, split train: none of its 16 rows is left (16 empty outputs" in captured.err
    assert ws.runs() == [] and jobs.list_jobs(ws) == []


def test_launch_problems_are_the_pages_and_refused_with_exit_2(train_ws, tmp_path, capsys):
    ws, model_id = train_ws
    assert train(ws, tmp_path, config(model_id), "--accelerate-config", str(tmp_path / "nowhere.yaml")) == 2
    err = capsys.readouterr().err
    assert err.startswith("The run cannot start:\n- accelerate config file not found: ")
    assert train(ws, tmp_path, config(model_id), "--json") == 2
    assert "--json prints the gate and the estimate: use it with --estimate." in capsys.readouterr().err
    assert ws.runs() == [] and jobs.list_jobs(ws) == []


def test_estimate_prints_the_gate_and_a_measured_estimate_in_words_or_json(train_ws, tmp_path, capsys):
    ws, model_id = train_ws
    assert train(ws, tmp_path, config(model_id, max_steps=3), "--estimate", lang="zh") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "qa@1 的数据检查，划分 train（用 local-tiny-llama 的分词器计数）"
    assert out[-1].startswith("约 ") and "3 步" in out[-1] and "token/秒（cpu，fp32）" in out[-1]
    assert train(ws, tmp_path, config(model_id, max_steps=3), "--estimate", "--json") == 0
    result = json.loads(capsys.readouterr().out)  # JSON only: no gate text around it
    assert result["gate"]["kept"] == 32 and result["estimate"]["steps"] == 3
    assert ws.runs() == []


def test_step_lines_show_step_total_loss_speed_and_eta_in_both_languages():
    row = {"step": 3, "loss": 1.234567, "tokens_per_s": 1234.4, "seconds": 7.0, "time": 104.0}
    assert step_line(row, 10, 14.2, "en") == "step 3/10 · loss 1.2346 · 1,234 tokens/s · ETA 14s"
    assert step_line(row, 200, 394.0, "zh") == "步数 3/200 · 损失 1.2346 · 1,234 token/秒 · 剩余 6m 34s"
    assert step_line(row, 10, None, "en").endswith("ETA –")  # no pace yet


def test_the_cli_eta_is_the_train_pages_eta(train_ws, no_spawn, monkeypatch):
    """The step line's ETA is `JobInfo.eta_at` of its row: what the page's `eta_seconds` showed at that moment,
    from the training phase's pace (the model's loading before it does not slow it down)."""
    from workbench.train.jobs import start_training

    ws, model_id = train_ws
    _, job_id = start_training(ws, config(model_id), None, 1)
    context = jobs.JobContext(ws, job_id)
    clock = {"now": 1000.0}
    monkeypatch.setattr(jobs.time, "time", lambda: clock["now"])
    with ws.connect(write=True) as con:
        con.execute("UPDATE jobs SET state='running', started_at=? WHERE id=?", (1000.0, job_id))
    clock["now"] = 1060.0  # a minute to load the model and prepare the data
    context.phase(0)
    clock["now"] = 1070.0  # then 2 s a step
    context.progress(5, 100, force=True)
    info = jobs.get(ws, job_id)
    page = info.eta_seconds
    assert page == pytest.approx(95 * 2.0)  # not 95 * 14 s: the loading is no step
    row = {"step": 5, "loss": 2.0, "tokens_per_s": 10.0, "time": 1070.0}
    assert step_line(row, 100, info.eta_at(row["step"], row["time"]), "en").endswith("ETA " + duration(page))
    # a row written earlier: the ETA the page showed then
    assert info.eta_at(2, 1064.0) == pytest.approx(98 * 2.0)
    clock["now"] = 1100.0  # slower since: 20 steps in 40 s
    context.progress(20, 100, force=True)
    info = jobs.get(ws, job_id)
    assert info.eta_seconds == info.eta_at(20, 1100.0) == pytest.approx(80 * 2.0)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_following_a_run_prints_its_steps_validation_and_outcome(train_ws, run_here, capsys, lang):
    ws, model_id = train_ws
    run, info = run_here(ws, config(model_id, max_steps=2, eval_steps=1))
    capsys.readouterr()
    assert follow_run(ws, run.id, info.id, 2, lang, poll=0) == 0
    lines = capsys.readouterr().out.splitlines()
    words = {"en": ("step 1/2 · loss ", "step 1: validation loss ", "step 2/2 · loss ", "step 2: validation loss ",
                    "2 steps, train loss ", f"Finished. Use model id run-{run.id} "),
             "zh": ("步数 1/2 · 损失 ", "第 1 步：验证损失 ", "步数 2/2 · 损失 ", "第 2 步：验证损失 ", "2 步，训练损失 ",
                    f"训练完成。推理时使用模型 id run-{run.id}")}[lang]
    assert len(lines) == 1 + len(words) and lines[0].startswith(("Waiting for the first step", "等待第一步"))
    assert len(lines[1].split(" · ")[1].split(".")[-1]) == 4  # the loss with 4 decimals, as on the page
    assert all(line.startswith(start) for line, start in zip(lines[1:], words)), lines
    assert lines[3].endswith(("ETA 0s", "剩余 0s"))


def test_following_a_failed_run_says_why_in_the_users_language_and_exits_1(train_ws, run_here, capsys):
    ws, model_id = train_ws
    table = qa_table(20)
    ws.create_dataset("blank", table.set_column(table.column_names.index("output"), "output", pa.array([""] * 20)))
    run, info = run_here(ws, config(model_id, dataset="blank"))  # launched past the gate (e.g. from an old client)
    capsys.readouterr()
    assert follow_run(ws, run.id, info.id, 6, "en", poll=0) == 1
    err = capsys.readouterr().err
    assert err.startswith("The run ended: failed. nothing to train on in blank@1 split 'train'") and "没有" not in err
    assert follow_run(ws, run.id, info.id, 6, "zh", poll=0) == 1
    assert capsys.readouterr().err.startswith("训练已结束：失败。")


def test_ctrl_c_stops_following_only_and_says_how_to_stop_the_run(train_ws, tmp_path, capsys, no_spawn, monkeypatch):
    ws, model_id = train_ws
    assert train(ws, tmp_path, config(model_id), "--detach") == 0
    [run] = list_runs(ws)
    capsys.readouterr()

    def interrupted(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr("workbench.jobs.time.sleep", interrupted)
    assert follow_run(ws, run.id, run.job_id, 6, "en") == 130
    assert capsys.readouterr().err == (f"\nStopped following; run {run.id} goes on in the background. Stop it with "
                                       f"`python -m workbench jobs cancel {run.job_id}`.\n")
    assert jobs.get(ws, run.job_id).state in jobs.ACTIVE
