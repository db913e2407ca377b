"""The Jobs page while a job is stopping: "cancelling…" from the click until the job has stopped."""
from tests.llm.conftest import answer
from tests.pages.conftest import no_errors, page
from tests.waiting import wait_for
from workbench import jobs
from workbench.llm import Endpoint, save_endpoint
from workbench.llm.jobs import write_items


def test_a_cancelled_job_shows_cancelling_until_it_stops(app_env, scripted, tmp_path):
    """A job whose request in flight takes 30 s: after Cancel the table and the card say "cancelling…" and the
    Cancel button is disabled (the click was taken); a second cancel stops it."""
    scripted.replies = [(*answer("late")[:3], 30)]
    save_endpoint(app_env, Endpoint("scripted", base_url=scripted.base_url, model="m", max_concurrency=1,
                                    max_retries=0, timeout_s=60))
    items = [{"key": f"k{i}", "messages": [{"role": "user", "content": f"item {i}"}]} for i in range(3)]
    path = write_items(tmp_path / "items.jsonl", items)
    job_id = jobs.start(app_env, "llm_batch", {"endpoint": "scripted", "items": str(path)}, "items")
    wait_for(lambda: len(scripted.requests) == 1, timeout=30)
    at = page("jobs").run()
    no_errors(at)
    assert not at.button(key=f"page_cancel_{job_id}").disabled
    assert at.dataframe[0].value["message"].tolist() == ["0 / 3 rows"]  # the count before the first answer
    at.button(key=f"page_cancel_{job_id}").click().run()
    no_errors(at)
    assert jobs.get(app_env, job_id).state == "running"
    assert at.dataframe[0].value["state"].tolist() == ["cancelling…"]
    assert any("cancelling…" in bar.proto.text for bar in at.get("progress")), [b.proto.text for b in at.get("progress")]
    assert at.button(key=f"page_cancel_{job_id}").disabled
    at.session_state["lang"] = "zh"
    at.run()
    assert at.dataframe[0].value["state"].tolist() == ["正在取消…"]
    assert at.dataframe[0].value["message"].tolist() == ["已完成 0/3 行"]
    jobs.cancel(app_env, job_id)
    assert jobs.wait(app_env, job_id, timeout=10).state == "cancelled"
