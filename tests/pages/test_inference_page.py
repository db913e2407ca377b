"""The Inference page (AppTest): empty workspace hint, a real tiny inference with a prompt variant started from
the page and read back, a located error for a bad config, and the hand-over to the Evaluate page."""
import pytest

from tests.infer.conftest import qa_table, tiny_folders  # noqa: F401  (fixture)
from tests.pages.conftest import no_errors, page
from workbench import jobs, models
from workbench.infer.store import get_inference, list_inferences


@pytest.fixture
def tiny(app_env, tiny_folders):  # noqa: F811
    """The page workspace with tiny models `a` and `b` registered and dataset `qa` (6 test rows)."""
    ids = {name: models.register_local(app_env, tiny_folders[name], f"tiny {name}").id for name in ("a", "b")}
    app_env.create_dataset("qa", qa_table())
    return ids


def test_empty_workspace_asks_for_a_dataset_and_lists_no_inference(app_env):
    at = page("inference").run()
    no_errors(at)
    assert any("Import a dataset first" in i.value for i in at.info)
    assert any("No inference yet" in i.value for i in at.info)


def test_a_tiny_inference_with_a_prompt_variant_runs_and_shows_its_answers(app_env, tiny):
    at = page("inference").run()
    no_errors(at)
    assert at.selectbox(key="infer_split_qa@1").value == "test"  # the default split
    assert at.number_input(key="infer_temperature").help.startswith("0 = greedy")
    at.multiselect(key="infer_models").set_value([tiny["a"], tiny["b"]]).run()
    at.button(key="infer_add_variant").click().run()
    at.selectbox(key="infer_variant_model_1").select(tiny["a"])
    at.text_area(key="infer_system_variant_1").input("Answer in one word.")
    at.number_input(key="infer_max_new_tokens").set_value(6)
    at.number_input(key="infer_max_rows").set_value(3).run()
    no_errors(at)
    assert not at.error
    at.button(key="infer_start").click().run()
    no_errors(at)
    assert any("Started inference" in s.value for s in at.success)
    listed = at.dataframe[0].value  # counts are not known yet: a dash, not "None"
    assert listed.loc[0, ["Rows", "Answered", "Failed"]].tolist() == ["–", "–", "–"]
    info = list_inferences(app_env)[0]
    assert jobs.wait(app_env, info.job_id, timeout=300).state == "succeeded"
    config = get_inference(app_env, info.id).config
    assert [(a.label, a.model, a.system_prompt) for a in config.arms] == [
        (tiny["a"], tiny["a"], None), (tiny["b"], tiny["b"], None), ("Variant 1", tiny["a"], "Answer in one word.")]
    at.run()
    no_errors(at)
    per_arm = at.dataframe[1].value.set_index("Arm")
    assert per_arm["Answered"].tolist() == [3, 3, 3] and per_arm["Pending"].sum() == 0
    outputs = at.dataframe[2].value
    assert len(outputs) == 9 and set(outputs["Status"]) == {"answered"}
    assert outputs["Output"].notna().all() and "_chunk" in outputs.columns  # lineage columns come along
    assert set(outputs["Error"]) == {""} and "" in set(outputs["System prompt"])  # not None
    assert at.selectbox(key="infer_selected").format_func(info.id).endswith("· finished")
    assert at.get("download_button")
    at.button(key="infer_evaluate").click().run()
    no_errors(at)
    assert at.selectbox(key="eval_inference").value == info.id  # the Evaluate page opens with it chosen


def test_a_bad_config_shows_located_errors_and_cannot_start(app_env, tiny):
    at = page("inference").run()
    at.multiselect(key="infer_models").set_value([tiny["a"]]).run()
    at.button(key="infer_add_variant").click().run()
    at.text_input(key="infer_label_variant_1").input(tiny["a"]).run()  # the same label as the first arm
    no_errors(at)
    assert "arms[1].label" in at.error[0].value and at.button(key="infer_start").disabled
    at.text_input(key="infer_label_variant_1").input("short")
    at.number_input(key="infer_max_new_tokens").set_value(0).run()
    assert "max_new_tokens: must be at least 1" in at.error[0].value and at.button(key="infer_start").disabled
    at.multiselect(key="infer_models").set_value([]).run()
    at.button(key="infer_remove_1").click().run()
    no_errors(at)
    assert "Pick at least one model" in at.error[0].value
    assert list_inferences(app_env) == []


def test_a_run_is_offered_by_its_dataset_base_and_time_not_a_bare_id(app_env, tiny):
    from tests.pages.train_helpers import finished_run

    run = finished_run(app_env, tiny["a"])
    at = page("inference").run()
    no_errors(at)
    offered = [o for o in at.multiselect(key="infer_models").options if run.id in o]
    assert len(offered) == 1 and offered[0].startswith(f"qa@1 · {tiny['a']} · ")
    assert f"tiny a · {tiny['a']}" in at.multiselect(key="infer_models").options
