"""Serve any backend (e.g. a local model) as an OpenAI-compatible chat-completions endpoint.

    python -m workbench llm serve local:smollm2-135m-instruct --port 8000   # then base URL http://127.0.0.1:8000/v1

Binds to 127.0.0.1 unless told otherwise. Only what chat clients need: GET /v1/models and
POST /v1/chat/completions (no streaming).
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .types import Completion, GenerationParams, LLMError

MAX_BODY_BYTES = 4 << 20


class Server(ThreadingHTTPServer):
    # listen() backlog: the default 5 drops connects when a client keeps more requests in flight (each
    # dropped connect costs a 1 s SYN retry or a connection error), so N-way concurrency would stall
    request_queue_size = 1024


def make_server(backend, host: str = "127.0.0.1", port: int = 0, model_name: str | None = None) -> Server:
    name = model_name or backend.endpoint.model

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet; requests may hold user text
            pass

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "workbench"}]})
            else:
                self._send(404, {"error": {"message": "not found", "type": "not_found"}})

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._send(404, {"error": {"message": "not found", "type": "not_found"}})
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY_BYTES:
                return self._send(413, {"error": {"message": "request too large", "type": "invalid_request_error"}})
            try:
                body = json.loads(self.rfile.read(length))
                messages = body["messages"]
                params = GenerationParams(max_new_tokens=int(body.get("max_tokens") or 256),
                                          temperature=float(body.get("temperature") or 0.0),
                                          top_p=float(body.get("top_p") or 1.0),
                                          stop=tuple(body.get("stop") or ()), seed=body.get("seed"))
            except (ValueError, KeyError, TypeError) as error:
                return self._send(400, {"error": {"message": f"bad request: {error}", "type": "invalid_request_error"}})
            try:
                completion = backend.complete(messages, params)
            except LLMError as error:
                if error.kind != "empty":
                    return self._send(500, {"error": {"message": str(error), "type": error.kind}})
                completion = Completion("", name, "stop")  # an empty answer is an answer; the client decides

            self._send(200, {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion", "created": int(time.time()),
                "model": name, "choices": [{"index": 0, "finish_reason": completion.finish_reason,
                                            "message": {"role": "assistant", "content": completion.text}}],
                "usage": {"prompt_tokens": completion.prompt_tokens or 0,
                          "completion_tokens": completion.completion_tokens or 0,
                          "total_tokens": (completion.prompt_tokens or 0) + (completion.completion_tokens or 0)}})

        def _send(self, status: int, payload: dict) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Server((host, port), Handler)


def serve_in_thread(backend, host: str = "127.0.0.1", port: int = 0) -> tuple[Server, str]:
    """Start the server in a daemon thread; returns it and its base URL (`server.shutdown()` stops it)."""
    server = make_server(backend, host, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}/v1"
