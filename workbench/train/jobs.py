"""The `train` job: a run started through `accelerate launch` (or directly: one local process, no accelerate
config), resumable from its last checkpoint."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from .. import jobs
from ..jobs import JobCancelled, job_kind
from .config import TrainConfig
from .runs import create_run, finish_run, get_run, set_job


def launch_command(params: dict) -> list[str]:
    """How the train job starts: `accelerate launch` with the user's accelerate config (GPUs, nodes, DeepSpeed)
    or for N local processes; one local process with no accelerate config anywhere starts directly.

    The direct start is what `accelerate launch` would run for that case (its simple launcher: the same
    Python, no distributed environment) without the launcher's own process, which imports torch first:
    ~3 s sooner to the first step. The moment a config file exists (given, or accelerate's default one
    written by `accelerate config`) or a second process is asked for, the job goes through `accelerate launch`."""
    if not params.get("accelerate_config") and int(params.get("num_processes", 1)) == 1 \
            and not accelerate_default_config().is_file():
        return [sys.executable]
    return accelerate_command(params)


def accelerate_command(params: dict) -> list[str]:
    """`accelerate launch` with the user's accelerate config (GPUs, nodes, DeepSpeed), or N local processes."""
    command = [sys.executable, "-m", "accelerate.commands.launch"]
    if params.get("accelerate_config"):
        return command + ["--config_file", str(params["accelerate_config"])]
    processes = int(params.get("num_processes", 1))
    command += ["--num_processes", str(processes), "--num_machines", "1", "--mixed_precision", "no",
                "--dynamo_backend", "no", "--num_cpu_threads_per_process", str(cpu_threads_per_process(processes))]
    # Several processes need accelerate's torchrun launcher (its `--multi_gpu`): without it, on a machine with
    # no GPU, accelerate starts one process. On CPU the processes then talk over gloo. Port 0 = any free port,
    # so two runs on one machine do not collide on 29500.
    return command + (["--multi_gpu", "--main_process_port", "0"] if processes > 1 else [])


def accelerate_default_config() -> Path:
    """Where `accelerate config` saves the machine's default (the file `accelerate launch` reads when given none)."""
    home = os.environ.get("HF_HOME", os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface"))
    return Path(os.path.expanduser(home)) / "accelerate" / "default_config.yaml"


def cpu_threads_per_process(processes: int) -> int:
    """The machine's cores shared between the processes (or OMP_NUM_THREADS when the user set it).

    Without it `accelerate launch` sets OMP_NUM_THREADS=1 when no GPU flag is given, and CPU training
    runs on one core whatever the machine has (half the speed on 2 cores)."""

    if os.environ.get("OMP_NUM_THREADS", "").isdigit() and int(os.environ["OMP_NUM_THREADS"]) > 0:
        return int(os.environ["OMP_NUM_THREADS"])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, processes))


HELPER_MIN_ROWS = 1000


def rows_to_tokenize(ws, config: TrainConfig) -> int:
    """Rows of the run's train and validation splits, from the catalog (0 when the version is gone)."""
    try:
        version = ws.version(config.dataset, config.version)
    except (KeyError, ValueError):
        return 0
    if not config.split:
        return version.rows
    return sum(version.splits.get(name, 0) for name in {config.split, config.eval_split} if name)


@job_kind("train", resumable=True, launcher=launch_command)
def train_job(ctx, params) -> dict:
    """Train run `params['run_id']`; a resume continues from its newest checkpoint."""
    from .dataprep import Helper

    run_id, main = params["run_id"], not isinstance(ctx, jobs.FollowerContext)
    if main:
        finish_run(ctx.ws, run_id, "running")
    # a helper tokenizes while this process imports torch and loads the model: worth its own start
    # (~4 s of CPU on another core) from about a thousand rows on
    data = Helper(ctx.ws, run_id) if rows_to_tokenize(ctx.ws, get_run(ctx.ws, run_id).config) >= HELPER_MIN_ROWS \
        else None
    try:
        from .trainer import Trainer

        trainer = Trainer(ctx.ws, run_id, ctx)
        trainer.setup(data)
        summary = trainer.fit()
    except JobCancelled:
        if main:
            finish_run(ctx.ws, run_id, "cancelled")
        raise
    except BaseException:
        if main:
            finish_run(ctx.ws, run_id, "failed")
        raise
    finally:
        if data is not None:
            data.stop()
    if main:
        finish_run(ctx.ws, run_id, "succeeded", summary)
    return {"run_id": run_id, **summary}


def start_training(ws, config: TrainConfig, accelerate_config: str | None = None, num_processes: int = 1) -> tuple:
    """Create the run for `config` and start its job. Returns (run, job id)."""
    from .. import models

    version = ws.version(config.dataset, config.version)
    spec = models.resolve(ws, config.base_model)
    base = spec.base if spec.kind == "run" and spec.base else spec.id  # continuing a run: its adapter, same base
    run = create_run(ws, config, version.dataset_id, version.number, base)
    params = {"run_id": run.id, "accelerate_config": accelerate_config, "num_processes": num_processes}
    job_id = jobs.start(ws, "train", params, title=run.name)
    set_job(ws, run.id, job_id)
    return get_run(ws, run.id), job_id
