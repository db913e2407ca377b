"""validate_table on tables that follow the conventions: Alpaca and chat rules, located problems, both languages."""
import json
import random

import numpy as np
import pyarrow as pa
import pytest

from workbench.data import validate
from workbench.data.validate import validate_table


def table(columns: dict, ids=None, lines=None, string_type=pa.string()) -> pa.Table:
    """A table as a reader leaves it: `_id`, `_line`, then nullable string columns."""
    size = len(next(iter(columns.values())))
    ids = list(range(100, 100 + size)) if ids is None else ids
    lines = [2 * n + 1 for n in range(size)] if lines is None else lines
    arrays = {"_id": pa.array(ids, pa.int64()), "_line": pa.array(lines, pa.int64())}
    arrays.update({name: pa.array(values, string_type) for name, values in columns.items()})
    return pa.table(arrays)


def located(report):
    """(code, line, row, field) for each listed problem, as a set (the order within a check is not promised)."""
    return {(p.code, p.line, p.row, p.field) for p in report.problems}


def alpaca(n, **columns):
    base = {"instruction": [f"问题 {i}" for i in range(n)], "output": [f"回答 {i}" for i in range(n)]}
    return {**base, **columns}


# --- Alpaca ------------------------------------------------------------------------------------------

def test_clean_alpaca_rows_with_optional_fields_pass():
    """input and system may be missing or blank; history may be null, blank, [] or a list of pairs."""
    rows = table(alpaca(6, input=[None, "", "  ", "context", None, "x"],
                        system=["", None, "你是甄嬛。", "   ", None, "s"],
                        history=[None, "", "[]", "[ ]", '[["你好","娘娘万福"]]', '[["", ""]]']))
    report = validate_table(rows, file="clean.jsonl")
    assert report.schema == "alpaca" and report.total_rows == 6
    assert report.problems == [] and report.ok and report.errors == 0
    assert len(report.error_rows) == 0 and dict(report.counts) == {}
    assert report.summary() == {"schema": "alpaca", "rows": 6, "rows_with_errors": 0, "problems": {}, "listed": 0}


@pytest.mark.parametrize("blank", ["", " ", "\t\n", "\u3000", "\u3000 \u3000", "\u00a0", "\r\n  \u3000"])
def test_whitespace_only_required_values_are_empty(blank):
    """Only-whitespace text counts as empty, the ideographic space U+3000 included."""
    rows = table(alpaca(3, instruction=["ok", blank, " 有字 "], output=[blank, "ok", "\u3000答\u3000"]))
    report = validate_table(rows, file="blank.jsonl")
    assert located(report) == {("empty_value", 1, 100, "output"), ("empty_value", 3, 101, "instruction")}
    assert report.error_rows.tolist() == [100, 101] and not report.ok
    assert all(p.file == "blank.jsonl" and p.severity == "error" for p in report.problems)


def test_null_cells_are_missing_and_empty_text_is_empty():
    rows = table(alpaca(5, instruction=[None, "", "q", "q", None], output=["a", None, None, "a", "  "],
                        input=[None] * 5), ids=[7, 3, 9, 11, 0], lines=[10, 20, 30, 40, 50])
    report = validate_table(rows)
    assert located(report) == {
        ("missing_field", 10, 7, "instruction"), ("missing_field", 50, 0, "instruction"),
        ("empty_value", 20, 3, "instruction"),
        ("missing_field", 20, 3, "output"), ("missing_field", 30, 9, "output"), ("empty_value", 50, 0, "output")}
    assert sorted(report.error_rows.tolist()) == [0, 3, 7, 9]  # row 11 is clean
    assert report.counts == {"missing_field": 4, "empty_value": 2}
    assert report.summary()["rows_with_errors"] == 4


def test_messages_in_both_languages_name_the_field():
    rows = table(alpaca(2, instruction=[None, "\u3000"]))
    missing, empty = sorted(validate_table(rows, file="a.json").problems, key=lambda p: p.row)
    assert missing.message_en == "Required field 'instruction' is missing."
    assert missing.message_zh == "缺少必填字段“instruction”。"
    assert empty.message_en == "Field 'instruction' is empty or only whitespace."
    assert empty.message_zh == "字段“instruction”为空或只有空白字符。"
    assert missing.located() == "a.json:1: [instruction] Required field 'instruction' is missing."
    assert empty.located("zh") == "a.json:3: [instruction] 字段“instruction”为空或只有空白字符。"


def test_missing_required_column_is_an_error_without_a_row():
    rows = table({"instruction": ["q"], "input": ["i"]})
    assert validate_table(rows).schema is None  # "auto" cannot tell: the columns must be mapped first
    report = validate_table(rows, "alpaca")
    [problem] = report.problems
    assert (problem.code, problem.field, problem.row, problem.line) == ("missing_column", "output", None, None)
    assert "Alpaca" in problem.message_en and "Alpaca" in problem.message_zh and "“output”" in problem.message_zh
    assert len(report.error_rows) == 0 and not report.ok


