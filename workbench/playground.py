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
from .records import ALPACA_FIELDS, JSON_FIELDS, ROW_ID, SPLIT, SPLITS, load_json_field

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
    elif isinstance(backend, LocalBackend):  # whole characters only, as in a non-streamed answer
        from .llm.streaming import stream_local

        yield from stream_local(backend, messages, params)
    else:  # any other backend: one piece
        yield backend.complete(messages, params).text


def _stream_openai(backend: OpenAIBackend, messages: Messages, params: GenerationParams) -> Iterator[str]:
    stream = backend.create(messages, params, stream=True)
    with backend.mapped_errors():
        for chunk in stream:
            delta = chunk.choices[0].delta.content if chunk.choices else None
            if delta:
                yield delta


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


class AlreadySaved(ValueError):
    """The exchange is a row of the dataset's newest version already: saving it again would only repeat it."""

    def __init__(self, ref: str, row_id: int):
        self.ref, self.row_id = ref, row_id
        super().__init__(f"This exchange is already saved in {ref} (row _id {row_id}) / "
                         f"这段对话已保存在 {ref}（_id 为 {row_id} 的行）")


def split_choices(ws, dataset_id: str) -> tuple[str, ...]:
    """The splits a saved row can join: train/validation/test once the newest version is split, else none."""
    return SPLITS if SPLIT in ws.version(dataset_id).columns else ()


def save_exchange(ws, dataset_id: str, column: Column, split: str = "train",
                  params: GenerationParams | None = None):
    """Append the column's last exchange (its system prompt, earlier turns as history) to the newest version of
    a dataset, in `split` when the dataset is split; returns the new version. AlreadySaved if it holds the row."""
    from .data.edit import add_rows

    row = exchange_row(column)
    version = ws.version(dataset_id)
    table = ws.read(version)
    if "instruction" not in table.column_names or "output" not in table.column_names:
        raise ValueError(f"Dataset '{dataset_id}' is not in Alpaca form (instruction/output); map its fields first "
                         f"/ 数据集“{dataset_id}”不是 Alpaca 格式（instruction/output），请先映射字段")
    existing = saved_row_id(table, row)
    if existing is not None:
        raise AlreadySaved(version.ref, existing)
    table = with_alpaca_columns(table, [name for name in ("system", "history") if row[name]])
    if SPLIT in table.column_names:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)} / "
                             f"划分必须是 {'、'.join(SPLITS)} 之一: {split}")
        row[SPLIT] = split
    table = add_rows(table, [{k: v for k, v in row.items() if k in table.column_names}])
    return ws.commit_version(dataset_id, table, version.number, "add_rows",
                             saved_from(ws, column, row.get(SPLIT), params))


def saved_row_id(table, row: dict) -> int | None:
    """The `_id` of a row of `table` equal to `row` in every Alpaca field (missing = empty), else None."""
    import pyarrow.compute as pc

    candidates = table.filter(pc.and_(pc.equal(table.column("instruction"), row["instruction"]),
                                      pc.equal(table.column("output"), row["output"])))
    for stored in candidates.to_pylist():
        if all(_same(name, stored.get(name), row.get(name)) for name in ALPACA_FIELDS):
            return stored.get(ROW_ID)
    return None


def _same(name: str, stored, wanted) -> bool:
    if name in JSON_FIELDS:
        return [list(pair) for pair in load_json_field(stored)] == [list(pair) for pair in wanted or []]
    return (stored or "") == (wanted or "")


def with_alpaca_columns(table, names: list[str]):
    """The table with empty (null) text columns for the Alpaca fields it lacks, placed after its last one."""
    import pyarrow as pa

    for name in names:
        if name not in table.column_names:
            after = max(table.column_names.index(f) for f in ALPACA_FIELDS if f in table.column_names)
            table = table.add_column(after + 1, name, pa.nulls(table.num_rows, pa.string()))
    return table


def saved_from(ws, column: Column, split: str | None, params: GenerationParams | None) -> dict:
    """The new version's note: a row from the playground, which model and column, with what settings."""
    from .llm.endpoints import get_endpoint
    from .workspace import NotFoundError

    try:
        model = get_endpoint(ws, column.endpoint).model
    except NotFoundError:  # an endpoint deleted since: the note keeps its name
        model = None
    note = {"count": 1, "source": "playground", "endpoint": column.endpoint, "model": model,
            "system_prompt": column.system_prompt.strip(), "turns": sum(t["role"] == "user" for t in column.turns),
            "split": split}
    if params is not None:
        note.update(temperature=params.temperature, max_new_tokens=params.max_new_tokens, seed=params.seed)
    return note


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
