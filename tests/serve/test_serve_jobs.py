"""Serving as a background job (the real worker process): start, call with the `openai` client, stop; the key
exists only as its hash; a taken port or a broken model is a clear error; the `serve` CLI, where a killed server
shows as interrupted and restarts with the same key and URL."""
import os
import shutil
import signal
import socket
import time
from urllib.parse import urlparse

import openai
import pytest

from workbench import jobs, models
from workbench.cli import main
from workbench.serve import ServeError, list_servers, start_server, stop_server
from workbench.serve.keys import key_hash

MESSAGES = [{"role": "user", "content": "Say hello."}]


def ask(url, key, model, **options):
    with openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=60) as client:
        return client.chat.completions.create(model=model, messages=MESSAGES, temperature=0, max_tokens=8, **options)


def port_open(url) -> bool:
    try:
        socket.create_connection(("127.0.0.1", urlparse(url).port), timeout=2).close()
        return True
    except OSError:
        return False


def test_start_call_stop_through_the_real_job(serve_ws):
    ws, model_id = serve_ws
    job_id, key, url = start_server(ws, model_id)
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        answer = ask(url, key, model_id)
        assert answer.model == model_id and answer.usage.completion_tokens > 0
        with openai.OpenAI(base_url=url, api_key=key, max_retries=0) as client:
            chunks = client.chat.completions.create(model=model_id, messages=MESSAGES, temperature=0, max_tokens=8,
                                                    stream=True)
            assert "".join(c.choices[0].delta.content or "" for c in chunks) == answer.choices[0].message.content
        with pytest.raises(openai.AuthenticationError):
            ask(url, "wb-wrong", model_id)
        [server] = [s for s in list_servers(ws) if s.job_id == job_id]
        assert (server.state, server.base_url, server.model, server.engine) == ("running", url, model_id,
                                                                                "transformers")
        info = jobs.get(ws, job_id)
        assert info.params["key_sha256"] == key_hash(key) and "serving at" in info.message
        files = [p for p in ws.root.rglob("*") if p.is_file()]
        assert any(p.name == "log.txt" for p in files) and any(p.name == "server.json" for p in files)
        assert not [p for p in files if key.encode() in p.read_bytes()]  # log, params, catalog: only the hash
    finally:
        stopped = stop_server(ws, job_id)
    assert stopped.state == "cancelled", stopped.log_tail()
    assert not port_open(url)
    assert [s.state for s in list_servers(ws) if s.job_id == job_id] == ["cancelled"]


def test_a_taken_port_fails_with_a_clear_error(serve_ws):
    ws, model_id = serve_ws
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match=f"Port {port} is already in use"):
            start_server(ws, model_id, port=port)
    assert list_servers(ws)[0].state == "failed"


def test_a_model_that_cannot_load_fails_with_its_reason(serve_ws, tiny_lm, tmp_path):
    ws, _ = serve_ws
    broken = tmp_path / "broken"
    shutil.copytree(tiny_lm, broken)
    (broken / "model.safetensors").write_bytes(b"not weights")
    spec = models.register_local(ws, broken, "broken")
    with pytest.raises(ServeError, match="did not start") as caught:
        start_server(ws, spec.id)
    assert "safetensors" in str(caught.value).lower() or "header" in str(caught.value).lower(), caught.value
    with pytest.raises(models.ModelError):
        start_server(ws, "no-such-model")  # refused before any process starts


def test_the_serve_cli_starts_lists_restarts_a_killed_server_with_the_same_key_and_stops(serve_ws, capsys):
    ws, model_id = serve_ws
    root = str(ws.root)
    assert main(["--workspace", root, "serve", model_id, "--port", "0", "--detach"]) == 0
    out = capsys.readouterr().out
    key = next(line.split("=", 1)[1] for line in out.splitlines() if "export WORKBENCH_API_KEY=" in line)
    url = next(word for word in out.split() if word.startswith("http://127.0.0.1:") and word.endswith("/v1"))
    job_id = next(s.job_id for s in list_servers(ws) if s.state == "running")
    assert out.count(key) == 1 and f"curl {url}/chat/completions" in out
    try:
        assert ask(url, key, model_id).usage.completion_tokens > 0
        assert main(["--workspace", root, "serve", "list"]) == 0
        assert f"{job_id}  running     {model_id}  {url}" in capsys.readouterr().out

        os.kill(jobs.get(ws, job_id).pid, signal.SIGKILL)  # as if the machine had restarted
        deadline = time.time() + 30
        while jobs.mark_dead_jobs(ws) == 0 and time.time() < deadline:
            time.sleep(0.2)
        assert [s.state for s in list_servers(ws) if s.job_id == job_id] == ["interrupted"]
        assert main(["--workspace", root, "serve", "restart", job_id]) == 0
        assert f"serving again at {url}" in capsys.readouterr().out  # the same port: clients keep their URL
        assert ask(url, key, model_id).choices[0].message.role == "assistant"  # and their key
    finally:
        assert main(["--workspace", root, "serve", "stop", job_id]) == 0
    assert capsys.readouterr().out.strip() == "cancelled" and not port_open(url)
    assert main(["--workspace", root, "serve", "stop"]) == 2
