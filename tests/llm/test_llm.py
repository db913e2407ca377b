"""The LLM client against a real HTTP server on 127.0.0.1 (scripted replies) and a real tiny local model."""
import socket
import threading
import time

import pytest

from tests.llm.conftest import answer
from workbench.llm import (Endpoint, GenerationParams, LLMError, LocalBackend, OpenAIBackend, api_key,
                           delete_endpoint, get_endpoint, list_endpoints, parse_json_answer, save_api_key,
                           save_endpoint, test_connection)
from workbench.llm.server import serve_in_thread

HELLO = [{"role": "user", "content": "你好"}]


def backend(script, secrets=None, **overrides):
    endpoint = Endpoint("scripted", base_url=script.base_url, model="m", **{"max_retries": 2, "timeout_s": 5, **overrides})
    slept = []
    return OpenAIBackend(endpoint, secrets=secrets, sleep=slept.append), slept


def test_a_completion_comes_back_with_usage(scripted):
    scripted.replies = [answer("你好，我是助手。")]
    client, _ = backend(scripted)
    completion = client.complete(HELLO, GenerationParams(max_new_tokens=16, temperature=0.5))
    assert completion.text == "你好，我是助手。" and completion.attempts == 1
    assert (completion.prompt_tokens, completion.completion_tokens) == (5, 2)
    sent = scripted.requests[0]["json"]
    assert sent["messages"] == HELLO and sent["max_tokens"] == 16 and sent["temperature"] == 0.5


def test_429_is_retried_after_the_servers_retry_after(scripted):
    scripted.replies = [(429, {"error": {"message": "slow down"}}, {"retry-after": "3"}, 0), answer("ok")]
    client, slept = backend(scripted)
    completion = client.complete(HELLO)
    assert completion.text == "ok" and completion.attempts == 2 and slept == [3.0]


def test_5xx_is_retried_with_backoff_then_the_row_fails(scripted):
    scripted.replies = [(503, {"error": {"message": "overloaded"}}, {}, 0)]
    client, slept = backend(scripted)
    with pytest.raises(LLMError) as caught:
        client.complete(HELLO)
    assert caught.value.kind == "server" and caught.value.attempts == 3 and len(scripted.requests) == 3
    assert len(slept) == 2 and slept[0] <= 0.5 and slept[1] <= 1.0 and all(s > 0 for s in slept)
    assert "HTTP 503" in str(caught.value) and "接口内部错误" in str(caught.value)


@pytest.mark.parametrize("reply, kind", [
    ((200, "{not json", {}, 0), "bad_response"),
    ((200, {"object": "chat.completion", "choices": []}, {}, 0), "bad_response"),
    (answer("   "), "empty"),
])
def test_invalid_or_empty_answers_are_retried_then_fail(scripted, reply, kind):
    scripted.replies = [reply]
    client, _ = backend(scripted, max_retries=1)
    with pytest.raises(LLMError) as caught:
        client.complete(HELLO)
    assert caught.value.kind == kind and len(scripted.requests) == 2


def test_an_endpoint_that_is_down_is_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    client = OpenAIBackend(Endpoint("down", base_url=f"http://127.0.0.1:{port}/v1", model="m", max_retries=1),
                           sleep=lambda s: None)
    with pytest.raises(LLMError) as caught:
        client.complete(HELLO)
    assert caught.value.kind == "unreachable" and caught.value.attempts == 2


def test_a_slow_endpoint_times_out(scripted):
    scripted.replies = [(*answer("late")[:3], 3)]
    client, _ = backend(scripted, timeout_s=0.5, max_retries=0)
    started = time.perf_counter()
    with pytest.raises(LLMError) as caught:
        client.complete(HELLO)
    assert caught.value.kind == "timeout" and time.perf_counter() - started < 2.5


def test_a_refused_key_is_not_retried_and_never_shown(scripted, tmp_path):
    secrets = tmp_path / "secrets.toml"
    save_api_key("scripted", "sk-secret-123456", secrets)
    scripted.replies = [(401, {"error": {"message": "bad key sk-secret-123456"}}, {}, 0)]
    client, _ = backend(scripted, secrets=secrets)
    with pytest.raises(LLMError) as caught:
        client.complete(HELLO)
    assert caught.value.kind == "auth" and len(scripted.requests) == 1
    assert scripted.requests[0]["headers"]["authorization"] == "Bearer sk-secret-123456"
    assert "sk-secret" not in str(caught.value) and "***" in str(caught.value)


