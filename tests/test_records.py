"""Rows convert between Alpaca (with system/history), ShareGPT and OpenAI messages without losing turns."""
import json

import pytest
from pydantic import ValidationError

from workbench.records import (AlpacaRecord, ChatRecord, alpaca_to_messages, chat_messages, detect_schema,
                               load_json_field, messages_to_alpaca, messages_to_sharegpt, row_messages)

HISTORY = [["你是谁？", "臣妾甄嬛。"], ["几岁了？", "十七。"]]


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


def system(text):
    return {"role": "system", "content": text}


# --- detect_schema ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("columns, schema", [
    (["instruction", "output"], "alpaca"),
    (["_id", "instruction", "input", "output", "system", "history"], "alpaca"),
    (["conversations"], "chat"),
    (["_id", "messages", "system"], "chat"),
    (["messages", "instruction", "output"], "chat"),  # a chat column wins: it holds the whole conversation
    (["instruction"], None),  # no answer: needs a mapping first
    (["output"], None),
    (["prompt", "text", "label", "lang"], None),
    ([], None),
    (["Instruction", "Output"], None),  # names are exact
])
def test_detect_schema(columns, schema):
    assert detect_schema(columns) == schema


def test_detect_schema_accepts_any_iterable_of_names():
    assert detect_schema(iter(["output", "instruction"])) == "alpaca"
    assert detect_schema({"conversations": 1}) == "chat"  # a row's keys


# --- load_json_field ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [None, "", "   ", "\n"])
def test_load_json_field_empty_is_an_empty_list(value):
    assert load_json_field(value) == []


def test_load_json_field_parses_text_and_passes_lists_through():
    assert load_json_field(json.dumps(HISTORY, ensure_ascii=False)) == HISTORY
    assert load_json_field(HISTORY) is HISTORY  # already parsed (e.g. read from a JSON file)
    assert load_json_field('[{"from": "human", "value": "在吗"}]') == [{"from": "human", "value": "在吗"}]


def test_load_json_field_broken_text_raises():
    """The validator reports broken nested fields; by the time rows are converted they must parse."""
    with pytest.raises(json.JSONDecodeError):
        load_json_field('[["unclosed", "pair"]')


# --- Alpaca -> messages --------------------------------------------------------------------------------------

def test_alpaca_to_messages_plain_row():
    assert alpaca_to_messages({"instruction": "娘娘。", "input": "", "output": "本宫知道了。"}) == [
        user("娘娘。"), assistant("本宫知道了。")]


def test_alpaca_to_messages_joins_instruction_and_input_on_a_new_line():
    row = {"instruction": "判断情感，只回答：正面、负面或中性。", "input": "物流很快。", "output": "正面"}
    assert alpaca_to_messages(row) == [user("判断情感，只回答：正面、负面或中性。\n物流很快。"), assistant("正面")]


def test_alpaca_to_messages_input_without_instruction_is_the_prompt():
    assert alpaca_to_messages({"instruction": "", "input": "只有输入", "output": "好"})[0] == user("只有输入")
    assert alpaca_to_messages({"instruction": None, "input": "只有输入", "output": "好"})[0] == user("只有输入")


def test_alpaca_to_messages_system_and_history_come_first_in_order():
    row = {"system": "你是甄嬛。", "history": json.dumps(HISTORY, ensure_ascii=False),
           "instruction": "家在哪里？", "input": "", "output": "京城。"}
    assert alpaca_to_messages(row) == [
        system("你是甄嬛。"),
        user("你是谁？"), assistant("臣妾甄嬛。"),
        user("几岁了？"), assistant("十七。"),
        user("家在哪里？"), assistant("京城。"),
    ]


def test_alpaca_to_messages_history_as_a_list_and_empty_fields():
    row = {"system": "", "history": HISTORY[:1], "instruction": "q", "output": "a"}
    assert alpaca_to_messages(row) == [user("你是谁？"), assistant("臣妾甄嬛。"), user("q"), assistant("a")]
    for empty in (None, "", "[]"):
        assert alpaca_to_messages({"history": empty, "instruction": "q", "output": "a"}) == [user("q"), assistant("a")]


