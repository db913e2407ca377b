"""Playground: streamed answers equal the batch answers, several columns stream at once, a failing column
does not stop the others, and an exchange becomes an Alpaca row in a new version."""
import json
import time

import pyarrow as pa
import pytest

from workbench.llm import backend_for
from workbench.llm.endpoints import Endpoint
from workbench.llm.types import GenerationParams, LLMError
from workbench.playground import (Column, check_columns, exchange_row, model_to_prepare, save_exchange,
                                  stream_reply, stream_side_by_side)

GREEDY = GenerationParams(max_new_tokens=12, temperature=0.0)


def sse_reply(pieces):
    chunks = [{"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
               "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]} for piece in pieces]
    body = "".join(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
    return 200, body, {}, 0


def test_local_streaming_gives_the_same_text_as_a_batch_answer(tiny_model):
    ws, model_id = tiny_model
    backend = backend_for(ws, f"local:{model_id}")
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there"}]
    pieces = list(stream_reply(backend, messages, GREEDY))
    prompt = backend.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    inputs = backend.tokenizer([prompt], return_tensors="pt", add_special_tokens=False)
    output = backend.model.generate(**inputs, max_new_tokens=12, do_sample=False,
                                    pad_token_id=backend.tokenizer.pad_token_id)
    expected = backend.tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert len(pieces) >= 1 and "".join(pieces) == expected


def test_endpoint_streaming_reads_the_pieces_in_order(scripted):
    scripted.replies = [sse_reply(["你好", "，", "我是", "甄嬛"])]
    backend = backend_for(None, Endpoint("s", "openai", base_url=scripted.base_url, model="m", max_retries=0))
    assert list(stream_reply(backend, [{"role": "user", "content": "你是谁"}], GREEDY)) == ["你好", "，", "我是", "甄嬛"]
    assert scripted.requests[0]["json"]["stream"] is True


def test_side_by_side_interleaves_columns_and_a_failure_stays_in_its_column():
    def slow(pieces, delay):
        for piece in pieces:
            time.sleep(delay)
            yield piece

    def broken():
        yield "half"
        raise LLMError("server", "HTTP 500")

    events = list(stream_side_by_side([slow("abc", 0.05), broken(), slow("xy", 0.01)]))
    texts = {0: "", 1: "", 2: ""}
    failures = {}
    for index, piece in events:
        if isinstance(piece, LLMError):
            failures[index] = piece
        elif piece is not None:
            texts[index] += piece
    assert texts == {0: "abc", 1: "half", 2: "xy"}
    assert list(failures) == [1] and failures[1].kind == "server"
    assert sorted(index for index, piece in events if piece is None) == [0, 1, 2]
    assert events.index((2, None)) < events.index((0, None)), "the fast column must not wait for the slow one"


def test_an_unreachable_endpoint_fails_its_stream_with_a_clear_error():
    backend = backend_for(None, Endpoint("down", "openai", base_url="http://127.0.0.1:9/v1", model="m",
                                         max_retries=0, timeout_s=2))
    with pytest.raises(LLMError) as error:
        list(stream_reply(backend, [{"role": "user", "content": "hi"}], GREEDY))
    assert error.value.kind == "unreachable" and "/" in str(error.value)


def test_an_exchange_becomes_an_alpaca_row_with_history_and_system():
    column = Column("local:x", "你是甄嬛。", [
        {"role": "user", "content": "你是谁？"}, {"role": "assistant", "content": "臣妾甄嬛。"},
        {"role": "user", "content": "今天做什么？"}, {"role": "assistant", "content": "去给皇后请安。"}])
    assert exchange_row(column) == {"instruction": "今天做什么？", "input": "", "output": "去给皇后请安。",
                                    "system": "你是甄嬛。", "history": [["你是谁？", "臣妾甄嬛。"]]}
    with pytest.raises(ValueError, match="ask something first"):
        exchange_row(Column("local:x", "", [{"role": "user", "content": "unanswered"}]))
    with pytest.raises(ValueError, match="1 to 4"):
        check_columns([Column(f"m{i}") for i in range(5)])


def test_saving_an_exchange_writes_a_new_version_with_the_row(ws):
    first = ws.create_dataset("persona", pa.table({"instruction": ["a"], "input": [""], "output": ["b"]}))
    column = Column("local:x", "", [{"role": "user", "content": "问"}, {"role": "assistant", "content": "答"}])
    version = save_exchange(ws, first.dataset_id, column)
    assert version.number == 2 and version.rows == 2
    rows = ws.read(version).to_pylist()
    assert rows[-1]["instruction"] == "问" and rows[-1]["output"] == "答"
    assert ws.read(first).num_rows == 1  # the old version is untouched
    other = ws.create_dataset("raw", pa.table({"text": ["x"]}))
    with pytest.raises(ValueError, match="Alpaca"):
        save_exchange(ws, other.dataset_id, column)


def test_a_gguf_model_must_be_prepared_before_chatting(tiny_model, tmp_path):
    from tests.test_models import write_tiny_gguf
    from workbench.models import register_local

    ws, model_id = tiny_model
    assert model_to_prepare(ws, f"local:{model_id}") is None  # converted by the fixture
    path = tmp_path / "fresh.gguf"
    write_tiny_gguf(path)
    fresh = register_local(ws, path, "fresh")
    assert model_to_prepare(ws, f"local:{fresh.id}") == fresh.id