def test_schema_is_detected_from_the_columns():
    assert validate_table(table(alpaca(1))).schema == "alpaca"
    conversation = '[{"from":"human","value":"hi"},{"from":"gpt","value":"yo"}]'
    assert validate_table(table({"conversations": [conversation]})).schema == "chat"
    assert validate_table(table({"messages": [None]})).schema == "chat"
    unmapped = validate_table(table({"question": [None], "answer": [""]}))
    assert unmapped.schema is None and unmapped.problems == [] and unmapped.ok


def test_rows_are_located_by_position_without_id_and_line_columns():
    rows = pa.table({"instruction": ["q", None, "q"], "output": ["a", "a", ""]})
    report = validate_table(rows)
    assert located(report) == {("missing_field", None, 1, "instruction"), ("empty_value", None, 2, "output")}
    assert report.error_rows.tolist() == [1, 2]


# --- history -------------------------------------------------------------------------------------------

PRETTY_VALID = json.dumps([["你好", "娘娘万福"], ["第二问", "第二答"]], ensure_ascii=False, indent=2)

HISTORY_CASES = [  # (text, English detail, Chinese detail)
    ("just text", "it is text, not a list", "实际是一段文本而不是列表"),
    ('"a JSON string"', "it is text", "实际是一段文本"),
    ('{"q": "a"}', "it is an object", "实际是一个对象"),
    ("42", "it is a number", "实际是一个数字"),
    ("true", "it is a boolean", "实际是布尔值"),
    ('[["a", "b", "c"]]', "item 1 is not a pair of texts", "第 1 项不是两段文本组成的对"),
    ('[["a"]]', "item 1 is not a pair of texts", "第 1 项"),
    ("[[]]", "item 1 is not a pair of texts", "第 1 项"),
    ('[["a", "b"], ["c", 1]]', "item 2 is not a pair of texts", "第 2 项不是两段文本组成的对"),
    ('[["a", "b"], ["c", null]]', "item 2 is not a pair of texts", "第 2 项"),
    ('[["a", "b"], null]', "item 2 is not a pair of texts", "第 2 项"),
    ('[["a", "b"], "c"]', "item 2 is not a pair of texts", "第 2 项"),
    ('[{"from": "human", "value": "x"}]', "item 1 is not a pair of texts", "第 1 项"),
    ('[["a", "b"]] extra', "it is text, not a list", "实际是一段文本而不是列表"),
    ('[\n  ["a",\n   "b"]\n', "it is text, not a list", "实际是一段文本而不是列表"),  # multi-line, unclosed
    ('[\n  ["a", "b", "c"]\n]', "item 1 is not a pair of texts", "第 1 项"),  # multi-line, valid JSON, bad shape
]


@pytest.mark.parametrize("text,detail,detail_zh", HISTORY_CASES, ids=[c[0][:24] for c in HISTORY_CASES])
def test_wrong_history_shapes_are_located_with_a_reason(text, detail, detail_zh):
    rows = table(alpaca(3, history=['[["q","a"]]', text, PRETTY_VALID]))
    report = validate_table(rows, file="h.jsonl")
    [problem] = report.problems
    assert (problem.code, problem.line, problem.row, problem.field) == ("history_shape", 3, 101, "history")
    assert problem.params["detail"] == detail or problem.params["detail"].startswith(detail)
    assert problem.message_en.startswith("'history' must be a list of [instruction, answer] pairs of text;")
    assert detail in problem.message_en and detail_zh in problem.message_zh
    assert report.error_rows.tolist() == [101] and report.counts == {"history_shape": 1}


def test_pretty_printed_history_over_several_lines_is_valid():
    compact = json.dumps(json.loads(PRETTY_VALID), ensure_ascii=False)
    rows = table(alpaca(3, history=[PRETTY_VALID, compact, "\n[\n]\n"]))
    assert validate_table(rows).problems == []


def random_history(rng: random.Random) -> str:
    """A history text: valid or subtly wrong; mostly single-line so Arrow's fast parse sees them."""
    def text():
        return rng.choice(["a", "中文", 'quote " x', "back\\slash", "tab\tnew\nline", "", "😀", "[[\"x\"]]"])

    def pair():
        roll = rng.random()
        if roll < 0.85:
            return [text(), text()]
        return rng.choice([[text()], [text(), text(), text()], [], [text(), None], None])

    value = [pair() for _ in range(rng.randint(0, 4))]
    if rng.random() < 0.05:  # wrong but still a list of lists of text to Arrow (objects, numbers are not)
        value = rng.choice([None, [[]], [None]])
    return json.dumps(value, ensure_ascii=rng.random() < 0.5, separators=rng.choice([(",", ":"), (", ", ": ")]))


