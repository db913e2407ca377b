"""What every LLM backend takes and returns: chat messages in, a Completion or a located LLMError out."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import orjson

# kinds of failure; `retryable` ones are tried again with backoff before a row is marked failed
ERROR_KINDS = {
    "unreachable": ("The endpoint cannot be reached", "无法连接到接口", True),
    "timeout": ("The endpoint did not answer in time", "接口响应超时", True),
    "rate_limited": ("The endpoint is rate limiting (HTTP 429)", "接口限流（HTTP 429）", True),
    "server": ("The endpoint failed (HTTP 5xx)", "接口内部错误（HTTP 5xx）", True),
    "bad_response": ("The endpoint answered with something that is not a chat completion", "接口返回的不是有效的对话结果", True),
    "empty": ("The model returned an empty answer", "模型返回了空回答", True),
    "auth": ("The API key was refused (HTTP 401/403)", "API 密钥被拒绝（HTTP 401/403）", False),
    "not_found": ("The endpoint or model was not found (HTTP 404)", "找不到接口或模型（HTTP 404）", False),
    "bad_request": ("The endpoint refused the request (HTTP 4xx)", "接口拒绝了请求（HTTP 4xx）", False),
    "model": ("The local model could not run", "本地模型无法运行", False),
}


class LLMError(Exception):
    """A failed call, with a kind from ERROR_KINDS and a message in English and Chinese."""

    def __init__(self, kind: str, detail: str = "", attempts: int = 1):
        english, chinese, _ = ERROR_KINDS[kind]
        self.kind, self.detail, self.attempts = kind, detail, attempts
        tail = f": {detail}" if detail else ""
        super().__init__(f"{english}{tail} / {chinese}" + (f"（已尝试 {attempts} 次）" if attempts > 1 else ""))

    @property
    def retryable(self) -> bool:
        return ERROR_KINDS[self.kind][2]


@dataclass(frozen=True)
class GenerationParams:
    """Sampling knobs shared by both backends (temperature 0 = greedy)."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self):
        if self.max_new_tokens < 1:
            raise ValueError("max_new_tokens must be at least 1 / max_new_tokens 至少为 1")
        if not 0 <= self.temperature <= 2:
            raise ValueError("temperature must be between 0 and 2 / temperature 必须在 0 到 2 之间")
        if not 0 < self.top_p <= 1:
            raise ValueError("top_p must be in (0, 1] / top_p 必须在 (0, 1] 之间")


def sampling_options(params) -> dict:
    """`generate`'s options for `params`: sampled at its temperature and top_p, else greedy with the model's own
    sampling defaults switched off."""
    if params.temperature > 0:
        return {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p}
    return {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}


def without_cut_character(text: str) -> str:
    """An answer cut at max_new_tokens can end in the first byte-tokens of a Chinese character, which decode to
    U+FFFD: drop those, so the answer ends in whole characters ("情感：�" -> "情感：")."""
    return text.rstrip("\ufffd")


@dataclass
class Completion:
    text: str
    model: str
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    seconds: float = 0.0
    attempts: int = 1
    extra: dict = field(default_factory=dict)


def parse_json_answer(text: str):
    """The first JSON object/array in a model's answer (```json fences and chatter around it allowed)."""
    fenced = re.search(r"```(?:json)?\s*(.+?)```", text, re.S)
    candidates = [fenced.group(1)] if fenced else []
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = text.find(opener), text.rfind(closer)
        if start != -1 and end > start:
            candidates.append(text[start:end + 1])
    for candidate in candidates:
        try:
            return orjson.loads(candidate.strip())
        except orjson.JSONDecodeError:
            continue
    raise LLMError("bad_response", "no JSON found in the answer / 回答中没有 JSON")
