"""A scripted OpenAI-compatible server on 127.0.0.1 (real HTTP) and a tiny local model."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Script:
    """Replies in order (the last one repeats); each is (status, body, headers, delay_s).

    A body that is a dict is sent as JSON; a str is sent as is (e.g. broken JSON). A callable gets the
    request's JSON and returns a reply tuple. Requests (headers + JSON) are recorded.
    """

    def __init__(self):
        self.replies, self.requests, self.in_flight, self.max_in_flight = [], [], 0, 0
        self.lock = threading.Lock()

    def next_reply(self, request):
        with self.lock:
            reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return reply(request) if callable(reply) else reply


def answer(text, model="scripted"):
    return (200, {"id": "x", "object": "chat.completion", "created": 0, "model": model,
                  "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
                  "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}, {}, 0)


@pytest.fixture
def scripted():
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            with script.lock:
                script.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "json": body})
                script.in_flight += 1
                script.max_in_flight = max(script.max_in_flight, script.in_flight)
            counted = True

            def finished():  # before the answer goes out: the client may send its next request as soon as it has it
                nonlocal counted
                with script.lock:
                    script.in_flight -= counted
                    counted = False

            try:
                status, payload, headers, delay = script.next_reply(body)
                time.sleep(delay)
                data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
                data = data.encode("utf-8")
                finished()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                finished()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield script
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A workspace with a registered tiny random llama GGUF (ChatML template), converted once."""
    from tests.test_models import write_tiny_gguf
    from workbench.models import converted_model_folder, register_local
    from workbench.workspace import Workspace

    ws = Workspace(tmp_path_factory.mktemp("llm") / "workspace")
    path = tmp_path_factory.mktemp("gguf") / "tiny.gguf"
    write_tiny_gguf(path)
    spec = register_local(ws, path, "tiny")
    converted_model_folder(ws, spec)
    return ws, spec.id
