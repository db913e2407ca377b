"""The Train page and the sidebar quick launch (AppTest): renders empty and with runs, presets fill the knobs,
the data check, estimate and a real tiny training run work, and bad input shows where it is wrong."""
import pytest

from tests.pages.conftest import no_errors, page
from tests.pages.train_helpers import finished_run, qa_table, tiny_model_folder  # noqa: F401  (fixture)
from workbench import jobs, models
from workbench.train import jobs as train_jobs
from workbench.train.config import help_text
from workbench.train.runs import create_run, get_run


@pytest.fixture
def tiny(app_env, tiny_model_folder):
    """The page workspace with the tiny model registered and a split dataset `qa` (16 train, 4 validation)."""
    app_env.create_dataset("qa", qa_table())
    return models.register_local(app_env, tiny_model_folder, "tiny").id


def small_run(at, model_id: str) -> None:
    """Pick the tiny model and knobs for a run of a few seconds."""
    at.selectbox(key="train_base_model").select(model_id).run()
    at.number_input(key="train_max_steps").set_value(3)
    at.number_input(key="train_max_length").set_value(128)
    at.number_input(key="train_batch_size").set_value(2)
    at.number_input(key="train_eval_steps").set_value(0)
    at.number_input(key="train_save_steps").set_value(2).run()


def test_empty_workspace_asks_for_a_dataset(app_env):
    at = page("train").run()
    no_errors(at)
    assert any("Import a dataset first" in i.value for i in at.info)
    assert any("Import a dataset to train" in c.value for c in at.caption)  # the sidebar quick launch


def test_renders_with_a_finished_run_as_a_base_model_and_presets_fill_the_knobs(app_env, tiny):
    run = finished_run(app_env, tiny)
    at = page("train").run()
    no_errors(at)
    assert any(o.endswith(run.model_id) for o in at.selectbox(key="train_base_model").options)
    assert at.selectbox(key="train_eval_qa@1").value == "validation"
    learning_rate = at.number_input(key="train_learning_rate")
    assert learning_rate.help == help_text("learning_rate") and learning_rate.value == 3e-4
    assert at.number_input(key="train_max_steps").value == 30
    at.selectbox(key="train_preset").select("quality").run()
    no_errors(at)
    assert at.number_input(key="train_lora_rank").value == 64
    assert at.number_input(key="train_max_steps").value is None  # by epochs
    assert at.number_input(key="train_learning_rate").value == 1e-4
    assert "lora_rank: 64" in at.code[0].value  # the config YAML follows the knobs


def test_lora_targets_are_listed_from_the_model(app_env, tiny):
    at = page("train").run()
    at.selectbox(key="train_base_model").select(tiny).run()
    targets = at.multiselect(key=f"train_targets_{tiny}")
    assert {"q_proj", "v_proj", "down_proj"} <= set(targets.options) and targets.value == ["all-linear"]
    targets.set_value(["q_proj", "v_proj"]).run()
    no_errors(at)
    assert "lora_targets:\n- q_proj\n- v_proj" in at.code[0].value


def test_start_training_runs_a_real_tiny_job_and_shows_its_curves(app_env, tiny):
    at = page("train").run()
    small_run(at, tiny)
    at.button(key="train_start").click().run()
    no_errors(at)
    assert any("Started run" in s.value for s in at.success)
    run = get_run(app_env, at.session_state["train_run"])
    info = jobs.wait(app_env, run.job_id, timeout=120)
    assert info.state == "succeeded", info.log_tail()
    at.run()
    no_errors(at)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Step"] == "3 / 3" and shown["Train loss"] != "–" and shown["Validation loss"] != "–"
    assert any(f"model id run-{run.id}" in s.value for s in at.success)
    assert run.config.max_steps == 3 and run.config.eval_split == "validation"


def test_check_data_shows_the_quality_gate(app_env, tiny):
    at = page("train").run()
    small_run(at, tiny)
    at.button(key="train_check").click().run()
    no_errors(at)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Rows"] == "16" and shown["Cut by max length"] == "0" and shown["Leaked val/test rows"] == "4"
    assert any("Quality page" in w.value for w in at.warning)  # duplicates and leakage: where to fix them


def test_check_data_says_when_no_row_is_left_to_train_on(app_env, tiny):
    at = page("train").run()
    small_run(at, tiny)
    at.number_input(key="train_max_length").set_value(4).run()  # shorter than every prompt
    at.button(key="train_check").click().run()
    no_errors(at)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Skipped: prompt too long"] == "16" and shown["Cut by max length"] == "0"
    assert at.error and at.error[0].value.startswith("Nothing to train on in qa@1, split train")


def test_estimate_time_measures_a_few_steps_in_a_job(app_env, tiny):
    at = page("train").run()
    small_run(at, tiny)
    at.button(key="train_estimate").click().run()
    no_errors(at)
    info = jobs.wait(app_env, at.session_state["train_estimate_job"], timeout=120)
    assert info.kind == "train_estimate" and info.state == "succeeded", info.log_tail()
    at.run()
    no_errors(at)
    assert any(i.value.startswith("About ") and "3 steps" in i.value for i in at.info)


def test_a_dataset_without_a_train_split_is_refused_with_a_located_message(app_env):
    app_env.create_dataset("raw", qa_table(split=False))
    at = page("train").run()
    at.button(key="train_start").click().run()
    no_errors(at)
    assert at.error and "raw@1 has no 'train' split" in at.error[0].value
    assert "train_run" not in at.session_state
    assert jobs.list_jobs(app_env) == []


def test_an_invalid_knob_names_the_field_and_blocks_the_start(app_env, tiny):
    at = page("train").run()
    at.number_input(key="train_learning_rate").set_value(0.0).run()
    no_errors(at)
    assert at.error and "learning_rate: learning rate must be > 0" in at.error[0].value
    assert at.button(key="train_start").disabled


def test_sidebar_quick_launch_starts_the_preset_and_links_to_the_pages(app_env, tiny, monkeypatch):
    started = []

    def fake_start(ws, config, accelerate_config=None, num_processes=1):
        started.append(config)
        version = ws.version(config.dataset)
        return create_run(ws, config, version.dataset_id, version.number, config.base_model), "job-1"

    monkeypatch.setattr(train_jobs, "start_training", fake_start)
    at = page("runs").run()
    at.selectbox(key="quick_model").select(tiny)
    at.selectbox(key="quick_preset").select("standard")
    at.button(key="quick_start").click().run()
    no_errors(at)
    config = started[0]
    assert (config.dataset, config.version, config.base_model) == ("qa", 1, tiny)
    assert (config.split, config.eval_split, config.lora_rank, config.epochs) == ("train", "validation", 16, 2.0)
    assert at.session_state["train_run"] == get_run(app_env, at.session_state["train_run"]).id
    assert any("Started run" in s.value for s in at.sidebar.success)
