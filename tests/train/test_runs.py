"""Runs in the workspace: listed newest first with the state of their job, compared knob by knob, and a finished
run is a model (`run-<id>`) that loads with its adapter merged and that a new run continues on the same base."""
import pytest

from tests.train.conftest import config
from workbench import jobs, models
from workbench.train.runs import config_diff, create_run, finish_run, get_run, list_runs, set_job


def make_run(ws, model_id, **knobs):
    version = ws.version("qa")
    return create_run(ws, config(model_id, **knobs), version.dataset_id, version.number, model_id)


def test_runs_are_listed_newest_first_with_their_jobs_state_and_only_succeeded_ones_are_models(train_ws, run_here):
    ws, model_id = train_ws
    done = make_run(ws, model_id, name="done")
    finish_run(ws, done.id, "succeeded", {"steps": 6})
    queued = make_run(ws, model_id, name="queued")
    broken = make_run(ws, model_id, name="job failed")
    job_id = jobs.start(ws, "train", {"run_id": "no-such-run"}, title="broken")  # spawn is a no-op here
    set_job(ws, broken.id, job_id)
    assert [r.name for r in list_runs(ws)] == ["job failed", "queued", "done"]
    assert get_run(ws, broken.id).state == "queued"  # follows its job, which has not run yet
    run_here(ws, None, job_id=job_id)  # the worker fails: no such run
    states = {r.name: r.state for r in list_runs(ws)}
    assert states == {"job failed": "failed", "queued": "queued", "done": "succeeded"}
    assert get_run(ws, f"run-{done.id}").summary == {"steps": 6}  # the model id works as a run id too
    with pytest.raises(KeyError, match="没有训练记录"):
        get_run(ws, "no-such-run")
    run_models = [spec.id for spec in models.list_models(ws) if spec.kind == "run"]
    assert run_models == [f"run-{done.id}"]


def test_config_diff_lists_only_the_knobs_that_differ(train_ws):
    ws, model_id = train_ws
    first = make_run(ws, model_id, name="first")
    second = make_run(ws, model_id, name="second", learning_rate=1e-3, lora_targets=["q_proj", "v_proj"])
    third = make_run(ws, model_id, name="third", learning_rate=1e-3)
    assert config_diff([first, second, third]) == [
        {"knob": "learning_rate", "first": 1e-2, "second": 1e-3, "third": 1e-3},
        {"knob": "lora_targets", "first": "all-linear", "second": ["q_proj", "v_proj"], "third": "all-linear"}]
    assert config_diff([second, third]) == [
        {"knob": "lora_targets", "second": ["q_proj", "v_proj"], "third": "all-linear"}]
    assert config_diff([first, first]) == []  # the name is not a knob


def test_a_finished_run_is_a_model_that_loads_merged_and_continues_on_its_base(train_ws, run_here):
    import torch

    ws, model_id = train_ws
    run, info = run_here(ws, config(model_id, max_steps=6, merge=True))
    assert info.state == "succeeded" and run.state == "succeeded", info.error

    spec = models.resolve(ws, f"run-{run.id}")
    assert (spec.kind, spec.base, spec.available, spec.path) == ("run", model_id, True, str(run.folder))
    tuned, folder = models.load_causal_lm(ws, spec.id)
    base, _ = models.load_causal_lm(ws, model_id)
    assert folder == run.adapter and not hasattr(tuned, "peft_config")  # merged into a plain model
    ids = torch.tensor([[1, 42, 314, 2718, 16, 9]])
    with torch.no_grad():
        tuned_logits, base_logits = tuned(input_ids=ids).logits, base(input_ids=ids).logits
        merged_logits = models.load_causal_lm(ws, str(run.folder / "merged"))[0](input_ids=ids).logits
    assert (tuned_logits - base_logits).abs().max() > 0.1  # the adapter changed the model
    assert torch.allclose(tuned_logits, merged_logits, atol=1e-4)  # the saved merged model is the same model

    continued, info = run_here(ws, config(spec.id, max_steps=2, eval_steps=0, save_steps=0, name="more"))
    assert info.state == "succeeded", info.error
    assert continued.base_model == model_id and continued.config.base_model == spec.id
    again, info = run_here(ws, config(continued.model_id, max_steps=1, eval_steps=0, save_steps=0))
    assert again.base_model == model_id  # a chain of continuations still names the original base
    assert models.resolve(ws, again.model_id).base == model_id
    assert models.load_causal_lm(ws, again.model_id)[0] is not None
