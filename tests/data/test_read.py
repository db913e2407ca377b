"""read_file on real files written to disk: every format, broken inputs, encodings, located problems."""
import json
import os

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.data import encoding as encoding_module
from workbench.data import read_jsonl as read_jsonl_module
from workbench.data.read import ReadOptions, detect_encoding, detect_format, list_sheets, read_file
from workbench.data.validate import validate_table
from workbench.problems import ReadError

HUANHUAN = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "huanhuan.json")


def write_jsonl(path, rows, encoding="utf-8"):
    path.write_bytes("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode(encoding))
    return path


def user_rows(result):
    return [{k: v for k, v in row.items() if not k.startswith("_")} for row in result.table.to_pylist()]


def codes(problems):
    return [p.code for p in problems]


def read_error(path, **kwargs):
    with pytest.raises(ReadError) as caught:
        read_file(path, **kwargs)
    return caught.value.problems


# --- JSON arrays -------------------------------------------------------------------------------------

def test_huanhuan_reads_every_row_with_the_line_of_its_object():
    """3,729 rows; `_line` is the line where each element's `{` stands."""
    result = read_file(HUANHUAN)
    with open(HUANHUAN, encoding="utf-8") as handle:
        starts = [number for number, line in enumerate(handle, start=1) if line.strip() == "{"]
    assert result.table.num_rows == 3729
    assert result.table.column_names == ["_id", "_line", "instruction", "input", "output"]
    assert result.table.column("_line").to_pylist() == starts
    assert result.table.column("_id").to_pylist() == list(range(3729))
    assert result.table.column("instruction")[0].as_py() == "娘娘。"
    assert result.problems == []
    assert result.info["format"] == "json" and result.info["encoding"] == "utf-8"
    assert result.info["rows"] == 3729 and result.info["columns"] == ["instruction", "input", "output"]


def test_json_syntax_error_is_located_by_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"instruction": "a", "output": "b"},\n  {"instruction": "c" "output": "d"}\n]', "utf-8")
    [problem] = read_error(path)
    assert (problem.code, problem.line, problem.column) == ("json_syntax", 3, 23)
    assert problem.file == "bad.json" and "delimiter" in problem.params["detail"]


def test_json_unclosed_array_and_missing_comma(tmp_path):
    path = tmp_path / "open.json"
    path.write_text('[{"a": "x"},\n{"a": "y"}', "utf-8")
    [problem] = read_error(path)
    assert problem.code == "json_syntax" and problem.line == 2
    path.write_text('[{"a": "x"}\n {"a": "y"}]', "utf-8")
    [problem] = read_error(path)
    assert (problem.code, problem.line, problem.column) == ("json_syntax", 2, 2)


def test_json_object_wrapping_one_list_is_read_with_a_warning(tmp_path):
    path = tmp_path / "wrapped.json"
    path.write_text('{"data": [\n {"instruction": "q", "output": "a"},\n {"instruction": "q2", "output": "a2"}\n]}',
                    "utf-8")
    result = read_file(path)
    assert user_rows(result) == [{"instruction": "q", "output": "a"}, {"instruction": "q2", "output": "a2"}]
    assert result.table.column("_line").to_pylist() == [2, 3]
    [warning] = result.problems
    assert warning.code == "json_not_array" and warning.severity == "warning"
    assert "'data'" in warning.message_en and "data" in warning.message_zh


def test_json_object_with_several_keys_is_an_error_naming_the_list(tmp_path):
    path = tmp_path / "object.json"
    path.write_text('{"version": 1, "rows": [{"instruction": "q", "output": "a"}]}', "utf-8")
    [problem] = read_error(path)
    assert problem.code == "json_not_array"
    assert problem.params["found"] == "an object" and problem.params["found_zh"] == "一个对象"
    assert "'rows'" in problem.params["hint"] and "rows" in problem.params["hint_zh"]
    path.write_text('"just text"', "utf-8")
    assert codes(read_error(path)) == ["json_not_array"]


