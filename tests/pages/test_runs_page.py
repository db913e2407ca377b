"""The Runs page (AppTest): renders empty and with finished runs, compares several (settings that differ,
curves, final metrics), shows where a run's files are, and offers resume for a run whose job failed."""
from tests.pages.conftest import no_errors, page
from tests.pages.train_helpers import finished_run, qa_table
from workbench import jobs
from workbench.train.runs import set_job


def test_empty_workspace_points_to_the_train_page(app_env):
    at = page("runs").run()
    no_errors(at)
    assert any("No run yet" in i.value for i in at.info)


def test_two_runs_are_listed_and_compared(app_env):
    app_env.create_dataset("qa", qa_table())
    first = finished_run(app_env, "smollm2-135m-instruct", learning_rate=2e-4)
    second = finished_run(app_env, "smollm2-135m-instruct", learning_rate=1e-4, steps=6)
    at = page("runs").run()
    no_errors(at)
    listed = at.dataframe[0].value
    assert sorted(listed["id"]) == sorted([first.id, second.id])
    assert set(listed["state"]) == {"finished"} and set(listed["dataset"]) == {"qa@1"}  # shown in the user's words
    assert sorted(listed["steps"]) == [4, 6] and set(listed["eval_loss"]) == {2.1}
    assert set(at.multiselect(key="runs_compare").value) == {first.id, second.id}
    final = at.dataframe[1].value
    assert len(final) == 2 and set(final["tokens_per_s"]) == {250.0}
    diff = at.dataframe[2].value.set_index("knob")
    assert {"learning_rate", "max_steps"} <= set(diff.index)  # the names are the same minute: ids tell them apart
    assert sorted(diff.loc["learning_rate"].tolist()) == ["0.0001", "0.0002"]
    codes = [c.value for c in at.code]
    detail = at.selectbox(key="runs_detail").value
    assert f"run-{detail}" in codes and any(c.endswith(f"{detail}/adapter") for c in codes)
    assert any("lora_rank: 8" in c for c in codes)  # the run's config YAML


def test_one_run_selected_asks_for_a_second_to_diff(app_env):
    app_env.create_dataset("qa", qa_table())
    run = finished_run(app_env, "smollm2-135m-instruct")
    at = page("runs").run()
    no_errors(at)
    assert at.multiselect(key="runs_compare").value == [run.id]
    assert any("Pick two or more runs" in c.value for c in at.caption)


def test_a_run_whose_job_failed_can_be_resumed_from_the_page(app_env):
    app_env.create_dataset("qa", qa_table())
    run = finished_run(app_env, "smollm2-135m-instruct", state="running")
    job_id = jobs.start(app_env, "train", {"run_id": "no-such-run"}, title="Train broken")
    set_job(app_env, run.id, job_id)
    assert jobs.wait(app_env, job_id, timeout=120).state == "failed"
    at = page("runs").run()
    no_errors(at)
    assert at.dataframe[0].value["state"].tolist() == ["failed"]
    at.button(key=f"runs_resume_{job_id}").click().run()
    no_errors(at)
    assert "_resumed_from" in jobs.get(app_env, job_id).params  # started again
    assert jobs.wait(app_env, job_id, timeout=120).attempts == 2