def test_many_requests_respect_the_concurrency_limit_and_one_bad_row_does_not_stop_the_rest(scripted):
    def reply(request):
        text = request["messages"][0]["content"]
        return (500, {"error": {"message": "boom"}}, {}, 0.05) if text == "row 4" else (*answer(f"re: {text}")[:3], 0.15)

    scripted.replies = [reply]
    client, _ = backend(scripted, max_concurrency=3, max_retries=1)
    done = []
    results = client.complete_many([[{"role": "user", "content": f"row {i}"}] for i in range(9)],
                                   on_result=lambda i, r: done.append(i))
    assert scripted.max_in_flight == 3
    assert [r.text for i, r in enumerate(results) if i != 4] == [f"re: row {i}" for i in range(9) if i != 4]
    assert isinstance(results[4], LLMError) and results[4].kind == "server"
    assert sorted(done) == list(range(9))


def test_cancelling_stops_before_the_remaining_requests(scripted):
    scripted.replies = [(*answer("ok")[:3], 0.05)]
    client, _ = backend(scripted, max_concurrency=1)
    stop = threading.Event()
    results = client.complete_many([HELLO] * 10, on_result=lambda i, r: stop.set() if i == 1 else None,
                                   cancelled=stop.is_set)
    assert sum(r is not None for r in results) == 2 and len(scripted.requests) == 2


def test_n_requests_in_flight_finish_in_waves_not_one_after_another(scripted):
    scripted.replies = [(*answer("ok")[:3], 0.3)]
    client, _ = backend(scripted, max_concurrency=4, max_retries=0)
    started = time.perf_counter()
    results = client.complete_many([HELLO] * 8)
    seconds = time.perf_counter() - started
    assert all(r.text == "ok" for r in results) and scripted.max_in_flight == 4
    assert seconds < 1.2, seconds  # two waves of 0.3 s; one at a time would take 2.4 s


def test_our_server_takes_a_burst_of_connections_without_dropping_any():
    from workbench.llm import Completion

    class Slow:  # a backend that answers after 0.3 s
        endpoint = Endpoint("slow", base_url="http://127.0.0.1/v1", model="slow")

        def complete(self, messages, params):
            time.sleep(0.3)
            return Completion("ok", "slow", "stop")

    server, base_url = serve_in_thread(Slow())
    try:
        client = OpenAIBackend(Endpoint("burst", base_url=base_url, model="slow", max_concurrency=48, max_retries=0,
                                        timeout_s=10))
        started = time.perf_counter()
        results = client.complete_many([HELLO] * 144)
        seconds = time.perf_counter() - started
        assert [getattr(r, "text", r) for r in results] == ["ok"] * 144
        # three waves of 0.3 s (0.9 s); a dropped connect is retried by TCP only after 1 s (>= 1.9 s)
        assert seconds < 1.8, seconds
    finally:
        server.shutdown()
        server.server_close()


# --- endpoints and keys ---------------------------------------------------------------------------------
def test_endpoints_are_saved_listed_and_refused_when_invalid(ws):
    save_endpoint(ws, Endpoint("deepseek", base_url="https://api.example.com/v1", model="chat", max_concurrency=8))
    names = [e.name for e in list_endpoints(ws)]
    assert names[0] == "deepseek" and "local:smollm2-135m-instruct" in names
    assert get_endpoint(ws, "deepseek").max_concurrency == 8
    assert get_endpoint(ws, "local:smollm2-135m-instruct").kind == "local"
    with pytest.raises(ValueError) as caught:
        Endpoint("bad name!", base_url="ftp://x", model="")
    assert "http://" in str(caught.value) and "接口地址" in str(caught.value) and "模型" in str(caught.value)
    assert delete_endpoint(ws, "deepseek") and not delete_endpoint(ws, "deepseek")
    with pytest.raises(KeyError):
        get_endpoint(ws, "deepseek")
    assert "sk-" not in (ws.root / "settings" / "llm_endpoints.json").read_text(encoding="utf-8")


def test_keys_live_in_secrets_toml_or_env_and_other_secrets_are_kept(tmp_path, monkeypatch):
    secrets = tmp_path / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text('# mine\nother = "keep me"\n', encoding="utf-8")
    endpoint = Endpoint("api.v1", base_url="https://x/v1", model="m", api_key_env="MY_LLM_KEY")
    save_api_key("api.v1", "first", secrets)
    save_api_key("second", "two", secrets)
    save_api_key("api.v1", 'new "quoted" key', secrets)
    text = secrets.read_text(encoding="utf-8")
    assert text.startswith('# mine\nother = "keep me"') and "first" not in text
    monkeypatch.delenv("MY_LLM_KEY", raising=False)
    assert api_key(endpoint, secrets) == 'new "quoted" key'
    monkeypatch.setenv("MY_LLM_KEY", "from-env")
    assert api_key(endpoint, secrets) == "from-env"
    assert (secrets.stat().st_mode & 0o777) == 0o600