def expected_flags(texts, ids):
    """Rows the Python check alone would flag (null, blank and '[]' are never parsed)."""
    return {row for row, text in zip(ids, texts)
            if text is not None and text.strip() not in ("", "[]") and validate._history_detail(text)}


@pytest.mark.parametrize("extra,fast", [
    ([], True),  # every text is parsed by Arrow in one go; only suspects are looked at in Python
    (['[\n ["pretty", "ok"],\n ["bad"]\n]', '[\n ["pretty", "ok"]\n]'], True),  # multi-line texts go to Python
    (['[["a", 1]]'], False),  # Arrow rejects a number where text must be: the whole batch falls back
    (["not json"], False),
    (['[["a","b"]]}{"h":[["c","d"]]'], False),  # one text that would read as two JSON rows
])
def test_vectorized_history_check_agrees_with_the_python_check(extra, fast):
    rng = random.Random(len(extra) * 31 + len("".join(extra)))
    texts = [random_history(rng) for _ in range(1500)] + [None, "", "  ", "[]", " [] "] + extra
    order = list(range(len(texts)))
    rng.shuffle(order)
    texts = [texts[i] for i in order]
    ids = [5000 + 3 * n for n in range(len(texts))]
    expected = expected_flags(texts, ids)
    assert 40 < len(expected) < len(texts) // 2  # both kinds are well represented

    positions = validate._nonempty_json_positions(pa.chunked_array([pa.array(texts, pa.string())]))
    suspects = validate._history_suspects(pa.array([texts[int(p)] for p in positions], pa.string()))
    assert (len(suspects) < len(positions)) == fast  # which path ran

    report = validate_table(table(alpaca(len(texts), history=texts), ids=ids))
    assert set(report.error_rows.tolist()) == expected
    assert {p.row for p in report.problems} == expected and report.counts == {"history_shape": len(expected)}
    details = {p.row: p.params["detail"] for p in report.problems}
    for row, text in zip(ids, texts):
        if row in expected:
            assert details[row] == validate._history_detail(text)[0]


def test_history_check_on_sliced_chunked_and_large_string_columns():
    """The fast path reads Arrow buffers directly: offsets of slices and chunks must not shift rows."""
    rng = random.Random(3)
    texts = [random_history(rng) for _ in range(600)]
    ids = list(range(600))
    whole = table(alpaca(600, history=texts), ids=ids)
    chunked = pa.concat_tables([whole.slice(0, 250), whole.slice(250, 1), whole.slice(251)])
    assert chunked.column("history").num_chunks == 3
    sliced = whole.slice(37, 500)
    large = table(alpaca(600, history=texts), ids=ids, string_type=pa.large_string())
    expected = expected_flags(texts, ids)
    assert set(validate_table(chunked).error_rows.tolist()) == expected
    assert set(validate_table(large).error_rows.tolist()) == expected
    assert set(validate_table(sliced).error_rows.tolist()) == expected & set(range(37, 537))


# --- chat schemas --------------------------------------------------------------------------------------

def turns(*pairs, keys=("from", "value")):
    return json.dumps([{keys[0]: role, keys[1]: content} for role, content in pairs], ensure_ascii=False)


CHAT_CASES = [  # (cell, English detail or None when valid, Chinese detail)
    (turns(("human", "你好"), ("gpt", "娘娘万福")), None, None),
    (turns(("system", "你是甄嬛"), ("human", "q"), ("gpt", "a"), ("human", "q2"), ("gpt", "a2")), None, None),
    (turns(("human", "q"), ("function_call", "{}"), ("observation", "r"), ("gpt", "a")), None, None),
    (turns(("human", "q"), ("robot", "a")), "message 2 has unknown role 'robot'", "第 2 条消息的角色 'robot' 无法识别"),
    (turns(("human", "q"), ("human", "q again")), "it needs at least one user and one assistant message",
     "至少需要一条用户消息和一条助手消息"),
    (turns(("gpt", "only an answer")), "it needs at least one user and one assistant message", "至少需要一条用户消息"),
    ("[]", "it is empty or not a list", "为空或不是列表"),
    ('{"from": "human", "value": "q"}', "it is empty or not a list", "为空或不是列表"),
    ('[{"from": "human", "value": "q"}, {"from": "gpt"', "it is not valid JSON", "不是有效的 JSON"),
    ('["human: q", "gpt: a"]', "message 1 is not an object", "第 1 条消息不是对象"),
    (turns(("human", "q"), ("gpt", 42)), "message 2 has no text content", "第 2 条消息没有文本内容"),
]


