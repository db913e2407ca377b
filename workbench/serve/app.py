"""The published API: an OpenAI-compatible FastAPI app over one engine (see engine.py).

    app = create_app(load_engine(ws, "run-<id>"), key_sha256)   # then uvicorn.run(app, host="127.0.0.1")

- POST /v1/chat/completions: non-streaming, or `stream: true` as server-sent events in OpenAI's chunk
  format ending with `data: [DONE]`; temperature, top_p, max_tokens / max_completion_tokens, seed, stop;
  usage counts (in a last chunk when `stream_options.include_usage`).
- GET /v1/models (and /v1/models/{id}): the one model served.
Every request needs `Authorization: Bearer <key>` (401 otherwise); bad requests get a 400 in OpenAI's
error shape, never a traceback. One generation runs at a time; other requests wait their turn.
"""
from __future__ import annotations

import time

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException

from ..llm.server import MAX_BODY_BYTES
from .engine import RequestError
from .keys import bearer_matches
from .protocol import ChatRequest, ChunkWriter, completion_body, error_body, validation_message


def error_response(status: int, message: str, kind: str = "invalid_request_error", param: str | None = None,
                   code: str | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, kind, param, code), status_code=status)


def create_app(engine, key_sha256: str, log=print) -> FastAPI:
    """The app serving `engine` (its `model_id` is the model name) to holders of the key hashed as given."""
    app = FastAPI(title="Workbench OpenAI-compatible API", docs_url=None, redoc_url=None, openapi_url=None)
    created = int(time.time())
    model_card = {"id": engine.model_id, "object": "model", "created": created, "owned_by": "workbench"}

    @app.middleware("http")
    async def require_key(request: Request, call_next):
        # Before anything reads the body: an unauthenticated caller learns nothing, not even a 400.
        if not bearer_matches(request.headers.get("authorization"), key_sha256):
            return error_response(401, "Incorrect or missing API key: send `Authorization: Bearer <key>` / "
                                       "API 密钥错误或缺失：请发送 `Authorization: Bearer <密钥>`",
                                  code="invalid_api_key")
        if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
            return error_response(413, f"Request larger than {MAX_BODY_BYTES >> 20} MB / 请求超过 "
                                       f"{MAX_BODY_BYTES >> 20} MB")
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError):
        message, param = validation_message(list(error.errors()))
        return error_response(400, message, param=param)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        kind = "not_found_error" if error.status_code == 404 else "invalid_request_error"
        return error_response(error.status_code, f"{error.detail}: {request.method} {request.url.path}", kind)

    @app.exception_handler(Exception)
    async def server_error(request: Request, error: Exception):
        log(f"request failed: {type(error).__name__}: {error}")  # no headers, no body: they hold the key and user text
        return error_response(500, f"The model failed: {type(error).__name__} / 模型运行失败", "server_error")

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [model_card]}

    @app.get("/v1/models/{model_id:path}")
    def model(model_id: str):
        if model_id != engine.model_id:
            return unknown_model(model_id)
        return model_card

    @app.post("/v1/chat/completions")
    def chat_completions(request: ChatRequest):
        if request.model and request.model != engine.model_id:
            return unknown_model(request.model)
        try:
            prepared = engine.prepare(request.chat_messages(), request.params())
        except RequestError as error:
            return error_response(400, str(error), param=error.param, code=error.code)
        except ValueError as error:  # GenerationParams' own checks
            return error_response(400, str(error))
        if request.stream:
            return StreamingResponse(sse_events(engine, prepared, request.include_usage, log),
                                     media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        return completion_body(engine.complete(prepared), engine.model_id)

    def unknown_model(name: str) -> JSONResponse:
        return error_response(404, f"The model '{name}' does not exist here; this server serves "
                                   f"'{engine.model_id}' / 此服务没有模型“{name}”，只提供“{engine.model_id}”",
                              "not_found_error", "model", "model_not_found")

    return app


def sse_events(engine, prepared, include_usage: bool, log=print):
    """The streamed answer as OpenAI's chunks: role first, content pieces, finish reason, [usage], [DONE]."""
    writer = ChunkWriter(engine.model_id, include_usage)
    yield writer.delta({"role": "assistant", "content": ""})
    stream = engine.stream(prepared)
    try:
        for piece in stream:
            yield writer.delta({"content": piece})
    except Exception as error:  # noqa: BLE001 - the status line is sent already: report it in the stream
        log(f"streaming failed: {type(error).__name__}: {error}")
        yield writer.error(f"The model failed: {type(error).__name__} / 模型运行失败")
        yield writer.DONE
        return
    yield writer.delta({}, stream.result.finish_reason)
    if include_usage:
        yield writer.usage(stream.result)
    yield writer.DONE
