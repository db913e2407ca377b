"""Playground: streamed answers equal the batch answers, several columns stream at once, a failing column
does not stop the others, and an exchange becomes an Alpaca row in a new version."""
import json
import time

import pyarrow as pa
import pytest

from workbench.llm import backend_for
from workbench.llm.endpoints import Endpoint
from workbench.llm.types import GenerationParams, LLMError
from workbench.playground import (AlreadySaved, Column, check_columns, exchange_row, model_to_prepare, save_exchange,
                                  split_choices, stream_reply, stream_side_by_side)

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


def four_turns(system="你是甄嬛。"):
    turns = []
    for n in range(1, 5):
        turns += [{"role": "user", "content": f"问{n}"}, {"role": "assistant", "content": f"答{n}"}]
    return Column("local:smollm2-135m-instruct", system, turns)


def test_a_saved_exchange_keeps_its_system_prompt_history_and_split(ws):
    table = pa.table({"instruction": ["a", "b"], "input": ["", ""], "output": ["x", "y"], "_split": ["train", "test"]})
    first = ws.create_dataset("huanhuan", table)
    assert split_choices(ws, first.dataset_id) == ("train", "validation", "test")
    params = GenerationParams(max_new_tokens=32, temperature=0.0, seed=3)
    version = save_exchange(ws, first.dataset_id, four_turns(), "validation", params)
    row = ws.read(version).to_pylist()[-1]
    assert (row["instruction"], row["output"], row["system"], row["_split"]) == ("问4", "答4", "你是甄嬛。", "validation")
    assert json.loads(row["history"]) == [["问1", "答1"], ["问2", "答2"], ["问3", "答3"]]
    assert ws.read(version).column_names[1:6] == ["instruction", "input", "output", "system", "history"]
    assert [r["system"] for r in ws.read(version).to_pylist()[:2]] == [None, None]  # old rows: no system prompt
    assert version.params == {"count": 1, "source": "playground", "endpoint": "local:smollm2-135m-instruct",
                              "model": "smollm2-135m-instruct", "system_prompt": "你是甄嬛。", "turns": 4,
                              "split": "validation", "temperature": 0.0, "max_new_tokens": 32, "seed": 3}
    assert version.op == "add_rows" and version.splits.get("validation") == 1


def test_saving_the_same_exchange_twice_is_refused_with_where_it_is(ws):
    first = ws.create_dataset("huanhuan", pa.table({"instruction": ["a"], "input": [""], "output": ["x"]}))
    saved = save_exchange(ws, first.dataset_id, four_turns())
    with pytest.raises(AlreadySaved) as caught:
        save_exchange(ws, first.dataset_id, four_turns())
    assert (caught.value.ref, caught.value.row_id) == (saved.ref, ws.read(saved).to_pylist()[-1]["_id"])
    assert "already saved in huanhuan@2" in str(caught.value) and ws.version(first.dataset_id).number == 2
    # the same last question and answer after other turns, or under another system prompt, is another row
    assert save_exchange(ws, first.dataset_id, four_turns("你是皇后。")).number == 3
    shorter = Column("local:x", "你是甄嬛。", four_turns().turns[-2:])
    assert save_exchange(ws, first.dataset_id, shorter).number == 4
    assert split_choices(ws, first.dataset_id) == ()  # not split: rows join it without a split


def test_a_gguf_model_must_be_prepared_before_chatting(tiny_model, tmp_path):
    from tests.test_models import write_tiny_gguf
    from workbench.models import register_local

    ws, model_id = tiny_model
    assert model_to_prepare(ws, f"local:{model_id}") is None  # converted by the fixture
    path = tmp_path / "fresh.gguf"
    write_tiny_gguf(path)
    fresh = register_local(ws, path, "fresh")
    assert model_to_prepare(ws, f"local:{fresh.id}") == fresh.id


# --- streaming never shows part of a character --------------------------------------------------------
def test_text_deltas_hold_back_a_character_until_its_last_byte_token(tiny_model):
    from workbench.llm.streaming import TextDeltas

    ws, model_id = tiny_model
    tokenizer = backend_for(ws, f"local:{model_id}").tokenizer
    ids = tokenizer.encode("情感", add_special_tokens=False)  # byte-level: 3 tokens per character
    deltas = TextDeltas(tokenizer)
    assert [deltas.add([i]) for i in ids[:4]] == ["", "", "情", ""]
    assert deltas.rest(cut=True) == "" and deltas.rest(cut=False) == "\ufffd"  # cut: dropped; ended there: kept
    assert [deltas.add([i]) for i in ids[4:]] == ["", "感"] and deltas.rest(cut=True) == ""


def test_a_streamed_local_answer_cut_inside_a_character_equals_the_whole_answer(tiny_model, monkeypatch):
    from tests.llm.scripted_tokens import scripted_generate

    ws, model_id = tiny_model
    backend = backend_for(ws, f"local:{model_id}")
    script = backend.tokenizer.encode("皇上，我是一位", add_special_tokens=False)
    monkeypatch.setattr(backend.model, "generate",
                        scripted_generate(backend.model.generate, script, backend.tokenizer.eos_token_id))
    cuts_inside = 0
    for limit in range(3, len(script) + 2):
        params = GenerationParams(max_new_tokens=limit)
        pieces = list(stream_reply(backend, [{"role": "user", "content": "你是谁"}], params))
        whole = backend.complete([{"role": "user", "content": "你是谁"}], params)
        assert "".join(pieces) == whole.text and "\ufffd" not in "".join(pieces), limit
        cuts_inside += backend.tokenizer.decode(script[:limit]).endswith("\ufffd")
    assert "".join(pieces) == "皇上，我是一位" and whole.finish_reason == "stop"
    assert cuts_inside >= 10  # most limits end inside a character
