"""Serve fixtures: the tiny random Llama with the real SmolLM2 tokenizer (tests/train/conftest.py), registered in
a workspace, and the API app over it run by uvicorn in a thread on 127.0.0.1 (a real HTTP server)."""
import threading
import time
from types import SimpleNamespace

import pytest

from tests.train.conftest import (smol_tokenizer_folder, stop_jobs, tiny_lm, tiny_model,  # noqa: F401  (fixtures)
                                  tokenizer)
from workbench import models
from workbench.workspace import Workspace


@pytest.fixture(scope="module")
def serve_ws(tmp_path_factory, tiny_lm):
    """(workspace, model id) with the tiny model registered."""
    ws = Workspace(tmp_path_factory.mktemp("serve") / "workspace")
    yield ws, models.register_local(ws, tiny_lm, "tiny llama").id
    stop_jobs(ws)


def run_uvicorn(app):
    """(server, thread, base URL): uvicorn serving `app` on a free 127.0.0.1 port, started."""
    import uvicorn

    from workbench.serve.jobs import base_url, bind

    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    assert server.started
    return server, thread, base_url("127.0.0.1", sock.getsockname()[1])


@pytest.fixture(scope="module")
def api(serve_ws):
    """The app over the tiny model: url, key, model id, engine (uvicorn in a thread)."""
    from workbench.serve.app import create_app
    from workbench.serve.engine import TransformersEngine
    from workbench.serve.keys import new_key

    ws, model_id = serve_ws
    with pytest.MonkeyPatch.context() as patch:  # fp32: the answers are compared with a plain fp32 generate
        patch.setenv("WORKBENCH_CPU_BF16", "0")
        engine = TransformersEngine(ws, model_id)
    key, digest = new_key()
    server, thread, url = run_uvicorn(create_app(engine, digest))
    yield SimpleNamespace(url=url, key=key, model=model_id, engine=engine)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def client(api):
    import openai

    with openai.OpenAI(base_url=api.url, api_key=api.key, max_retries=0, timeout=60) as client:
        yield client