def test_alpaca_to_messages_without_output_is_a_prompt_only():
    """Inference rows have no answer yet: no assistant turn is invented."""
    assert alpaca_to_messages({"instruction": "q"}) == [user("q")]
    assert alpaca_to_messages({"instruction": "q", "output": None}) == [user("q")]
    assert alpaca_to_messages({"instruction": "q", "output": ""}) == [user("q"), assistant("")]


# --- chat rows -> messages --------------------------------------------------------------------------------------

def test_chat_messages_sharegpt_roles_are_mapped():
    conversations = [{"from": "system", "value": "你是助手"}, {"from": "human", "value": "在吗"},
                     {"from": "gpt", "value": "在的"}, {"from": "user", "value": "讲个笑话"},
                     {"from": "assistant", "value": "好的……"}]
    row = {"conversations": json.dumps(conversations, ensure_ascii=False)}
    assert chat_messages(row) == [system("你是助手"), user("在吗"), assistant("在的"), user("讲个笑话"),
                                  assistant("好的……")]


def test_chat_messages_sharegpt_tool_turns():
    conversations = [{"from": "human", "value": "天气？"}, {"from": "function_call", "value": '{"name": "weather"}'},
                     {"from": "observation", "value": "晴"}, {"from": "gpt", "value": "晴天"}]
    roles = [m["role"] for m in chat_messages({"conversations": conversations})]
    assert roles == ["user", "tool", "tool", "assistant"]


def test_chat_messages_openai_messages_drop_extra_keys():
    messages = [{"role": "user", "content": "1+1", "name": "小明"}, {"role": "assistant", "content": "2", "weight": 1}]
    assert chat_messages({"messages": json.dumps(messages, ensure_ascii=False)}) == [user("1+1"), assistant("2")]


def test_chat_messages_system_field_is_prepended_once():
    conversations = [{"from": "human", "value": "在吗"}, {"from": "gpt", "value": "在的"}]
    assert chat_messages({"conversations": conversations, "system": "你是助手"})[0] == system("你是助手")
    already = [system("对话内的系统提示"), user("在吗"), assistant("在的")]
    result = chat_messages({"messages": already, "system": "字段里的系统提示"})
    assert result == already  # the conversation's own system message is kept, not doubled
    assert chat_messages({"messages": already[1:], "system": ""}) == already[1:]


def test_chat_messages_prefers_messages_over_conversations():
    row = {"messages": [user("openai"), assistant("a")],
           "conversations": [{"from": "human", "value": "sharegpt"}, {"from": "gpt", "value": "b"}]}
    assert chat_messages(row)[0] == user("openai")


def test_row_messages_dispatches_on_the_row_shape():
    assert row_messages({"instruction": "q", "output": "a"}) == [user("q"), assistant("a")]
    assert row_messages({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}) == [
        user("q"), assistant("a")]
    assert row_messages({"messages": '[{"role": "user", "content": "q"}]'}) == [user("q")]
    # An empty chat field is not a chat row: the Alpaca fields are used.
    assert row_messages({"messages": "", "instruction": "q", "output": "a"}) == [user("q"), assistant("a")]


# --- messages -> Alpaca / ShareGPT ------------------------------------------------------------------------------

def test_messages_to_alpaca_last_pair_is_the_row_and_earlier_pairs_are_history():
    messages = [system("你是甄嬛。"), user("你是谁？"), assistant("臣妾甄嬛。"), user("几岁了？"),
                assistant("十七。"), user("家在哪里？"), assistant("京城。")]
    assert messages_to_alpaca(messages) == {"instruction": "家在哪里？", "input": "", "output": "京城。",
                                            "system": "你是甄嬛。", "history": HISTORY}


def test_messages_to_alpaca_single_turn_and_prompt_only():
    assert messages_to_alpaca([user("q"), assistant("a")]) == {
        "instruction": "q", "input": "", "output": "a", "system": "", "history": []}
    assert messages_to_alpaca([system("s"), user("q")]) == {
        "instruction": "q", "input": "", "output": "", "system": "s", "history": []}
    assert messages_to_alpaca([]) == {"instruction": "", "input": "", "output": "", "system": "", "history": []}


def test_messages_to_alpaca_skips_tool_turns_between_question_and_answer():
    messages = [user("天气？"), {"role": "tool", "content": "晴"}, assistant("晴天"), user("明天呢？"),
                {"role": "tool", "content": "雨"}, assistant("有雨")]
    record = messages_to_alpaca(messages)
    assert (record["instruction"], record["output"], record["history"]) == ("明天呢？", "有雨", [["天气？", "晴天"]])


