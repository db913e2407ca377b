"""Time from "Start training" to the first finished optimizer step, on the product path, CPU.

    .venv/bin/python bench/time_to_first_step.py [--model smollm2-135m-instruct] [--runs 2]

What the Train page's button does: `start_training` spawns the background job (a new Python process; one
local process without an accelerate config starts directly, not through `accelerate launch`), which
imports torch / transformers / peft, loads the model and adds the LoRA adapter while a helper process
reads the dataset version and tokenizes the train split, then takes step 1 (batch 8, huanhuan). The clock stops when step 1's row lands
in the run's metrics.jsonl, the file the Runs page draws its curves from. The first run in a fresh
workspace also converts the bundled GGUF into cached safetensors once ("cold"); later runs find the
cache ("warm", what a user sees every time after the first, or after *Prepare* on the Models page).
The job log's timestamps split each run into its stages.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HUANHUAN = ROOT.parent / "shared" / "data" / "huanhuan.json"
STAGES = (("process up", "started, attempt"), ("imports done", "loading "), ("data ready", "rows,"))


def first_step(ws, model: str, name: str) -> dict:
    from workbench import jobs
    from workbench.train.config import TrainConfig
    from workbench.train.jobs import start_training
    from workbench.train.runs import read_metrics

    config = TrainConfig(dataset="huanhuan", base_model=model, max_steps=2, batch_size=8, eval_split=None,
                         eval_steps=0, save_steps=0, name=name)
    started = time.time()
    run, job_id = start_training(ws, config)
    metrics, polls = run.folder / "metrics.jsonl", 0
    # A light watch: a stat every 50 ms, the job's state once a second. On two cores whatever else runs
    # takes a core from the step's two threads, so the clock must not cost more than the product does.
    while not (metrics.exists() and any("loss" in row for row in read_metrics(run.folder))):
        polls += 1
        if polls % 20 == 0 and jobs.get(ws, job_id).state in jobs.FINISHED:
            info = jobs.get(ws, job_id)
            raise SystemExit(f"training {info.state} before step 1:\n{info.log_tail(40)}")
        time.sleep(0.05)
    seconds = time.time() - started
    info = jobs.wait(ws, job_id, timeout=600)
    return {"seconds": seconds, "state": info.state, "log": info.log_tail(60), "started": started}


def stages(log: str, started: float) -> str:
    """Seconds after the click at which the log's landmarks appear (log times are whole seconds)."""
    day = time.strftime("%Y-%m-%d", time.localtime(started))
    marks = []
    for label, needle in STAGES:
        line = next((line for line in log.splitlines() if needle in line), None)
        if line:
            at = time.mktime(time.strptime(f"{day} {line[:8]}", "%Y-%m-%d %H:%M:%S"))
            marks.append(f"{label} ~{max(0.0, at - started):.0f} s")
    return ", ".join(marks)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--runs", type=int, default=2, help="runs in one workspace: the first is cold")
    args = parser.parse_args(argv)
    from workbench.cli import main as cli
    from workbench.workspace import Workspace

    folder = Path(tempfile.mkdtemp(prefix="first-step-ws-"))
    for argv_ in (["import", str(HUANHUAN), "--name", "huanhuan"], ["split", "huanhuan"]):
        cli(["--workspace", str(folder), *argv_])
    ws = Workspace(folder)
    results = []
    for index in range(args.runs):
        result = first_step(ws, args.model, f"first-step-{index}")
        kind = "cold (converts the GGUF once)" if index == 0 else "warm"
        print(f"run {index + 1} {kind}: {result['seconds']:.1f} s to step 1 ({stages(result['log'], result['started'])})")
        results.append(round(result["seconds"], 2))
    print(json.dumps({"model": args.model, "seconds": results, "target_s": 20}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
