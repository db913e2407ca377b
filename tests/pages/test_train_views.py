"""workbench.train.views: what the Train and Runs pages draw, computed without streamlit."""
import math

import pytest

from tests.pages.train_helpers import finished_run, qa_table
from workbench.train import views
from workbench.train.config import PRESETS, TrainConfig, help_text
from workbench.workspace import Workspace


@pytest.fixture
def ws(tmp_path):
    ws = Workspace(tmp_path / "workspace")
    ws.create_dataset("qa", qa_table())
    return ws


def test_every_config_field_has_exactly_one_widget():
    drawn = [name for group in views.KNOB_GROUPS.values() for name in group] + list(views.SPECIAL_FIELDS)
    assert sorted(drawn) == sorted(TrainConfig.model_fields)


def test_knobs_describe_their_widget_from_the_field():
    assert views.knob("scheduler").options == ("cosine", "linear", "constant", "constant_with_warmup")
    assert views.knob("max_steps").kind == "optional_int" and views.knob("max_steps").default is None
    assert views.knob("packing").kind == "bool" and views.knob("lora_rank").kind == "int"
    learning_rate = views.knob("learning_rate")
    assert (learning_rate.kind, learning_rate.format) == ("float", "%.1e")
    assert learning_rate.help == help_text("learning_rate")


def test_preset_values_overlay_the_defaults_and_make_a_valid_config():
    for preset in PRESETS:
        values = views.preset_values(preset)
        assert {k: values[k] for k in PRESETS[preset]} == PRESETS[preset]
        TrainConfig(dataset="qa", **values)
    assert views.preset_values(None)["lora_rank"] == TrainConfig.model_fields["lora_rank"].default


def test_lora_targets_all_linear_wins():
    assert views.lora_targets([]) == "all-linear"
    assert views.lora_targets(["all-linear", "q_proj"]) == "all-linear"
    assert views.lora_targets(["q_proj", "v_proj"]) == ["q_proj", "v_proj"]


def test_split_options_always_offer_train_so_an_unsplit_dataset_is_caught():
    assert views.split_options({}) == (["train", None], [None])
    train, evaluation = views.split_options({"validation": 3, "train": 10, "test": 2})
    assert train == ["train", "test", "validation", None] and evaluation == [None, "test", "validation"]
    assert views.default_eval_split({"train": 1, "test": 1}) == "test"
    assert views.default_eval_split({"train": 1}) is None


def test_curves_and_latest_numbers_from_metric_rows():
    rows = [{"step": 1, "loss": 3.0, "lr": 1e-4, "tokens_per_s": 100.0, "rss_mb": 800},
            {"step": 2, "loss": 2.5, "lr": 2e-4, "tokens_per_s": 120.0, "rss_mb": 810, "gpu_mb": 300},
            {"step": 2, "eval_loss": 2.7}]
    curves = views.curve_frame(rows)
    assert curves.to_dict("records") == [{"step": 1, "loss": 3.0, "series": "train"},
                                         {"step": 2, "loss": 2.5, "series": "train"},
                                         {"step": 2, "loss": 2.7, "series": "validation"}]
    assert views.lr_frame(rows)["lr"].tolist() == [1e-4, 2e-4]
    now = views.latest(rows)
    assert (now["step"], now["loss"], now["eval_loss"], now["gpu_mb"]) == (2, 2.5, 2.7, 300)
    assert views.latest([]) == {} and views.curve_frame([]).empty


def test_run_tables_tell_same_named_runs_apart(ws):
    first = finished_run(ws, "smollm2-135m-instruct", learning_rate=2e-4)
    second = finished_run(ws, "smollm2-135m-instruct", learning_rate=1e-4)
    runs = [views.distinct_names([first])[0], *views.distinct_names([first, second])]
    assert runs[0].name == first.name and runs[1].name.endswith(f"({first.id})")
    from workbench.train.runs import list_runs

    listed = list_runs(ws)
    table = views.runs_table(listed)
    assert table["state"].tolist() == ["succeeded", "succeeded"] and table["steps"].tolist() == [4, 4]
    assert math.isclose(table["train_loss"][0], 1.4)
    diff = views.diff_frame(listed)
    assert diff["knob"].tolist() == ["learning_rate"] and len(diff.columns) == 3
    assert set(views.runs_curves(listed)["run"]) == set(diff.columns[1:])
    outputs = views.run_outputs(listed[0])
    assert outputs["model_id"] == f"run-{listed[0].id}" and outputs["weights"].endswith("adapter")


def test_launch_problems_add_the_launcher_and_continuation_checks(ws):
    config = TrainConfig(dataset="qa", base_model="smollm2-135m-instruct")
    assert views.launch_problems(ws, config) == []
    problems = views.launch_problems(ws, config, accelerate_config="/no/such/accelerate.yaml", num_processes=0)
    assert any("accelerate config file not found" in p for p in problems)
    assert any("at least 1" in p for p in problems)
    run = finished_run(ws, "smollm2-135m-instruct")
    full = TrainConfig(dataset="qa", base_model=f"run-{run.id}", method="full")
    assert any("needs the LoRA method" in p for p in views.launch_problems(ws, full))


def test_quick_config_takes_the_newest_version_and_its_validation_split(ws):
    config = views.quick_config(ws, "qa", "smollm2-135m-instruct", "quick try (CPU)")
    assert (config.version, config.split, config.eval_split, config.max_steps) == (1, "train", "validation", 30)
    ws.create_dataset("plain", qa_table(split=False))
    assert views.quick_config(ws, "plain", "smollm2-135m-instruct", "standard").eval_split is None