def test_json_elements_that_are_not_objects_are_skipped_and_located(tmp_path):
    path = tmp_path / "mixed.json"
    path.write_text('[\n{"instruction": "a", "output": "b"},\n[1, 2],\n"text",\n{"instruction": "c", "output": "d"}\n]',
                    "utf-8")
    result = read_file(path)
    assert [row["instruction"] for row in user_rows(result)] == ["a", "c"]
    assert result.table.column("_line").to_pylist() == [2, 5]
    assert [(p.code, p.line, p.params["found"]) for p in result.problems] == [
        ("row_not_object", 3, "a list"), ("row_not_object", 4, "text")]


def test_json_wrong_types_are_kept_as_text_and_reported(tmp_path):
    path = tmp_path / "types.json"
    rows = [{"instruction": "q", "output": 42, "input": ["x", "中"], "history": "not a list", "score": 1.5,
             "ok": True, "meta": {"k": "值"}}]
    path.write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    result = read_file(path)
    [row] = user_rows(result)
    assert row == {"instruction": "q", "output": "42", "input": '["x","中"]', "history": "not a list",
                   "score": "1.5", "ok": "true", "meta": '{"k":"值"}'}
    found = {(p.field, p.params["expected"], p.params["found"]) for p in result.problems}
    assert found == {("output", "text", "number"), ("input", "text", "list"), ("history", "list", "text")}
    assert all(p.code == "wrong_type" and p.row == 0 and p.line == 1 for p in result.problems)


def test_json_file_holding_json_lines_is_read_as_lines(tmp_path):
    path = write_jsonl(tmp_path / "lines.json", [{"instruction": "a", "output": "b"}] * 3)
    result = read_file(path)
    assert result.info["format"] == "jsonl" and result.table.num_rows == 3
    one = write_jsonl(tmp_path / "one.jsonl", [{"instruction": "a", "output": "b"}])
    assert read_file(one).info["format"] == "jsonl" and read_file(one).table.num_rows == 1
    (tmp_path / "one-line.json").write_text('{"rows": [{"instruction": "a", "output": "b"}]}', "utf-8")
    assert read_file(tmp_path / "one-line.json").table.num_rows == 1


def test_jsonl_file_holding_an_array_is_read_as_json(tmp_path):
    path = tmp_path / "array.jsonl"
    path.write_text('[{"instruction": "a", "output": "b"}]', "utf-8")
    assert read_file(path).info["format"] == "json"


# --- JSON Lines ----------------------------------------------------------------------------------------

def test_jsonl_clean_file_keeps_true_line_numbers_across_blank_lines(tmp_path):
    path = tmp_path / "blank.jsonl"
    path.write_text('\n{"instruction": "a", "output": "b"}\n\n  \n{"instruction": "c", "output": "d"}\r\n\n\n', "utf-8")
    result = read_file(path)
    assert result.table.column("_line").to_pylist() == [2, 5]
    assert user_rows(result)[1] == {"instruction": "c", "output": "d"}
    assert result.problems == []


def test_jsonl_one_broken_line_among_100k_is_located_exactly(tmp_path):
    path = tmp_path / "big.jsonl"
    broken = 73_457
    with open(path, "w", encoding="utf-8") as out:
        for number in range(1, 100_001):
            if number == broken:
                out.write('{"instruction": "q", "output": "missing quote}\n')
            else:
                out.write(json.dumps({"instruction": f"q{number}", "output": "答案"}, ensure_ascii=False) + "\n")
    result = read_file(path)
    assert result.table.num_rows == 99_999 and result.info["rows_skipped"] == 1
    [problem] = result.problems
    assert (problem.code, problem.line, problem.row) == ("json_syntax", broken, None)
    assert problem.column is not None and problem.params["text"].startswith('{"instruction": "q"')
    lines = result.table.column("_line").to_pylist()
    assert lines[broken - 2: broken] == [broken - 1, broken + 1]
    assert result.table.column("instruction")[broken - 1].as_py() == f"q{broken + 1}"