def test_test_connection_reports_success_or_the_located_failure(ws, scripted):
    save_endpoint(ws, Endpoint("scripted", base_url=scripted.base_url, model="m", max_retries=0))
    scripted.replies = [answer("ok")]
    assert test_connection(ws, "scripted").text == "ok"
    scripted.replies = [(404, {"error": {"message": "model m does not exist"}}, {}, 0)]
    with pytest.raises(LLMError) as caught:
        test_connection(ws, "scripted")
    assert caught.value.kind == "not_found" and "404" in str(caught.value)


def test_json_answers_are_found_inside_chatter():
    assert parse_json_answer('好的：```json\n[{"q": "问", "a": "答"}]\n```') == [{"q": "问", "a": "答"}]
    assert parse_json_answer('Sure! {"score": 4} hope this helps') == {"score": 4}
    with pytest.raises(LLMError) as caught:
        parse_json_answer("no json here")
    assert caught.value.kind == "bad_response"


# --- the local backend, directly and served over real HTTP ---------------------------------------------
def test_the_local_backend_generates_a_batch(tiny_model):
    ws, model_id = tiny_model
    local = LocalBackend(ws, get_endpoint(ws, f"local:{model_id}"))
    prompts = [[{"role": "user", "content": f"the {i}"}] for i in range(3)]
    sampled = GenerationParams(max_new_tokens=6, temperature=1.0, seed=7)
    results = local.complete_many(prompts, sampled)
    assert all(r.text.strip() and 0 < r.completion_tokens <= 6 and r.model == model_id for r in results)
    assert [r.text for r in local.complete_many(prompts, sampled)] == [r.text for r in results]  # seeded
    # greedy decoding of these random weights only emits newlines: a blank answer is an `empty` failure
    greedy = local.complete_many(prompts[:1], GenerationParams(max_new_tokens=4))[0]
    assert isinstance(greedy, LLMError) and greedy.kind == "empty"


def test_an_answer_cut_by_max_new_tokens_ends_in_whole_characters(tiny_model):
    ws, model_id = tiny_model
    local = LocalBackend(ws, get_endpoint(ws, f"local:{model_id}"))
    ids = local.tokenizer.encode("情感", add_special_tokens=False)  # byte-level: 3 tokens per character
    assert local.tokenizer.decode(ids[:4]) == "情\ufffd"
    cut = local._completion(ids[:4], 1, GenerationParams(max_new_tokens=4), 0.0)
    assert (cut.text, cut.finish_reason) == ("情", "length")
    assert local._completion(ids, 1, GenerationParams(max_new_tokens=6), 0.0).text == "情感"


def test_a_local_model_served_as_an_openai_endpoint_answers_the_openai_client(tiny_model):
    ws, model_id = tiny_model
    local = LocalBackend(ws, get_endpoint(ws, f"local:{model_id}"))
    server, base_url = serve_in_thread(local)
    try:
        endpoint = Endpoint("served", base_url=base_url, model=model_id, max_retries=0)
        remote = OpenAIBackend(endpoint)
        sampled = GenerationParams(max_new_tokens=5, temperature=1.0, seed=11)
        for prompt in (HELLO, [{"role": "user", "content": "the a the"}]):
            direct = local.complete(prompt, sampled)
            served = remote.complete(prompt, sampled)
            assert served.text == direct.text and served.model == model_id and served.completion_tokens == 5
        with pytest.raises(LLMError) as caught:  # blank answers travel as such and fail on the client
            remote.complete(HELLO, GenerationParams(max_new_tokens=4))
        assert caught.value.kind == "empty"
        assert len(remote._client.models.list().data) == 1
    finally:
        server.shutdown()


def test_the_llm_verbs_add_list_store_a_key_from_stdin_and_test(tmp_path, scripted):
    import os
    import subprocess
    import sys

    from tests.test_cli import ROOT

    env = {**os.environ, "WORKBENCH_SECRETS": str(tmp_path / "secrets.toml")}

    def run(*args, stdin=""):
        return subprocess.run([sys.executable, "-m", "workbench", "--workspace", str(tmp_path / "ws"), "llm", *args],
                              input=stdin, capture_output=True, text=True, cwd=ROOT, env=env)

    assert run("add", "s1", "--base-url", scripted.base_url, "--model", "m", "--retries", "0").returncode == 0
    assert run("key", "s1", stdin="sk-from-stdin\n").returncode == 0
    listed = run("list").stdout
    assert "s1\topenai" in listed and "key set" in listed and "sk-from-stdin" not in listed
    scripted.replies = [answer("pong")]
    tested = run("test", "s1")
    assert tested.returncode == 0 and "'pong'" in tested.stdout
    scripted.replies = [(503, {"error": {"message": "down"}}, {}, 0)]
    failed = run("chat", "s1", "hi")
    assert failed.returncode == 1 and "HTTP 503" in failed.stderr and "Traceback" not in failed.stderr
    bad = run("add", "s 2", "--base-url", "nope", "--model", "m")
    assert bad.returncode == 2 and "http://" in bad.stderr
