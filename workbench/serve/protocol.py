"""The OpenAI chat-completions wire format: the request we accept, the answers and stream chunks we send.

Only what chat clients use; unknown fields (presence_penalty, user, ...) are accepted and ignored, as
OpenAI-compatible servers commonly do. Sampling defaults follow OpenAI (temperature 1, top_p 1).
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..llm.types import Completion, GenerationParams

DEFAULT_MAX_TOKENS = 512
MAX_TOKENS_LIMIT = 32_768


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart]

    def as_chat(self) -> dict:
        """The message as a chat-template entry ("developer" is OpenAI's newer name for "system")."""
        text = self.content if isinstance(self.content, str) else "".join(part.text for part in self.content)
        return {"role": "system" if self.role == "developer" else self.role, "content": text}


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str | None = None
    messages: list[Message] = Field(min_length=1)
    temperature: float = Field(1.0, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    max_tokens: int | None = Field(None, ge=1, le=MAX_TOKENS_LIMIT)
    max_completion_tokens: int | None = Field(None, ge=1, le=MAX_TOKENS_LIMIT)
    seed: int | None = None
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(1, ge=1, le=1, description="only one choice per request")

    @field_validator("stop")
    @classmethod
    def _stop_list(cls, value):
        stops = [value] if isinstance(value, str) else list(value or [])
        if len(stops) > 4 or any(not s for s in stops):
            raise ValueError("stop: up to 4 non-empty strings / stop 最多 4 个非空字符串")
        return stops

    def chat_messages(self) -> list[dict]:
        return [message.as_chat() for message in self.messages]

    def params(self) -> GenerationParams:
        limit = self.max_completion_tokens or self.max_tokens or DEFAULT_MAX_TOKENS
        return GenerationParams(max_new_tokens=limit, temperature=self.temperature, top_p=self.top_p,
                                stop=tuple(self.stop or ()), seed=self.seed)

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


def error_body(message: str, kind: str = "invalid_request_error", param: str | None = None,
               code: str | None = None) -> dict:
    """OpenAI's error shape, which the `openai` client turns into its typed exceptions."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def validation_message(errors: list[dict]) -> tuple[str, str | None]:
    """(readable message, first offending field) from pydantic/FastAPI validation errors."""
    parts, first = [], None
    for error in errors[:5]:
        if error.get("type") == "json_invalid":  # its location is a character offset, not a field
            detail = (error.get("ctx") or {}).get("error", "")
            parts.append(f"body: not valid JSON ({detail}) / 请求体不是有效的 JSON")
            continue
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        first = first or location or None
        parts.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return "Invalid request / 请求无效: " + "; ".join(parts), first


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def usage(completion: Completion) -> dict:
    prompt, answer = completion.prompt_tokens or 0, completion.completion_tokens or 0
    return {"prompt_tokens": prompt, "completion_tokens": answer, "total_tokens": prompt + answer}


def completion_body(completion: Completion, model: str) -> dict:
    return {"id": completion_id(), "object": "chat.completion", "created": int(time.time()), "model": model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": completion.text},
                         "logprobs": None, "finish_reason": completion.finish_reason}],
            "usage": usage(completion)}


class ChunkWriter:
    """Server-sent events of one streamed answer, chunk by chunk as OpenAI sends them."""

    def __init__(self, model: str, include_usage: bool):
        self.model, self.include_usage = model, include_usage
        self.id, self.created = completion_id(), int(time.time())

    def _event(self, choices: list, usage_value=None) -> str:
        chunk = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                 "system_fingerprint": None, "choices": choices}
        if self.include_usage:
            chunk["usage"] = usage_value
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    def delta(self, delta: dict, finish_reason: str | None = None) -> str:
        return self._event([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}])

    def usage(self, completion: Completion) -> str:
        return self._event([], usage(completion))

    @staticmethod
    def error(message: str) -> str:
        return f"data: {json.dumps(error_body(message, 'server_error'), ensure_ascii=False)}\n\n"

    DONE = "data: [DONE]\n\n"