@pytest.mark.parametrize("column,keys", [("conversations", ("from", "value")), ("messages", ("role", "content"))])
def test_chat_rows_are_checked_turn_by_turn(column, keys):
    def openai(cell):  # the same conversations with OpenAI keys and roles
        mapping = {"human": "user", "gpt": "assistant"}
        try:
            value = json.loads(cell)
        except json.JSONDecodeError:
            return cell.replace('"from"', '"role"').replace('"value"', '"content"').replace("human", "user")
        if isinstance(value, list):
            value = [{"role": mapping.get(t["from"], t["from"]), "content": t["value"]} if isinstance(t, dict) and
                     "from" in t and "value" in t else t for t in value]
        return json.dumps(value, ensure_ascii=False)

    cells = [cell if column == "conversations" else openai(cell) for cell, _, _ in CHAT_CASES]
    cells += [None, "", "  \u3000"]
    report = validate_table(table({column: cells, "system": [None] * len(cells)}), file="chat.jsonl")
    assert report.schema == "chat"
    shapes = {p.row: p for p in report.problems if p.code == "messages_shape"}
    for index, (_, detail, detail_zh) in enumerate(CHAT_CASES):
        if detail is None:
            assert 100 + index not in shapes, cells[index]
            continue
        problem = shapes[100 + index]
        assert (problem.field, problem.line) == (column, 2 * index + 1)
        assert problem.params["detail"] == detail, cells[index]
        assert problem.message_en == f"'{column}' must be a list of messages; {detail}."
        assert detail_zh in problem.message_zh and f"“{column}”应为消息列表" in problem.message_zh
    blank_rows = {100 + n for n in range(len(CHAT_CASES), len(cells))}
    assert {p.row for p in report.problems if p.code == "missing_field"} == blank_rows
    bad = {100 + i for i, case in enumerate(CHAT_CASES) if case[1]} | blank_rows
    assert set(report.error_rows.tolist()) == bad and set(shapes) | blank_rows == bad


# --- lengths and limits --------------------------------------------------------------------------------

def test_too_long_values_are_warnings_counted_in_characters():
    rows = table(alpaca(4, instruction=["短", "中" * 6, "x" * 5, None], output=["中" * 11, "ok", "a" * 10, "  "]))
    report = validate_table(rows, max_length={"instruction": 5, "output": 10, "no_such_column": 1})
    warnings = {(p.row, p.field): p for p in report.problems if p.code == "too_long"}
    assert set(warnings) == {(100, "output"), (101, "instruction")}  # exactly at the limit is fine
    assert warnings[(100, "output")].params == {"limit": 10, "length": 11}
    assert warnings[(101, "instruction")].severity == "warning" and warnings[(101, "instruction")].line == 3
    assert warnings[(100, "output")].message_en == "Field 'output' has 11 characters (limit 10)."
    assert warnings[(100, "output")].message_zh == "字段“output”有 11 个字符（上限 10）。"
    assert report.counts["too_long"] == 2
    assert report.error_rows.tolist() == [103]  # warnings never make a row bad; row 103 has no instruction
    clean = validate_table(table(alpaca(2)), max_length={"output": 1})
    assert clean.ok and clean.counts == {"too_long": 2}


def test_limit_caps_the_listed_problems_but_counts_and_bad_rows_stay_exact():
    size = 300
    instruction = [None if n % 3 == 0 else "q" for n in range(size)]
    output = ["" if n % 5 == 0 else "a" * 50 for n in range(size)]
    history = ['[["a"]]' if n % 7 == 0 else None for n in range(size)]
    rows = table({"instruction": instruction, "output": output, "history": history})
    bad = {100 + n for n in range(size) if n % 3 == 0 or n % 5 == 0 or n % 7 == 0}
    full = validate_table(rows, max_length={"output": 10})
    capped = validate_table(rows, max_length={"output": 10}, limit=25)
    expected_counts = {"missing_field": 100, "empty_value": 60, "history_shape": 43, "too_long": 240}
    assert full.counts == capped.counts == expected_counts
    assert len(full.problems) == sum(expected_counts.values())
    assert len(capped.problems) == 25 and capped.problems == full.problems[:25]
    assert set(capped.error_rows.tolist()) == set(full.error_rows.tolist()) == bad
    assert capped.summary() == {"schema": "alpaca", "rows": size, "rows_with_errors": len(bad),
                                "problems": expected_counts, "listed": 25}


def test_default_limit_is_ten_thousand_listed_problems():
    size = validate.MAX_PROBLEMS + 500
    rows = pa.table({"_id": pa.array(np.arange(size, dtype=np.int64)), "instruction": pa.nulls(size, pa.string()),
                     "output": pa.array(["a"] * size, pa.string())})
    report = validate_table(rows)
    assert len(report.problems) == validate.MAX_PROBLEMS and report.counts == {"missing_field": size}
    assert len(report.error_rows) == size and report.problems[-1].row == validate.MAX_PROBLEMS - 1
