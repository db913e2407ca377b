"""`llm_batch` as a real background process against a real HTTP server: cancel, resume, nothing twice."""

from tests.llm.conftest import answer
from tests.waiting import wait_for
from workbench import jobs
from workbench.llm import Endpoint, save_endpoint
from workbench.llm.batch import ResultLog
from workbench.llm.jobs import write_items


def test_cancel_then_resume_finishes_every_item_exactly_once(ws, scripted, tmp_path):
    def reply(request):
        text = request["messages"][0]["content"]
        if text == "item 7":
            return (500, {"error": {"message": "always broken"}}, {}, 0)
        return (*answer(f"done {text}")[:3], 0.1)

    scripted.replies = [reply]
    save_endpoint(ws, Endpoint("scripted", base_url=scripted.base_url, model="m", max_concurrency=2, max_retries=1))
    items = [{"key": f"k{i}", "messages": [{"role": "user", "content": f"item {i}"}]} for i in range(40)]
    path = write_items(tmp_path / "items.jsonl", items)
    job_id = jobs.start(ws, "llm_batch", {"endpoint": "scripted", "items": str(path), "params": {"max_new_tokens": 8}})
    results = ResultLog(ws.root / "jobs" / job_id / "results.jsonl")
    wait_for(lambda: len(results.done()) >= 10)
    jobs.cancel(ws, job_id)
    info = jobs.wait(ws, job_id)
    assert info.state == "cancelled" and info.resumable
    partial = len(results.done())
    assert 10 <= partial < 40
    jobs.resume(ws, job_id)
    info = jobs.wait(ws, job_id)
    assert info.state == "succeeded", info.log_tail()
    done = results.done()
    assert sorted(done) == sorted(item["key"] for item in items)
    assert done["k3"]["text"] == "done item 3" and not done["k7"]["ok"] and done["k7"]["error_kind"] == "server"
    asked = [r["json"]["messages"][0]["content"] for r in scripted.requests]
    assert sorted(set(asked)) == sorted(f"item {i}" for i in range(40))
    assert all(asked.count(f"item {i}") == 1 for i in range(40) if i != 7)  # nothing generated twice
    assert asked.count("item 7") == 2  # its one retry, and not again on resume
    assert info.result["ok"] == 39 and info.result["failed"] == 1
    assert "already done" in info.log_tail()


def test_a_torn_last_line_is_ignored_and_that_item_runs_again(tmp_path):
    log = ResultLog(tmp_path / "results.jsonl")
    log.append([{"key": "a", "ok": True, "text": "x"}])
    with open(log.path, "ab") as handle:
        handle.write(b'{"key": "b", "ok": tr')
    assert list(log.done()) == ["a"]
    log.append([{"key": "b", "ok": True, "text": "y"}])
    assert log.done()["b"]["text"] == "y" and len(log.done()) == 2
