"""`python -m workbench train config.yaml` and `runs list|show|diff|config`, as real subprocesses on the tiny model:
a few real steps, the estimate, the run's YAML accepted again, and bad config files refused with located
messages, exit code 2 and no traceback."""
import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.train.conftest import config
from workbench import jobs
from workbench.train.config import from_yaml, to_yaml
from workbench.train.jobs import cpu_threads_per_process
from workbench.train.runs import create_run, finish_run, list_runs, read_metrics

ROOT = Path(__file__).resolve().parents[2]


def cli(ws, *args, code=0, timeout=300) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "workbench", "--workspace", str(ws.root), *args],
                            capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result


def write(tmp_path, text: str, name="config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_train_then_list_show_diff_and_config_that_trains_again(train_ws, tmp_path):
    ws, model_id = train_ws
    steps = dict(max_steps=4, eval_steps=2, save_steps=2)
    path = write(tmp_path, to_yaml(config(model_id, name="cli run", **steps)))
    out = cli(ws, "train", str(path)).stdout
    [run] = list_runs(ws)
    assert f"Started run {run.id} (cli run), job {run.job_id}." in out
    # the gate before the launch, live step lines in the user's words, the outcome
    assert out.startswith("Data check of qa@1, split train (tokens counted with local-tiny-llama's tokenizer)\n"
                          "32 rows, 32 left to train on.\n")
    steps_printed = [line for line in out.splitlines() if line.startswith("step ") and "ETA" in line]
    assert [line.split(" · ")[0] for line in steps_printed] == ["step 1/4", "step 2/4", "step 3/4", "step 4/4"]
    assert all(" · loss " in line and " tokens/s · ETA " in line for line in steps_printed)
    assert steps_printed[-1].endswith("ETA 0s") and "step 2: validation loss " in out and "{" not in out
    assert out.rstrip().endswith(f"Finished. Use model id run-{run.id} for inference, or pick it as the base model "
                                 "to continue it.")
    assert run.state == "succeeded" and run.summary["steps"] == 4 and (run.adapter / "adapter_config.json").is_file()
    assert [r["step"] for r in read_metrics(run.folder) if "loss" in r] == [1, 2, 3, 4]
    # the launched process trains on every core (accelerate alone would pin it to one thread)
    cores = cpu_threads_per_process(1)
    assert f"1 process(es) on cpu, {cores} CPU thread(s) each" in jobs.get(ws, run.job_id).log_tail(400)

    other = create_run(ws, config(model_id, learning_rate=5e-3, lora_rank=4, name="other", **steps),
                       run.dataset_id, run.dataset_version, model_id)  # configs are enough to compare
    finish_run(ws, other.id, "failed")
    listed = cli(ws, "runs", "list").stdout.splitlines()
    assert [line.split()[:2] for line in listed] == [[other.id, "failed"], [run.id, "succeeded"]]  # newest first
    assert "steps=4" in listed[1] and "cli run" in listed[1]

    shown = json.loads(cli(ws, "runs", "show", f"run-{run.id}").stdout)
    assert shown["state"] == "succeeded" and shown["adapter"] == str(run.adapter)
    assert shown["summary"]["steps"] == 4 and shown["last_metrics"][-1]["step"] == 4

    diff = {row["knob"]: row for row in json.loads(cli(ws, "runs", "diff", run.id, other.id).stdout)}
    assert set(diff) == {"learning_rate", "lora_rank"}
    assert (diff["learning_rate"]["cli run"], diff["learning_rate"]["other"]) == (1e-2, 5e-3)
    assert (diff["lora_rank"]["cli run"], diff["lora_rank"]["other"]) == (8, 4)
    assert cli(ws, "runs", "diff", run.id, run.id).stdout.strip() == "same configuration"

    again = cli(ws, "runs", "config", run.id).stdout
    assert again.startswith("# Run with: python -m workbench train config.yaml")
    assert from_yaml(again) == run.config and yaml.safe_load(again)["version"] == 1
    estimated = json.loads(cli(ws, "train", str(write(tmp_path, again, "again.yaml")), "--estimate", "--json").stdout)
    assert estimated["estimate"]["steps"] == 4 and estimated["estimate"]["tokens_per_s"] > 0
    assert estimated["gate"]["rows"] == 32 and estimated["gate"]["truncated"] == 0
    assert len(list_runs(ws)) == 2  # the estimate starts no run


def test_run_names_shared_by_two_runs_stay_apart_in_the_diff(train_ws):
    ws, model_id = train_ws
    version = ws.version("qa")
    first, second = (create_run(ws, config(model_id, name="same", seed=seed), version.dataset_id, version.number,
                                model_id) for seed in (1, 2))
    [row] = json.loads(cli(ws, "runs", "diff", first.id, second.id).stdout)
    assert row == {"knob": "seed", f"same ({first.id})": 1, f"same ({second.id})": 2}


def test_template_config_is_commented_and_a_preset_fills_it(train_ws):
    ws, _ = train_ws
    text = cli(ws, "runs", "config", "--dataset", "qa", "--preset", "quick try (CPU)").stdout
    parsed = from_yaml(text)
    assert parsed.dataset == "qa" and parsed.max_steps == 30 and parsed.max_length == 256
    assert "# Adapter rank: capacity of the adapter (4-64)\nlora_rank: 8" in text


def test_bad_config_files_are_located_and_refused_without_a_traceback(train_ws, tmp_path):
    ws, model_id = train_ws
    broken = write(tmp_path, f"dataset: qa\nbase_model: {model_id}\nlearning_rate: [0.1\n", "broken.yaml")
    err = cli(ws, "train", str(broken), code=2).stderr
    assert f"{broken}:" in err and "not valid YAML" in err and "不是有效的 YAML" in err

    unknown = write(tmp_path, f"dataset: qa\nlearnig_rate: 0.001\nbase_model: {model_id}\nmethod: qlora\n")
    lines = cli(ws, "train", str(unknown), code=2).stderr.splitlines()
    assert lines[0] == f"{unknown}:2: learnig_rate: unknown knob (`python -m workbench runs config` lists them) / 未知参数"
    assert lines[1].startswith(f"{unknown}:4: method: Input should be 'lora' or 'full'") and "取值" in lines[1]

    listed = write(tmp_path, "- dataset: qa\n", "list.yaml")
    assert "list.yaml: must be a mapping of key: value / 必须是“键: 值”的映射" in cli(ws, "train", str(listed), code=2).stderr
    missing = cli(ws, "train", str(tmp_path / "nowhere.yaml"), code=2).stderr
    assert "nowhere.yaml: cannot read the file" in missing and "无法读取配置文件" in missing
    unknown_run = cli(ws, "runs", "show", "no-such-run", code=2).stderr
    assert "No run 'no-such-run'" in unknown_run and "没有训练记录" in unknown_run
    assert ws.runs() == [] and jobs.list_jobs(ws) == []


def test_a_launch_problem_is_printed_and_starts_nothing(train_ws, tmp_path):
    ws, model_id = train_ws
    path = write(tmp_path, to_yaml(config(model_id, split="holdout")))
    err = cli(ws, "train", str(path), code=2).stderr
    assert "dataset qa@1 has no 'holdout' split" in err and "划分" in err
    assert ws.runs() == [] and jobs.list_jobs(ws) == []
