"""Real training through the `train` job (accelerate launch, a detached process) on the tiny model:
artifacts, metrics, the run as a model, kill -9 and resume to the same losses, cancel and resume."""
import json
import os
import signal

import numpy as np
import pytest

from tests.train.conftest import config, qa_table
from tests.waiting import wait_for
from workbench import jobs, models
from workbench.data.split import SplitConfig, split_table
from workbench.train import checkpoint, modeling, packing
from workbench.train.jobs import start_training
from workbench.train.runs import create_run, get_run, list_runs, read_metrics
from workbench.train.trainer import Trainer, prepare

JOB_TIMEOUT = 180


def train_losses(folder) -> dict[int, float]:
    rows = [r for r in read_metrics(folder) if "loss" in r]
    steps = [r["step"] for r in rows]
    assert steps == list(range(1, len(steps) + 1)), steps  # no gaps, no duplicates
    return {r["step"]: r["loss"] for r in rows}


def eval_losses(folder) -> dict[int, float]:
    rows = [r for r in read_metrics(folder) if "eval_loss" in r]
    assert len({r["step"] for r in rows}) == len(rows), rows
    return {r["step"]: r["eval_loss"] for r in rows}


def reference_run(ws, cfg):
    """The same config trained in this process without interruption: its metrics folder."""
    version = ws.version(cfg.dataset, cfg.version)
    run = create_run(ws, cfg, version.dataset_id, version.number, cfg.base_model)
    trainer = Trainer(ws, run.id)
    trainer.setup()
    trainer.fit()
    return run.folder


def last_step(run) -> int:
    return max((r["step"] for r in read_metrics(run.folder) if "loss" in r), default=0)


def test_a_few_steps_through_the_job_leave_an_adapter_metrics_and_a_model(train_ws, tokenizer):
    ws, model_id = train_ws
    table = qa_table(40).drop_columns(["_split"])
    version = ws.create_dataset("qa split", split_table(table, SplitConfig(train=0.8, validation=0.2, test=0.0)))
    assert version.splits == {"train": 32, "validation": 8}
    cfg = config(model_id, dataset=version.dataset_id, max_steps=20, eval_steps=10, save_steps=10)
    run, job_id = start_training(ws, cfg)
    assert run.state == "queued" and run.base_model == model_id and run.config.version == version.number
    info = jobs.wait(ws, job_id, timeout=JOB_TIMEOUT)
    assert info.state == "succeeded", info.log_tail(40)
    assert info.result["run_id"] == run.id and info.result["steps"] == 20 and info.fraction == 1.0

    run = get_run(ws, run.id)
    assert run.state == "succeeded" and run.summary["steps"] == 20 and run.summary["rows"] == 32
    assert (run.adapter / "adapter_config.json").is_file()
    assert list(run.adapter.glob("*.safetensors"))
    assert json.loads((run.adapter / "adapter_config.json").read_text())["r"] == cfg.lora_rank
    assert (run.adapter / "tokenizer_config.json").is_file()  # the adapter folder is usable on its own
    assert sorted(p.name for p in (run.folder / "checkpoints").iterdir()) == ["step-000010", "step-000020"]

    losses, evals = train_losses(run.folder), eval_losses(run.folder)
    assert len(losses) == 20 and set(evals) == {10, 20}
    assert run.summary["eval_loss"] == evals[20] and run.summary["train_loss"] == losses[20]
    values = np.array(list(losses.values()))
    # a repetitive dataset at a high learning rate: the loss must fall a lot, not just wobble
    assert values[-5:].mean() < 0.5 * values[:3].mean(), values
    assert evals[20] < values[0] - 3, (evals, values[0])

    listed = {spec.id: spec for spec in models.list_models(ws)}
    assert f"run-{run.id}" in listed
    spec = listed[f"run-{run.id}"]
    assert spec.kind == "run" and spec.available and spec.base == model_id
    assert run.id in [r.id for r in list_runs(ws)]

    # the saved adapter is the trained state: its validation loss, recomputed here, is the logged one
    import torch
    from peft import PeftModel

    base = modeling.load_base(models.converted_model_folder(ws, model_id), "sdpa", torch.float32)
    tuned = PeftModel.from_pretrained(base, str(run.adapter)).eval()
    _, evaluation, _ = prepare(ws, run.config, tokenizer)
    with torch.no_grad():
        batch = packing.padded_batch(evaluation, tokenizer.pad_token_id)
        value = float(modeling.batch_loss(tuned, batch, "cpu")) / batch.answer_tokens
    assert value == pytest.approx(evals[20], abs=1e-3)

    # and a new run can continue from it (base_model = run-<id>): it starts where this one ended
    more = config(f"run-{run.id}", dataset=version.dataset_id, max_steps=2, eval_steps=0, save_steps=0)
    continued = reference_run(ws, more)
    assert train_losses(continued)[1] < values[:3].mean() - 3


