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


def slow_server(ws, scripted, delay, max_concurrency=1):
    def reply(request):
        return (*answer("done " + request["messages"][0]["content"])[:3], delay)

    scripted.replies = [reply]
    save_endpoint(ws, Endpoint("scripted", base_url=scripted.base_url, model="m", max_concurrency=max_concurrency,
                               max_retries=0, timeout_s=60))


def start_items(ws, tmp_path, count):
    items = [{"key": f"k{i}", "messages": [{"role": "user", "content": f"item {i}"}]} for i in range(count)]
    path = write_items(tmp_path / "items.jsonl", items)
    job_id = jobs.start(ws, "llm_batch", {"endpoint": "scripted", "items": str(path), "params": {"max_new_tokens": 8}})
    return job_id, ResultLog(ws.root / "jobs" / job_id / "results.jsonl")


def test_progress_moves_per_request_and_a_cancel_keeps_what_finished_and_stops_after_the_request_in_flight(
        ws, scripted, tmp_path):
    """Rounds are 4 requests (one at a time): the count moves at each request, not each round; a cancel takes
    effect after the request in flight (not at the round's end), "cancelling…" shows until then; the resumed
    attempt's message is its own and its running time adds to the first attempt's."""
    slow_server(ws, scripted, delay=0.6)
    job_id, results = start_items(ws, tmp_path, 12)
    info = wait_for(lambda: (i := jobs.get(ws, job_id)).total == 12 and i)
    assert info.done == 0 and info.message.startswith("0 / 12 rows")  # the total from the start
    info = wait_for(lambda: (i := jobs.get(ws, job_id)).done == 1 and i, timeout=20)  # mid-round
    assert info.message.startswith("1 / 12 rows") and len(results.done()) == 1
    jobs.cancel(ws, job_id)
    info = jobs.get(ws, job_id)
    assert info.state == "running" and info.cancelling  # the card says "cancelling…" at once
    info = jobs.wait(ws, job_id, timeout=20)
    assert info.state == "cancelled" and not info.cancelling
    assert len(results.done()) == 2 == info.done  # the one in flight finished and is kept; no third was sent
    assert len(scripted.requests) == 2
    first_attempt = info.ran_seconds
    assert first_attempt >= 1.0
    jobs.resume(ws, job_id)
    assert "cancel" not in jobs.get(ws, job_id).message  # the last attempt's "cancelled" no longer holds
    info = wait_for(lambda: (i := jobs.get(ws, job_id)).state == "running" and i.done >= 3 and i, timeout=20)
    assert "cancel" not in info.message and info.message.startswith(f"{info.done:g} / 12 rows")
    assert info.ran_seconds > first_attempt  # over both attempts, not restarted at the resume
    info = jobs.wait(ws, job_id)
    assert info.state == "succeeded" and info.result["ok"] == 12, info.log_tail()
    asked = [r["json"]["messages"][0]["content"] for r in scripted.requests]
    assert sorted(asked) == sorted(f"item {i}" for i in range(12))  # nothing asked twice
    assert info.ran_seconds >= first_attempt + 10 * 0.6
    assert "12 / 12 rows done; this round 2 ok, 0 failed" in info.log_tail(40)  # a line per round, with counts


def test_a_second_sigterm_stops_a_job_that_waits_on_a_request_at_once(ws, scripted, tmp_path):
    """SIGTERM from outside the app shows as "cancelling…"; the job waits for its request in flight (30 s here),
    and a second cancel stops its process at once; it ends cancelled, resumable."""
    import os
    import signal
    import time

    slow_server(ws, scripted, delay=30)
    job_id, _ = start_items(ws, tmp_path, 3)
    wait_for(lambda: len(scripted.requests) == 1, timeout=30)
    os.kill(jobs.get(ws, job_id).pid, signal.SIGTERM)  # e.g. `kill PID` in a shell
    assert wait_for(lambda: jobs.get(ws, job_id).cancelling, timeout=10)  # written by the job's heartbeat
    assert jobs.get(ws, job_id).state == "running"
    asked = time.time()
    assert jobs.cancel(ws, job_id)
    info = jobs.wait(ws, job_id, timeout=10)
    assert time.time() - asked < 5
    assert info.state == "cancelled" and info.resumable and len(scripted.requests) == 1


def test_the_local_backend_stops_generating_within_a_token_of_a_cancel(tiny_model):
    """Cancelled mid-batch, the local backend stops at the next token and leaves that batch unfinished (None, not
    recorded); the batch finished before the cancel is kept."""
    from workbench.llm import GenerationParams, LocalBackend, get_endpoint

    ws, model_id = tiny_model
    local = LocalBackend(ws, get_endpoint(ws, f"local:{model_id}"), batch_size=1)
    finished, asks = [], []

    def cancelled():
        if finished:
            asks.append(1)
        return len(asks) >= 2  # asked once before the second batch, then per token: true at its first token

    prompts = [[{"role": "user", "content": f"the {i}"}] for i in range(3)]
    results = local.complete_many(prompts, GenerationParams(max_new_tokens=200, temperature=1.0, seed=7),
                                  on_result=lambda index, result: finished.append(index), cancelled=cancelled)
    assert len(finished) == 1 and results[finished[0]] is not None
    assert [r for i, r in enumerate(results) if i != finished[0]] == [None, None]
    assert len(asks) == 3  # before the second batch, at its first token (stop), after generate (drop the batch)


def test_the_local_backend_reports_a_batch_on_its_way_token_by_token(tiny_model):
    """A batch's answers come back together; meanwhile `on_progress` moves (rows that ended count whole, the others
    by their share of max_new_tokens), never back, and reaches the batch's size only at its end."""
    from workbench.llm import GenerationParams, LocalBackend, get_endpoint

    ws, model_id = tiny_model
    local = LocalBackend(ws, get_endpoint(ws, f"local:{model_id}"), batch_size=3)
    seen, results_at = [], []
    prompts = [[{"role": "user", "content": f"the {i}"}] for i in range(3)]
    local.complete_many(prompts, GenerationParams(max_new_tokens=20, temperature=1.0, seed=7),
                        on_result=lambda index, result: results_at.append(len(seen)), on_progress=seen.append)
    assert results_at and min(results_at) >= 5  # the answers came after several reports
    assert seen == sorted(seen) and 0 < seen[0] < 3 and seen[-1] <= 3
    assert len({round(value, 6) for value in seen}) >= 5  # it moved, token by token