def test_jsonl_mixed_types_fall_back_and_report_only_the_odd_row(tmp_path):
    rows = [{"instruction": f"q{i}", "output": "text"} for i in range(50)]
    rows[30]["output"] = 42
    result = read_file(write_jsonl(tmp_path / "mixed.jsonl", rows))
    assert result.table.column("output")[30].as_py() == "42"
    [problem] = result.problems
    assert (problem.code, problem.field, problem.line, problem.row) == ("wrong_type", "output", 31, 30)
    assert problem.params == {"expected": "text", "found": "number"}


def test_jsonl_read_in_pieces_keeps_ids_lines_and_types_straight(tmp_path, monkeypatch):
    """The fallback parses pieces of lines with pyarrow; rows, lines and problems must join up exactly."""
    monkeypatch.setattr(read_jsonl_module, "PIECE_BYTES", 4096)
    lines = []
    for number in range(1, 2001):
        if number <= 300:  # numbers in whole pieces: pyarrow takes those pieces, types tell the problem
            lines.append(json.dumps({"instruction": f"q{number}", "output": number}))
        elif number in (700, 701):
            lines.append("   ")
        elif number == 1500:
            lines.append('{"instruction": "broken"')
        elif number == 1800:
            lines.append(json.dumps({"instruction": "q", "output": "a", "history": "[]x"}))
        else:
            lines.append(json.dumps({"instruction": f"q{number}", "output": "a"}))
    path = tmp_path / "pieces.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    result = read_file(path)
    expected_lines = [n for n in range(1, 2001) if n not in (700, 701, 1500)]
    assert result.table.column("_line").to_pylist() == expected_lines
    assert result.table.column("_id").to_pylist() == list(range(len(expected_lines)))
    assert result.table.column("output")[0].as_py() == "1"
    numbers = [p for p in result.problems if p.code == "wrong_type" and p.field == "output"]
    assert [(p.line, p.row) for p in numbers] == [(n, n - 1) for n in range(1, 301)]
    [syntax] = [p for p in result.problems if p.code == "json_syntax"]
    [history] = [p for p in result.problems if p.field == "history"]
    assert syntax.line == 1500 and (history.line, history.row) == (1800, 1800 - 4)
    assert result.table.column("instruction")[history.row].as_py() == "q"


def test_jsonl_whole_column_of_numbers_is_reported_with_a_cap(tmp_path):
    rows = [{"instruction": "q", "output": i} for i in range(1500)]
    result = read_file(write_jsonl(tmp_path / "numbers.jsonl", rows))
    assert result.table.column("output").to_pylist()[:3] == ["0", "1", "2"]
    listed = [p for p in result.problems if p.code == "wrong_type"]
    assert len(listed) == 1000 and listed[0].line == 1 and listed[999].row == 999
    [summary] = [p for p in result.problems if p.code == "problems_not_listed"]
    assert summary.params == {"count": 500, "kind": "wrong_type", "rows": list(range(1000, 1500))}
    assert summary.field == "output"


