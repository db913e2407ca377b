"""The Import page counts as the user does: rows and lines from 1, skipped lines in the summary, and a broken
JSON line explained in the user's language (AppTest, real files)."""
import json

from tests.pages.conftest import no_errors, page


def check(at, path):
    at.text_input(key="import_path").input(str(path)).run()
    at.button(key="check").click().run()
    no_errors(at)
    return at


def problems(at):
    return next(frame.value for frame in at.dataframe if "message" in frame.value.columns)


def test_rows_and_lines_are_both_counted_from_one_in_the_problems_and_the_fix_table(app_env, tmp_path):
    data = tmp_path / "missing.jsonl"
    data.write_text('{"instruction": "问一"}\n{"instruction": "问二", "output": "答二"}\n{"instruction": "问三"}\n',
                    encoding="utf-8")
    at = check(page("import_data").run(), data)
    shown = problems(at)
    assert shown["line"].tolist() == [1, 3] and shown["row"].tolist() == [1, 3]
    assert list(shown.columns) == ["severity", "file", "line", "row", "field", "message"]
    assert set(shown["severity"]) == {"error"}
    fix = next(frame.value for frame in at.dataframe if "_row" in frame.value.columns)  # the fix editor
    assert fix["_row"].tolist() == [1, 3] and fix["_line"].tolist() == [1, 3]


def test_a_skipped_line_is_counted_in_the_summary(app_env, tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"instruction": "a", "output": "b"}\n{"instruction": "c", "output": "d"}\n'
                    '{"instruction": "e" "output": "f"}\n{"instruction": "g", "output": "h"}\n', encoding="utf-8")
    at = check(page("import_data").run(), data)
    [summary] = [i.value for i in at.info]
    assert summary == "3 rows read (jsonl, utf-8); 1 unreadable source line(s) skipped; 0 rows with errors."
    assert problems(at)["line"].tolist() == [3]


def test_a_chinese_user_reads_the_json_error_in_chinese_with_line_and_column(app_env, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_LANG", "zh")
    data = tmp_path / "bad.jsonl"
    data.write_text('{"instruction": "a", "output": "b"}\n{"instruction": "e" "output": "f"}\n', encoding="utf-8")
    at = check(page("import_data").run(), data)
    assert "1 行源数据无法读取" in at.info[0].value
    shown = problems(at)
    [message] = shown["message"].tolist()
    assert message == "JSON 格式错误：第 2 行第 21 列，缺少逗号“,”（原文：Expecting ',' delimiter）"
    assert shown["severity"].tolist() == ["错误"] and "message_en" not in shown.columns
    headers = {column.get("label") for column in json.loads(problems_proto(at)).values()}
    assert {"级别", "文件", "源文件行", "说明"} <= headers and not headers & {"severity", "file", "line", "message"}


def problems_proto(at):
    return next(frame.proto.columns for frame in at.dataframe if "message" in frame.value.columns)