def test_bf16_on_cpu_trains_like_fp32_with_fp32_adapter_weights(train_ws):
    """precision bf16 on CPU: frozen base weights in bf16, LoRA weights (and so the saved adapter) in fp32; the
    loss falls as far as the fp32 run's on the same rows."""
    import torch
    from safetensors.torch import load_file

    ws, model_id = train_ws
    ws.create_dataset("qa", qa_table(40))
    losses = {}
    for precision in ("fp32", "bf16"):
        cfg = config(model_id, max_steps=12, eval_steps=0, save_steps=0, precision=precision)
        version = ws.version(cfg.dataset)
        run = create_run(ws, cfg, version.dataset_id, version.number, cfg.base_model)
        trainer = Trainer(ws, run.id)
        trainer.setup()
        dtypes = {name: p.dtype for name, p in trainer.model.named_parameters()}
        assert {d for n, d in dtypes.items() if "lora_" in n} == {torch.float32}
        assert {d for n, d in dtypes.items() if "lora_" not in n} == {getattr(torch, {"bf16": "bfloat16"}.get(
            precision, "float32"))}
        trainer.fit()
        losses[precision] = np.array(list(train_losses(run.folder).values()))
        saved = load_file(next(get_run(ws, run.id).adapter.glob("*.safetensors")))
        assert {t.dtype for t in saved.values()} == {torch.float32}
    fp32, bf16 = losses["fp32"], losses["bf16"]
    assert bf16[0] == pytest.approx(fp32[0], rel=0.02)  # the same model, rounded
    assert bf16[-3:].mean() < 0.5 * bf16[:3].mean() and bf16[-3:].mean() < fp32[-3:].mean() + 0.5, (fp32, bf16)


def test_killed_training_resumes_to_the_same_losses_as_an_uninterrupted_run(train_ws):
    ws, model_id = train_ws
    cfg = config(model_id, max_steps=40, save_steps=5, eval_steps=10, logging_steps=1)
    run, job_id = start_training(ws, cfg)
    folder = run.folder / "checkpoints"

    def checkpoint_then_a_later_step():
        saved = checkpoint.latest(folder)
        return saved is not None and last_step(run) > int(saved.name.split("-")[1])

    wait_for(checkpoint_then_a_later_step, timeout=JOB_TIMEOUT, poll=0.01)
    pid = jobs.get(ws, job_id).pid
    os.kill(pid, signal.SIGKILL)
    info = wait_for(lambda: next((i for i in jobs.list_jobs(ws) if i.id == job_id and i.state == "interrupted"),
                                 None), timeout=30)
    assert info.resumable and get_run(ws, run.id).state == "interrupted"
    killed_at = last_step(run)
    assert killed_at < 40, "the job finished before it was killed"
    resumed_from = checkpoint.latest(folder).name

    jobs.resume(ws, job_id)
    info = jobs.wait(ws, job_id, timeout=JOB_TIMEOUT)
    assert info.state == "succeeded" and info.attempts == 2, info.log_tail(40)
    assert f"resumed from {resumed_from}" in info.log_tail(200)
    losses, evals = train_losses(run.folder), eval_losses(run.folder)  # 1..40, no gaps or duplicates
    assert len(losses) == 40 and set(evals) == {10, 20, 30, 40}

    reference = reference_run(ws, cfg)
    expected, expected_evals = train_losses(reference), eval_losses(reference)
    assert len(expected) == 40
    for step, loss in expected.items():
        assert losses[step] == pytest.approx(loss, abs=1e-4), (step, killed_at, resumed_from)
    for step, loss in expected_evals.items():
        assert evals[step] == pytest.approx(loss, abs=1e-4), step


def test_cancel_saves_a_checkpoint_at_the_cancel_step_and_resume_finishes(train_ws):
    ws, model_id = train_ws
    cfg = config(model_id, max_steps=40, save_steps=1000, eval_steps=0)
    run, job_id = start_training(ws, cfg)
    wait_for(lambda: last_step(run) >= 3, timeout=JOB_TIMEOUT, poll=0.01)
    assert jobs.cancel(ws, job_id)
    info = jobs.wait(ws, job_id, timeout=60)
    assert info.state == "cancelled", info.log_tail(40)
    assert get_run(ws, run.id).state == "cancelled" and info.resumable
    stopped = last_step(run)
    assert 3 <= stopped < 40
    assert [p.name for p in (run.folder / "checkpoints").iterdir()] == [f"step-{stopped:06d}"]

    jobs.resume(ws, job_id)
    info = jobs.wait(ws, job_id, timeout=JOB_TIMEOUT)
    assert info.state == "succeeded", info.log_tail(40)
    assert f"resumed from step-{stopped:06d}" in info.log_tail(200)
    assert len(train_losses(run.folder)) == 40
    run = get_run(ws, run.id)
    assert run.state == "succeeded" and run.summary["steps"] == 40 and (run.adapter / "adapter_config.json").is_file()
