"""The train job's command line is `accelerate launch` for N local processes (torchrun, gloo on CPU) or the
user's accelerate config; one local process with no config starts directly. A real 2-process CPU run sums
gradients across ranks and so logs the same losses as one process; a cancel stops both processes at the same step."""
import re
import sys

import pytest

from tests.train.conftest import config
from tests.waiting import wait_for
from workbench import jobs
from workbench.train import checkpoint
from workbench.train.jobs import (accelerate_command, accelerate_default_config, cpu_threads_per_process,
                                  launch_command, start_training)
from workbench.train.runs import create_run, get_run, read_metrics
from workbench.train.trainer import Trainer

LAUNCH = [sys.executable, "-m", "accelerate.commands.launch"]


def test_one_local_process_starts_directly_until_an_accelerate_config_exists(tmp_path, monkeypatch):
    """`accelerate launch` would run one CPU process as plain `python` after importing torch itself (~3 s);
    a config file (given, or accelerate's default one) or several processes go through the launcher."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert accelerate_default_config() == tmp_path / "hf" / "accelerate" / "default_config.yaml"
    assert launch_command({"num_processes": 1}) == [sys.executable]
    assert launch_command({"num_processes": 2})[:3] == LAUNCH
    assert launch_command({"accelerate_config": "/cfg/ds.yaml", "num_processes": 1})[:3] == LAUNCH
    accelerate_default_config().parent.mkdir(parents=True)
    accelerate_default_config().write_text("distributed_type: MULTI_GPU\nnum_processes: 4\n")
    assert launch_command({"num_processes": 1}) == accelerate_command({"num_processes": 1})


def test_the_job_log_names_the_command_line(train_ws):
    ws, model_id = train_ws
    run, job_id = start_training(ws, config(model_id, max_steps=1, eval_steps=0, save_steps=0))
    info = jobs.wait(ws, job_id, timeout=300)
    assert info.state == "succeeded", info.log_tail(60)
    first = info.log_tail(400).splitlines()[0]
    assert f"command: {sys.executable} -m workbench --workspace {ws.root} jobs run {job_id}" in first


def test_command_line_for_one_process_several_processes_and_a_config_file():
    one = accelerate_command({"num_processes": 1})
    assert one[:3] == LAUNCH and one[3:5] == ["--num_processes", "1"] and "--multi_gpu" not in one
    two = accelerate_command({"num_processes": 2})
    # without --multi_gpu accelerate starts a single process on a machine with no GPU
    assert two[3:5] == ["--num_processes", "2"] and "--multi_gpu" in two
    assert two[two.index("--main_process_port") + 1] == "0"  # any free port: runs side by side do not collide
    assert accelerate_command({"accelerate_config": "/cfg/ds.yaml", "num_processes": 8}) == [
        *LAUNCH, "--config_file", "/cfg/ds.yaml"]


def test_each_process_gets_its_share_of_the_cores_not_accelerates_one_thread(monkeypatch):
    """`accelerate launch` without a GPU flag sets OMP_NUM_THREADS=1: CPU training on one core of many."""
    import os

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    threads = lambda command: int(command[command.index("--num_cpu_threads_per_process") + 1])  # noqa: E731
    assert threads(accelerate_command({"num_processes": 1})) == 8
    assert threads(accelerate_command({"num_processes": 2})) == 4
    assert threads(accelerate_command({"num_processes": 16})) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's choice wins
    assert threads(accelerate_command({"num_processes": 1})) == 3


def losses(folder) -> dict[int, float]:
    rows = [r for r in read_metrics(folder) if "loss" in r]
    assert [r["step"] for r in rows] == list(range(1, len(rows) + 1))  # one writer: no duplicate steps
    return {r["step"]: r["loss"] for r in rows}


def test_two_cpu_processes_train_the_same_run_as_one(train_ws):
    ws, model_id = train_ws
    cfg = config(model_id, max_steps=6, eval_steps=3, save_steps=3, batch_size=4)
    run, job_id = start_training(ws, cfg, num_processes=2)
    info = jobs.wait(ws, job_id, timeout=300)
    assert info.state == "succeeded", info.log_tail(60)
    log = info.log_tail(400)
    assert re.search(rf"2 process\(es\) on cpu(:0)?, {cpu_threads_per_process(2)} CPU thread\(s\) each", log), log
    run = get_run(ws, run.id)
    assert run.summary["processes"] == 2 and run.summary["steps"] == 6 and info.result["steps"] == 6
    assert (run.adapter / "adapter_config.json").is_file()
    two = losses(run.folder)
    assert len(two) == 6 and all(0 < value < 20 for value in two.values())
    assert two[6] < two[1] - 1  # it learns

    version = ws.version("qa")
    reference = create_run(ws, cfg, version.dataset_id, version.number, model_id)
    trainer = Trainer(ws, reference.id)
    trainer.setup()
    trainer.fit()
    one = losses(reference.folder)
    for step, value in one.items():  # each rank's half-batch gradients, summed, are the whole batch's
        assert two[step] == pytest.approx(value, rel=1e-3, abs=1e-3), (step, two, one)


def test_a_cancel_stops_both_processes_at_the_same_step(train_ws):
    ws, model_id = train_ws
    run, job_id = start_training(ws, config(model_id, max_steps=400, eval_steps=0, save_steps=1000), num_processes=2)
    wait_for(lambda: len(read_metrics(run.folder)) >= 2, timeout=300, poll=0.05)
    assert jobs.cancel(ws, job_id)
    info = jobs.wait(ws, job_id, timeout=90)  # rank 1 hears it through an all-reduce: no one hangs
    assert info.state == "cancelled" and get_run(ws, run.id).state == "cancelled", info.log_tail(60)
    stopped = max(losses(run.folder))
    assert 2 <= stopped < 400
    assert checkpoint.latest(run.folder / "checkpoints").name == f"step-{stopped:06d}"
    wait_for(lambda: not job_processes(job_id), timeout=60, poll=0.2)  # launcher and both ranks have exited
    log = info.log_tail(300)
    assert "Traceback" not in log and "Error" not in log, log  # rank 1 stopped too, not cut off by a dead peer


def job_processes(job_id: str) -> list:
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline"]):
        if job_id in " ".join(process.info["cmdline"] or []) and process.status() != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found
