"""Try-out chat: up to four models answer the same prompt side by side, streamed; an exchange can be saved as a row.

Streaming is interactive (a person is watching), so it runs inside the page, not as a job; each column streams
in its own thread and `stream_side_by_side` merges the chunks in arrival order.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from .llm.backends import Backend, LocalBackend, Messages, OpenAIBackend
from .llm.types import GenerationParams, LLMError

MAX_COLUMNS = 4


@dataclass
class Column:
    """One model in the playground: its endpoint, its own system prompt and its side of the conversation."""

    endpoint: str
    system_prompt: str = ""
    turns: list[dict] = field(default_factory=list)   # user/assistant messages, without the system prompt

    def messages(self) -> Messages:
        system = [{"role": "system", "content": self.system_prompt}] if self.system_prompt.strip() else []
        return system + list(self.turns)


def check_columns(columns: Sequence[Column]) -> None:
    if not 1 <= len(columns) <= MAX_COLUMNS:
        raise ValueError(f"Pick 1 to {MAX_COLUMNS} models / 请选择 1 到 {MAX_COLUMNS} 个模型")


def stream_reply(backend: Backend, messages: Messages, params: GenerationParams) -> Iterator[str]:
    """Text pieces of one answer as the model produces them; raises LLMError on failure."""
    if isinstance(backend, OpenAIBackend):
        yield from _stream_openai(backend, messages, params)
    elif isinstance(backend, LocalBackend):
        yield from _stream_local(backend, messages, params)
    else:  # any other backend: one piece
        yield backend.complete(messages, params).text


def _stream_openai(backend: OpenAIBackend, messages: Messages, params: GenerationParams) -> Iterator[str]:
    stream = backend.create(messages, params, stream=True)
    with backend.mapped_errors():
        for chunk in stream:
            delta = chunk.choices[0].delta.content if chunk.choices else None
            if delta:
                yield delta


def _stream_local(backend: LocalBackend, messages: Messages, params: GenerationParams) -> Iterator[str]:
    import torch
    from transformers import TextIteratorStreamer

    tokenizer = backend.tokenizer
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    inputs = tokenizer([prompt], return_tensors="pt", add_special_tokens=False)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600)
    options = {"max_new_tokens": params.max_new_tokens, "pad_token_id": tokenizer.pad_token_id,
               "streamer": streamer, "do_sample": params.temperature > 0}
    if params.temperature > 0:
        options.update(temperature=params.temperature, top_p=params.top_p)
    else:
        options.update(temperature=None, top_p=None, top_k=None)
    failure: list[BaseException] = []

    def generate():
        try:
            with backend._lock, torch.no_grad():
                if params.seed is not None:
                    torch.manual_seed(params.seed)
                backend.model.generate(**inputs, **options)
        except Exception as error:  # noqa: BLE001 - reported to the reader below
            failure.append(error)
            streamer.on_finalized_text("", stream_end=True)

    thread = threading.Thread(target=generate, daemon=True)
    thread.start()
    for piece in streamer:
        if piece:
            yield piece
    thread.join()
    if failure:
        raise LLMError("model", f"{type(failure[0]).__name__}: {failure[0]}")


_DONE = object()


def stream_side_by_side(streams: Sequence[Iterator[str]]) -> Iterator[tuple[int, str | LLMError | None]]:
    """(column, piece) as pieces arrive from several streams at once; (column, None) when a column ends,
    (column, LLMError) when it fails (the others go on)."""
    inbox: queue.Queue = queue.Queue()

    def pump(index: int, stream: Iterator[str]) -> None:
        try:
            for piece in stream:
                inbox.put((index, piece))
        except LLMError as error:
            inbox.put((index, error))
        except Exception as error:  # noqa: BLE001 - one broken column must not take the others down
            inbox.put((index, LLMError("model", f"{type(error).__name__}: {error}")))
        inbox.put((index, _DONE))

    for index, stream in enumerate(streams):
        threading.Thread(target=pump, args=(index, stream), daemon=True).start()
    open_streams = len(streams)
    while open_streams:
        index, item = inbox.get()
        if item is _DONE:
            open_streams -= 1
            yield index, None
        else:
            yield index, item


def exchange_row(column: Column) -> dict:
    """The conversation so far as an Alpaca row: the last user turn and answer, earlier pairs as history."""
    pairs, pending = [], None
    for turn in column.turns:
        if turn["role"] == "user":
            pending = turn["content"]
        elif turn["role"] == "assistant" and pending is not None:
            pairs.append([pending, turn["content"]])
            pending = None
    if not pairs:
        raise ValueError("Nothing to save yet: ask something first / 还没有可保存的对话，请先提问")
    instruction, output = pairs[-1]
    return {"instruction": instruction, "input": "", "output": output, "system": column.system_prompt.strip(),
            "history": pairs[:-1]}


def save_exchange(ws, dataset_id: str, column: Column):
    """Append the exchange to the newest version of a dataset (a new version); returns that version."""
    from .data import operations

    row = exchange_row(column)
    version = ws.version(dataset_id)
    columns = set(ws.read(version).column_names)
    if "instruction" not in columns or "output" not in columns:
        raise ValueError(f"Dataset '{dataset_id}' is not in Alpaca form (instruction/output); map its fields first "
                         f"/ 数据集“{dataset_id}”不是 Alpaca 格式（instruction/output），请先映射字段")
    return operations.add_rows(ws, version, [{k: v for k, v in row.items() if k in columns}])


def model_to_prepare(ws, endpoint_name: str) -> str | None:
    """The model id a local endpoint must convert first (a background job on the Models page), else None."""
    from .llm.endpoints import get_endpoint
    from .models import needs_conversion, resolve

    endpoint = get_endpoint(ws, endpoint_name)
    if endpoint.kind != "local":
        return None
    spec = resolve(ws, endpoint.model)
    base = resolve(ws, spec.base) if getattr(spec, "base", None) else spec
    return base.id if needs_conversion(ws, base) else None