def test_messages_to_sharegpt():
    messages = [system("你是助手"), user("在吗"), assistant("在的"), {"role": "tool", "content": "结果"}]
    assert messages_to_sharegpt(messages) == {
        "system": "你是助手",
        "conversations": [{"from": "human", "value": "在吗"}, {"from": "gpt", "value": "在的"},
                          {"from": "observation", "value": "结果"}]}
    assert messages_to_sharegpt([user("q"), assistant("a")]) == {
        "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}  # no empty system


# --- round trips ----------------------------------------------------------------------------------------------

ALPACA_ROWS = [
    {"instruction": "娘娘。", "input": "", "output": "你放心。", "system": "", "history": []},
    {"instruction": "家在哪里？", "input": "", "output": "京城。", "system": "你是甄嬛。", "history": HISTORY},
    {"instruction": "含\n换行和\"引号\"", "input": "", "output": "{json?}", "system": "", "history": [["a", "b"]]},
]


@pytest.mark.parametrize("row", ALPACA_ROWS)
def test_alpaca_messages_alpaca_round_trip(row):
    assert messages_to_alpaca(alpaca_to_messages(row)) == row
    stored = {**row, "history": json.dumps(row["history"], ensure_ascii=False)}  # as a stored version holds it
    assert messages_to_alpaca(row_messages(stored)) == row


def test_alpaca_round_trip_folds_input_into_the_instruction():
    row = {"instruction": "翻译成英文", "input": "你好", "output": "Hello"}
    assert messages_to_alpaca(alpaca_to_messages(row))["instruction"] == "翻译成英文\n你好"


@pytest.mark.parametrize("row", [
    {"conversations": [{"from": "human", "value": "在吗"}, {"from": "gpt", "value": "在的"},
                       {"from": "human", "value": "讲个笑话"}, {"from": "gpt", "value": "好的……"}]},
    {"conversations": [{"from": "human", "value": "1+1"}, {"from": "gpt", "value": "2"}], "system": "你是助手"},
])
def test_sharegpt_messages_sharegpt_round_trip(row):
    assert messages_to_sharegpt(chat_messages(row)) == row


def test_sharegpt_system_turn_moves_to_the_system_field():
    row = {"conversations": [{"from": "system", "value": "你是助手"}, {"from": "human", "value": "q"},
                             {"from": "gpt", "value": "a"}]}
    assert messages_to_sharegpt(chat_messages(row)) == {
        "system": "你是助手", "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}


def test_openai_messages_alpaca_messages_round_trip():
    messages = [system("s"), user("q1"), assistant("a1"), user("q2"), assistant("a2")]
    assert alpaca_to_messages(messages_to_alpaca(messages)) == messages


def test_huanhuan_rows_round_trip(huanhuan_rows):
    """Every row of the real dataset converts to a two-turn chat and back unchanged."""
    for row in huanhuan_rows:
        messages = row_messages(row)
        assert [m["role"] for m in messages] == ["user", "assistant"]
        record = messages_to_alpaca(messages)
        expected_instruction = row["instruction"] + ("\n" + row["input"] if row["input"] else "")
        assert (record["instruction"], record["output"]) == (expected_instruction, row["output"])
        assert messages_to_alpaca(chat_messages(messages_to_sharegpt(messages))) == record


# --- the pydantic row models --------------------------------------------------------------------------------------

def test_alpaca_record_validation():
    record = AlpacaRecord(instruction="q", output="a", history=HISTORY)
    assert record.history == [tuple(pair) for pair in HISTORY] and record.input == "" and record.system == ""
    for bad in ({"instruction": "  ", "output": "a"}, {"instruction": "q", "output": ""}, {"output": "a"},
                {"instruction": "q", "output": "a", "history": [["only one"]]}):
        with pytest.raises(ValidationError):
            AlpacaRecord(**bad)


def test_chat_record_validation():
    assert len(ChatRecord(messages=[user("q"), assistant("a")]).messages) == 2
    with pytest.raises(ValidationError):
        ChatRecord(messages=[user("only one")])
    with pytest.raises(ValidationError):
        ChatRecord(messages=[{"role": "human", "content": "q"}, assistant("a")])  # ShareGPT role not converted