def test_jsonl_rows_that_are_not_objects_and_broken_lines(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"instruction": "a", "output": "b"}\n[1, 2]\n{"instruction": \n42\n', "utf-8")
    result = read_file(path)
    assert result.table.num_rows == 1
    assert [(p.code, p.line) for p in result.problems] == [
        ("row_not_object", 2), ("json_syntax", 3), ("row_not_object", 4)]


def test_jsonl_all_lines_broken_cannot_be_read(tmp_path):
    path = tmp_path / "csv.jsonl"
    path.write_text("instruction,output\na,b\n", "utf-8")
    assert set(codes(read_error(path))) == {"json_syntax"}


def test_jsonl_nested_values_become_compact_json_text(tmp_path):
    tricky = 'quote " backslash \\ newline \n tab \t bell \u0001 emoji 😀 中文'
    rows = [
        {"instruction": "q", "output": "a", "history": [["你好", tricky], ["x", "y"]],
         "conversations": [{"from": "human", "value": tricky}, {"from": "gpt", "value": "ok", "weight": 1}],
         "tags": [1, 2.5, True, None], "meta": {"n": 3, "s": "v"}},
        {"instruction": "q2", "output": "a2", "history": [], "conversations": None, "tags": [], "meta": None},
    ]
    result = read_file(write_jsonl(tmp_path / "nested.jsonl", rows))
    first, second = user_rows(result)
    assert json.loads(first["history"]) == rows[0]["history"]
    assert json.loads(first["conversations"]) == rows[0]["conversations"]
    assert json.loads(first["tags"]) == [1, 2.5, True, None]
    assert json.loads(first["meta"]) == {"n": 3, "s": "v"}
    assert "中文" in first["history"] and "\\u4e2d" not in first["history"]  # ensure_ascii=False
    assert first["history"] == orjson.dumps(rows[0]["history"]).decode()  # compact, same as orjson
    assert (second["history"], second["conversations"], second["tags"], second["meta"]) == ("[]", None, "[]", None)
    assert result.problems == []


def test_jsonl_date_like_text_stays_exactly_as_written(tmp_path):
    rows = [{"instruction": "2021-01-01", "output": "2021-01-01T10:00:00", "when": ["2020-02-02 01:02:03"]}]
    result = read_file(write_jsonl(tmp_path / "dates.jsonl", rows))
    assert user_rows(result) == [{"instruction": "2021-01-01", "output": "2021-01-01T10:00:00",
                                  "when": '["2020-02-02 01:02:03"]'}]


def test_jsonl_row_longer_than_a_parse_block(tmp_path, monkeypatch):
    monkeypatch.setattr(encoding_module, "BLOCK_BYTES", 1 << 20)
    long_text = "长" * (5 << 20)
    rows = [{"instruction": "short", "output": "a"}, {"instruction": "long", "output": long_text},
            {"instruction": "after", "output": "b"}]
    result = read_file(write_jsonl(tmp_path / "long.jsonl", rows))
    assert result.table.column("output")[1].as_py() == long_text
    assert result.table.column("_line").to_pylist() == [1, 2, 3] and result.problems == []


def test_jsonl_numbers_booleans_and_empty_rows(tmp_path):
    path = tmp_path / "values.jsonl"
    path.write_text('{"a": 1, "b": 2.5, "c": true, "d": null}\n{"a": 12345678901234567890, "b": 3, "c": false}\n'
                    '{}\n{"instruction": null, "output": "  "}\n', "utf-8")
    result = read_file(path)
    rows = user_rows(result)
    assert rows[0] == {"a": "1", "b": "2.5", "c": "true", "d": None, "instruction": None, "output": None}
    assert rows[1]["a"] == "12345678901234567890" and rows[1]["c"] == "false"
    assert all(value is None for value in rows[2].values())  # entirely empty rows are kept
    assert rows[3]["output"] == "  "


# --- encodings ------------------------------------------------------------------------------------------

def test_detect_encoding(tmp_path):
    cases = {"utf8.txt": "中文 text".encode("utf-8"), "bom.txt": "\ufeff中文".encode("utf-8"),
             "utf16.txt": "中文".encode("utf-16"), "gbk.txt": "中文，皇上驾到".encode("gbk"),
             "ascii.txt": b"plain"}
    expected = {"utf8.txt": "utf-8", "bom.txt": "utf-8-sig", "utf16.txt": "utf-16", "gbk.txt": "gb18030",
                "ascii.txt": "utf-8"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert detect_encoding(tmp_path / name) == expected[name], name


def test_gbk_jsonl_and_json_are_detected_and_transcoded(tmp_path):
    rows = [{"instruction": "皇上驾到！", "output": "臣妾恭迎圣驾。"}] * 3
    result = read_file(write_jsonl(tmp_path / "gbk.jsonl", rows, encoding="gbk"))
    assert result.info["encoding"] == "gb18030" and user_rows(result) == rows
    (tmp_path / "gbk.json").write_bytes(json.dumps(rows, ensure_ascii=False).encode("gb18030"))
    assert user_rows(read_file(tmp_path / "gbk.json")) == rows
    chosen = read_file(tmp_path / "gbk.jsonl", ReadOptions(encoding="gbk"))
    assert chosen.info["encoding"] == "gbk" and user_rows(chosen) == rows


def test_bom_files_do_not_leak_the_bom(tmp_path):
    row = {"instruction": "问", "output": "答"}
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps(row, ensure_ascii=False).encode() + b"\n")
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + json.dumps([row], ensure_ascii=False).encode())
    (tmp_path / "bom.csv").write_bytes("\ufeffinstruction,output\n问,答\n".encode("utf-8"))
    for name in ("bom.jsonl", "bom.json", "bom.csv"):
        result = read_file(tmp_path / name)
        assert user_rows(result) == [row] and result.info["encoding"] == "utf-8-sig", name
    assert user_rows(read_file(tmp_path / "bom.csv", ReadOptions(encoding="utf-8"))) == [row]
    (tmp_path / "utf16.csv").write_bytes("instruction,output\n问,答\n".encode("utf-16"))
    assert user_rows(read_file(tmp_path / "utf16.csv")) == [row]


@pytest.mark.parametrize("name", ["gbk.jsonl", "gbk.csv", "gbk.json"])
def test_gbk_file_read_as_utf8_reports_the_first_bad_byte(tmp_path, name):
    text = {"gbk.jsonl": '{"instruction": "ok", "output": "fine"}\n{"instruction": "ab皇上", "output": "x"}\n',
            "gbk.csv": 'instruction,output\nok,fine\nab皇上,x\n',
            "gbk.json": '[{"instruction": "ok", "output": "fine"},\n{"instruction": "ab皇上", "output": "x"}]'}[name]
    (tmp_path / name).write_bytes(text.encode("gbk"))
    line = 3 if name == "gbk.csv" else 2
    column = text.split("\n")[line - 1].index("皇") + 1
    [problem] = read_error(tmp_path / name, options=ReadOptions(encoding="utf-8"))
    assert (problem.code, problem.line, problem.column) == ("encoding_error", line, column)
    assert problem.params == {"encoding": "utf-8", "byte": "BB", "line": line, "column": column}
    assert "GB18030" in problem.message_en


# --- CSV ----------------------------------------------------------------------------------------------

def test_csv_quotes_newlines_empty_cells_and_row_numbers(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text('instruction,input,output\n"line one\nline two","",answer\n'
                    '"say ""hi""",  ,"a, b"\nlast,,\n', "utf-8")
    result = read_file(path)
    assert user_rows(result) == [
        {"instruction": "line one\nline two", "input": None, "output": "answer"},
        {"instruction": 'say "hi"', "input": "  ", "output": "a, b"},
        {"instruction": "last", "input": None, "output": None}]
    assert result.table.column("_line").to_pylist() == [2, 4, 5]  # the first record spans lines 2-3
    assert result.info["format"] == "csv" and result.problems == []


def test_csv_numbers_stay_text(tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text("id,score\n001,1.50\n2,NA\n", "utf-8")
    assert user_rows(read_file(path)) == [{"id": "001", "score": "1.50"}, {"id": "2", "score": "NA"}]


def test_csv_duplicate_columns_are_renamed_with_a_warning(tmp_path):
    path = tmp_path / "dupes.csv"
    path.write_text("text,text,label,text\na,b,c,d\n", "utf-8")
    result = read_file(path)
    assert result.table.column_names == ["_id", "_line", "text", "text_2", "label", "text_3"]
    [warning] = result.problems
    assert (warning.code, warning.severity) == ("duplicate_column", "warning")
    assert warning.params == {"name": "text", "positions": "1, 2, 4", "renamed": "text_2, text_3"}


def test_csv_header_only_and_empty_files(tmp_path):
    (tmp_path / "header.csv").write_text("instruction,output\n", "utf-8")
    result = read_file(tmp_path / "header.csv")
    assert result.table.num_rows == 0 and result.info["columns"] == ["instruction", "output"]
    (tmp_path / "empty.csv").write_bytes(b"")
    assert codes(read_error(tmp_path / "empty.csv")) == ["file_empty"]
    (tmp_path / "blank.csv").write_text("\n\n  \n", "utf-8")
    assert codes(read_error(tmp_path / "blank.csv")) == ["file_empty"]


def test_csv_ragged_and_blank_rows_are_located_by_the_line_where_they_start(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text('instruction,output\na,b\n"multi\nline",c\nd,e,EXTRA\n\nshort\nf,g\n\n', "utf-8")
    result = read_file(path)
    assert [row["instruction"] for row in user_rows(result)] == ["a", "multi\nline", "short", "f"]
    assert result.table.column("_line").to_pylist() == [2, 3, 7, 8]
    problems = {p.code: p for p in result.problems}
    assert (problems["row_too_many_fields"].line, problems["row_too_many_fields"].params["found"]) == (5, 3)
    assert problems["row_too_many_fields"].row is None
    assert (problems["row_too_few_fields"].line, problems["row_too_few_fields"].row) == (7, 2)
    assert problems["rows_skipped_empty"].params["count"] == 1
    assert problems["rows_skipped_empty"].params["lines"] == [6]


@pytest.mark.parametrize("bad_row", [False, True])  # True: pyarrow rejects the file, the csv module reads it
def test_csv_rows_after_multi_line_cells_keep_their_physical_line(tmp_path, bad_row):
    """Two quoted cells with line breaks (\n and \r\n) move every later row down, in `_line` and in problems."""
    path = tmp_path / "bad.csv"
    text = ('instruction,input,output\n"first\nsecond",x,y\n"a\r\nb\nc",x,y\n'
            + ("d,e,f,EXTRA\n" if bad_row else "d,e,f\n") + "no output,x,\n")
    path.write_bytes(text.encode("utf-8"))
    result = read_file(path)
    assert [row["instruction"] for row in user_rows(result)][:2] == ["first\nsecond", "a\r\nb\nc"]
    assert result.table.column("_line").to_pylist() == ([2, 4, 8] if bad_row else [2, 4, 7, 8])
    if bad_row:
        [problem] = result.problems
        assert (problem.code, problem.line) == ("row_too_many_fields", 7)
        assert problem.located("zh").startswith("bad.csv:7: 该行有 4 个字段")
    report = validate_table(result.table, "alpaca", file="bad.csv")
    assert [p.located("zh") for p in report.problems if p.field == "output"] == ["bad.csv:8: [output] 缺少必填字段“output”。"]


def test_tsv_and_crlf(tmp_path):
    (tmp_path / "data.tsv").write_text("instruction\toutput\r\na\tb, c\r\n", "utf-8")
    assert user_rows(read_file(tmp_path / "data.tsv")) == [{"instruction": "a", "output": "b, c"}]
    (tmp_path / "crlf.csv").write_bytes(b'instruction,output\r\n"x\r\ny",z\r\n')
    assert user_rows(read_file(tmp_path / "crlf.csv")) == [{"instruction": "x\r\ny", "output": "z"}]


def test_csv_huge_field(tmp_path):
    big = "字" * (5 << 20)
    (tmp_path / "big.csv").write_text(f'instruction,output\nq,"{big}"\nq2,a\n', "utf-8")
    result = read_file(tmp_path / "big.csv")
    assert result.table.column("output")[0].as_py() == big and result.table.num_rows == 2


# --- Excel ----------------------------------------------------------------------------------------------

def make_workbook(path):
    import datetime

    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    first.title = "训练"
    first.append(["instruction", "output", "score"])
    first.append(["q1", "a1", 3])
    first.append(["q2", None, 0.1 + 0.2])
    first.append([None, None, None])
    first.append(["q3", "a3", True])
    first.append(["q4", "a4", datetime.datetime(2024, 1, 5)])
    first.merge_cells("B2:B3")  # a1 fills the merged range
    second = book.create_sheet("extra")
    second.append(["instruction", "output"])
    second.append(["x", "y"])
    book.save(path)
    return path


def test_xlsx_first_sheet_merged_cells_numbers_and_empty_rows(tmp_path):
    result = read_file(make_workbook(tmp_path / "book.xlsx"))
    assert user_rows(result) == [
        {"instruction": "q1", "output": "a1", "score": "3"},
        {"instruction": "q2", "output": "a1", "score": "0.3"},
        {"instruction": "q3", "output": "a3", "score": "true"},
        {"instruction": "q4", "output": "a4", "score": "2024-01-05"}]
    assert result.table.column("_line").to_pylist() == [2, 3, 5, 6]
    problems = {p.code: p for p in result.problems}
    assert problems["several_sheets"].params == {"count": 2, "names": "训练, extra", "sheet": "训练"}
    assert problems["merged_cells"].params["ranges"] == "B2:B3"
    assert problems["rows_skipped_empty"].params["count"] == 1
    assert result.info["sheets"] == ["训练", "extra"] and result.info["sheet"] == "训练"


def test_xlsx_other_sheet_missing_sheet_and_list_sheets(tmp_path):
    path = make_workbook(tmp_path / "book.xlsx")
    assert list_sheets(path) == ["训练", "extra"]
    result = read_file(path, ReadOptions(sheet="extra"))
    assert user_rows(result) == [{"instruction": "x", "output": "y"}] and result.problems == []
    [problem] = read_error(path, options=ReadOptions(sheet="nope"))
    assert problem.code == "sheet_not_found" and problem.params["names"] == "训练, extra"


def test_xlsx_header_below_blank_rows_and_duplicate_headers(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet["B3"], sheet["C3"], sheet["D3"] = "text", "text", None
    sheet["B4"], sheet["C4"], sheet["D4"] = "a", "b", "c"
    book.save(tmp_path / "offset.xlsx")
    result = read_file(tmp_path / "offset.xlsx")
    assert result.table.column_names == ["_id", "_line", "text", "text_2", "column_D"]
    assert result.table.column("_line").to_pylist() == [4]
    assert codes(result.problems) == ["duplicate_column"]


def test_xlsx_that_is_not_a_workbook(tmp_path):
    (tmp_path / "fake.xlsx").write_text("not a zip", "utf-8")
    assert codes(read_error(tmp_path / "fake.xlsx")) == ["file_unreadable"]


# --- Parquet and datasets folders ----------------------------------------------------------------------

def test_parquet_typed_columns_become_text(tmp_path):
    table = pa.table({"instruction": ["q", None], "n": [1, 2], "x": [1.5, float("nan")], "flag": [True, False],
                      "history": [[["a", "b"]], []], "meta": [{"k": "中"}, None]})
    pq.write_table(table, tmp_path / "data.parquet")
    result = read_file(tmp_path / "data.parquet")
    assert user_rows(result) == [
        {"instruction": "q", "n": "1", "x": "1.5", "flag": "true", "history": '[["a","b"]]', "meta": '{"k":"中"}'},
        {"instruction": None, "n": "2", "x": None, "flag": "false", "history": "[]", "meta": None}]
    assert result.table.column("_line").to_pylist() == [1, 2]
    assert result.table.schema.field("n").type == pa.string()


def test_nested_arrow_values_round_trip_as_json():
    """Vectorized JSON text of lists/structs (sliced, with nulls and escapes) parses back to the values."""
    import random

    from workbench.data.read_convert import text_column

    rng = random.Random(7)
    pieces = ["a", "中", '"', "\\", "\n", "\t", "\x00", "\x1f", "😀", " ", "/"]

    def text():
        return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 5)))

    def without_null_fields(value):  # absent struct fields are left out of the JSON text
        if isinstance(value, dict):
            return {k: without_null_fields(v) for k, v in value.items() if v is not None}
        return [without_null_fields(v) for v in value] if isinstance(value, list) else value

    makers = [lambda: [[text() if rng.random() > 0.1 else None for _ in range(2)] for _ in range(rng.randint(0, 3))],
              lambda: [{"from": text(), "value": text() if rng.random() > 0.2 else None} if rng.random() > 0.1
                       else None for _ in range(rng.randint(0, 3))],
              lambda: {"n": rng.choice([None, 1, -5]), "s": text(), "l": [text()]}]
    for _ in range(200):
        make = rng.choice(makers)
        values = [make() if rng.random() > 0.15 else None for _ in range(rng.randint(1, 8))]
        start = rng.randint(0, len(values) - 1)
        column = text_column(pa.array(values).slice(start))
        for cell, value in zip(column.to_pylist(), values[start:], strict=True):
            assert (cell is None) if value is None else json.loads(cell) == without_null_fields(value)


def test_datasets_folder_with_splits(tmp_path):
    import datasets

    train = datasets.Dataset.from_dict({"instruction": ["a", "b"], "output": ["1", "2"]})
    valid = datasets.Dataset.from_dict({"instruction": ["c"], "output": ["3"]})
    datasets.DatasetDict({"train": train, "valid": valid}).save_to_disk(str(tmp_path / "dd"))
    assert detect_format(tmp_path / "dd") == "hf"
    result = read_file(tmp_path / "dd")
    assert result.table.column("_split").to_pylist() == ["train", "train", "validation"]
    assert result.table.column("_line").to_pylist() == [1, 2, 1]
    assert result.table.column("_id").to_pylist() == [0, 1, 2]
    train.save_to_disk(str(tmp_path / "single"))
    assert user_rows(read_file(tmp_path / "single")) == [{"instruction": "a", "output": "1"},
                                                        {"instruction": "b", "output": "2"}]


# --- files and names ------------------------------------------------------------------------------------

def test_missing_unknown_and_empty_files(tmp_path):
    assert codes(read_error(tmp_path / "nope.jsonl")) == ["file_not_found"]
    (tmp_path / "notes.txt").write_text("hello", "utf-8")
    [problem] = read_error(tmp_path / "notes.txt")
    assert problem.code == "file_unsupported" and problem.params["suffix"] == ".txt"
    with pytest.raises(ReadError):
        detect_format(tmp_path / "notes.txt")
    (tmp_path / "folder").mkdir()
    assert codes(read_error(tmp_path / "folder")) == ["file_unsupported"]
    for name in ("empty.json", "empty.jsonl", "empty.parquet"):
        (tmp_path / name).write_bytes(b"")
        assert codes(read_error(tmp_path / name)) == ["file_empty"], name
    (tmp_path / "spaces.json").write_text("  \n\n ", "utf-8")
    assert codes(read_error(tmp_path / "spaces.json")) == ["file_empty"]


def test_display_name_is_used_as_given_and_nothing_is_written(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / "odd name 中 ;$(x).jsonl"
    path.write_text('{"instruction": "a", "output": 1}\n', "utf-8")
    before = sorted(os.listdir(folder))
    result = read_file(path, display_name="../../etc/passwd")
    assert [p.file for p in result.problems] == ["../../etc/passwd"]
    assert sorted(os.listdir(folder)) == before
    [problem] = read_error(folder / "missing.json", display_name="../../etc/passwd")
    assert problem.file == "../../etc/passwd"


def test_an_exception_from_progress_stops_the_read(tmp_path):
    """A job cancels by raising from its progress callback, even inside pyarrow's reader threads."""
    class Cancelled(Exception):
        pass

    def cancel(done, total):
        raise Cancelled()

    path = write_jsonl(tmp_path / "rows.jsonl", [{"instruction": "q", "output": "a"}] * 10)
    for target in (path, HUANHUAN):
        with pytest.raises(Cancelled):
            read_file(target, progress=cancel)


def test_progress_reports_bytes_up_to_the_file_size(tmp_path):
    rows = [{"instruction": f"q{i}", "output": "答" * 50} for i in range(40_000)]
    for path in (write_jsonl(tmp_path / "p.jsonl", rows), tmp_path / "p.csv"):
        if path.suffix == ".csv":
            path.write_text("instruction,output\n" + "".join(f"{r['instruction']},{r['output']}\n" for r in rows),
                            "utf-8")
        calls = []
        read_file(path, progress=lambda done, total: calls.append((done, total)))
        size = path.stat().st_size
        assert calls and calls[-1] == (size, size) and all(total == size for _, total in calls)
        assert [done for done, _ in calls] == sorted(done for done, _ in calls)
