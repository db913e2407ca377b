"""Staged imports of real files into a real workspace: located problems, fixes, drops, and an untouched
workspace when a file cannot be read. (The reader itself is covered in test_read.py.)"""
import io
import json
import os
import time

import pandas as pd
import pyarrow.parquet as pq
import pytest

from workbench.data import importer
from workbench.data.importer import commit_staged, stage_file
from workbench.data.read import ReadOptions
from workbench.problems import ReadError


def write(path, content, encoding="utf-8"):
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def jsonl(rows):
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def where(problems, code=None):
    """(code, file, line, row, field) of each problem, optionally of one code."""
    return {(p.code, p.file, p.line, p.row, p.field) for p in problems if code in (None, p.code)}


def snapshot(ws):
    """Every file in the workspace except the catalog (SQLite touches its own files on reads)."""
    return sorted(str(p.relative_to(ws.root)) for p in ws.root.rglob("*") if not p.name.startswith("catalog."))


def assert_untouched(ws, before):
    assert ws.datasets() == []
    assert snapshot(ws) == before
    assert list((ws.root / "staging").iterdir()) == []


def user_rows(table):
    return [{k: v for k, v in row.items() if not k.startswith("_")} for row in table.to_pylist()]


def version_rows(ws, version):
    return ws.read(version).to_pylist()


# --- files that cannot be read: ReadError, located, nothing written --------------------------------------

def _gbk_text():
    return '{"instruction": "ok", "output": "fine"}\n{"instruction": "ab皇上", "output": "x"}\n'


UNREADABLE = [  # (file name, content, read options, code, line, column)
    ("bad.json", '[\n {"instruction": "a", "output": "b"},\n {"instruction": "c" "output": "d"}\n]', None,
     "json_syntax", 3, len(' {"instruction": "c" ') + 1),
    ("empty.jsonl", b"", None, "file_empty", None, None),
    ("blank.json", "  \n\n\t ", None, "file_empty", None, None),
    ("blank.csv", "\n  \n", None, "file_empty", None, None),
    ("object.json", '{"version": 1, "rows": [{"instruction": "q", "output": "a"}]}', None, "json_not_array", 1, None),
    ("gbk.jsonl", _gbk_text().encode("gbk"), ReadOptions(encoding="utf-8"), "encoding_error", 2,
     _gbk_text().split("\n")[1].index("皇") + 1),
    ("all-broken.jsonl", '{"instruction": "a"\n{"output": \n', None, "json_syntax", 1, None),
    ("fake.xlsx", "not a zip file", None, "file_unreadable", None, None),
    ("notes.txt", "instruction: q", None, "file_unsupported", None, None),
]


@pytest.mark.parametrize("name,content,options,code,line,column", UNREADABLE, ids=[c[0] for c in UNREADABLE])
def test_unreadable_file_raises_located_problems_and_leaves_the_workspace_untouched(
        ws, tmp_path, name, content, options, code, line, column):
    path = write(tmp_path / name, content)
    before = snapshot(ws)
    with pytest.raises(ReadError) as caught:
        stage_file(ws, path, options)
    first = caught.value.problems[0]
    assert (first.code, first.file, first.line) == (code, name, line)
    if column is not None:
        assert first.column == column
    assert first.message_en and first.message_zh and name in str(caught.value)
    assert_untouched(ws, before)


def test_missing_file_and_missing_sheet_leave_the_workspace_untouched(ws, tmp_path):
    from openpyxl import Workbook

    before = snapshot(ws)
    with pytest.raises(ReadError) as caught:
        stage_file(ws, tmp_path / "gone.jsonl", display_name="上传的文件.jsonl")
    assert where(caught.value.problems) == {("file_not_found", "上传的文件.jsonl", None, None, None)}
    book = Workbook()
    book.active.append(["instruction", "output"])
    book.save(tmp_path / "book.xlsx")
    with pytest.raises(ReadError) as caught:
        stage_file(ws, tmp_path / "book.xlsx", ReadOptions(sheet="nope"))
    assert [p.code for p in caught.value.problems] == ["sheet_not_found"]
    assert_untouched(ws, before)


def test_a_hostile_display_name_is_only_a_label(ws, tmp_path):
    """`../../etc/passwd` names the source in problems; staging and the dataset stay inside the workspace."""
    outside = tmp_path / "outside"
    outside.mkdir()
    path = write(outside / "odd name 中 ;$(x) 'q'.jsonl", jsonl([{"instruction": "q", "output": 1}]))
    before_outside = sorted(os.listdir(outside))
    with pytest.raises(ReadError):
        stage_file(ws, write(outside / "empty.json", b""), display_name="../../etc/passwd")
    assert list((ws.root / "staging").iterdir()) == []
    staged = stage_file(ws, path, display_name="../../etc/passwd")
    assert staged.folder.resolve().parent == (ws.root / "staging").resolve()
    assert where(staged.problems) == {("wrong_type", "../../etc/passwd", 1, 0, "output")}
    version = commit_staged(ws, staged.id, "", drop_error_rows=True)
    assert version.params["source"] == "../../etc/passwd" and version.rows == 0
    assert version.path.resolve().is_relative_to(ws.root) and "/" not in version.dataset_id
    assert ws.dataset(version.dataset_id).name == "passwd"
    assert sorted(os.listdir(outside)) == sorted(before_outside + ["empty.json"])
    assert not (tmp_path / "etc").exists() and not (ws.root.parent / "etc").exists()


# --- files that are read, with located problems per row ----------------------------------------------------

def test_one_broken_line_among_100k_is_skipped_located_and_recorded(ws, tmp_path):
    broken = 54_321
    path = tmp_path / "big.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        for number in range(1, 100_001):
            out.write('{"instruction": "q", "output": "missing quote}\n' if number == broken
                      else f'{{"instruction": "q{number}", "output": "答"}}\n')
    staged = stage_file(ws, path)
    assert staged.rows == 99_999 and staged.lines_skipped == 1 and staged.error_rows == []
    [problem] = staged.problems
    assert (problem.code, problem.file, problem.line, problem.row) == ("json_syntax", "big.jsonl", broken, None)
    assert problem.column is not None and staged.counts == {"json_syntax": 1}
    assert staged.summary()["lines_skipped"] == 1
    version = commit_staged(ws, staged.id, "big", drop_error_rows=True)
    assert version.rows == 99_999
    assert version.params["rows_read"] == 99_999 and version.params["lines_skipped"] == 1
    assert version.params["dropped_rows"] == 0 and version.params["source"] == "big.jsonl"
    lines = ws.read(version, ["_line"]).column("_line").to_pylist()
    assert broken not in lines and lines[broken - 2: broken] == [broken - 1, broken + 1]


def test_wrong_types_are_located_and_kept_as_text(ws, tmp_path):
    rows = [{"instruction": "q1", "output": 42, "history": "not a list"},
            {"instruction": "q2", "output": "a2", "history": [["你好", "娘娘万福"]]},
            {"instruction": "q3", "output": "a3", "history": [["问", 1]]},
            {"instruction": "q4", "output": True}]
    path = write(tmp_path / "types.json", "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]")
    staged = stage_file(ws, path)
    assert where(staged.problems) == {
        ("wrong_type", "types.json", 2, 0, "output"), ("wrong_type", "types.json", 2, 0, "history"),
        ("history_shape", "types.json", 2, 0, "history"), ("history_shape", "types.json", 4, 2, "history"),
        ("wrong_type", "types.json", 5, 3, "output")}
    found = {(p.field, p.row): p.params["found"] for p in staged.problems if p.code == "wrong_type"}
    assert found == {("output", 0): "number", ("history", 0): "text", ("output", 3): "boolean"}
    assert staged.error_rows == [0, 2, 3] and staged.summary()["rows_with_errors"] == 3
    assert staged.counts == {"wrong_type": 3, "history_shape": 2}
    assert user_rows(importer.staged_rows(staged, [0, 3])) == [
        {"instruction": "q1", "output": "42", "history": "not a list"},
        {"instruction": "q4", "output": "true", "history": None}]


def test_missing_required_field_is_located_by_line(ws, tmp_path):
    rows = [{"instruction": "q1", "output": "a1"}, {"instruction": "q2"}, {"output": "a3", "input": "i3"},
            {"instruction": "q4", "output": "a4"}]
    path = write(tmp_path / "missing.jsonl", jsonl(rows))
    staged = stage_file(ws, path)
    assert where(staged.problems) == {("missing_field", "missing.jsonl", 2, 1, "output"),
                                      ("missing_field", "missing.jsonl", 3, 2, "instruction")}
    assert staged.error_rows == [1, 2] and staged.info["schema"] == "alpaca"
    assert "“output”" in staged.problems[0].message_zh or "“output”" in staged.problems[1].message_zh


def test_whitespace_only_rows_and_cells(ws, tmp_path):
    """A blank JSONL line is skipped; a row whose values are only whitespace (U+3000 too) is an error."""
    path = write(tmp_path / "spaces.jsonl", '{"instruction": "q", "output": "a"}\n   \n'
                 '{"instruction": "  \\t ", "output": "\u3000\u3000"}\n{"instruction": "q", "output": " a "}\n')
    staged = stage_file(ws, path)
    assert staged.rows == 3 and staged.lines_skipped == 0
    assert where(staged.problems) == {("empty_value", "spaces.jsonl", 3, 1, "instruction"),
                                      ("empty_value", "spaces.jsonl", 3, 1, "output")}
    csv_path = write(tmp_path / "spaces.csv", 'instruction,output\nq,a\n"  ","\t"\n,\n\u3000,a\n')
    staged = stage_file(ws, csv_path)
    assert where(staged.problems, "empty_value") == {("empty_value", "spaces.csv", 3, 1, "instruction"),
                                                     ("empty_value", "spaces.csv", 3, 1, "output"),
                                                     ("empty_value", "spaces.csv", 5, 2, "instruction")}
    [skipped] = [p for p in staged.problems if p.code == "rows_skipped_empty"]
    assert skipped.params["lines"] == [4] and skipped.severity == "warning"
    assert staged.error_rows == [1, 2]


def test_nan_and_none_cells_are_missing_but_their_words_are_text(ws, tmp_path):
    path = write(tmp_path / "nan.jsonl", '{"instruction": null, "output": "a"}\n{"instruction": NaN, "output": "b"}\n'
                 '{"instruction": "NaN", "output": "None"}\n')
    staged = stage_file(ws, path)
    assert where(staged.problems, "missing_field") == {("missing_field", "nan.jsonl", 1, 0, "instruction"),
                                                       ("missing_field", "nan.jsonl", 2, 1, "instruction")}
    assert staged.error_rows == [0, 1]
    assert user_rows(importer.staged_rows(staged, [2])) == [{"instruction": "NaN", "output": "None"}]
    csv_path = write(tmp_path / "nan.csv", "instruction,output\nNaN,None\n,b\nq,\n")
    staged = stage_file(ws, csv_path)
    assert where(staged.problems) == {("missing_field", "nan.csv", 3, 1, "instruction"),
                                      ("missing_field", "nan.csv", 4, 2, "output")}


def test_csv_duplicate_columns_are_renamed_and_imported(ws, tmp_path):
    path = write(tmp_path / "dupes.csv", "instruction,output,output\nq,a,b\n")
    staged = stage_file(ws, path)
    [warning] = staged.problems
    assert (warning.code, warning.severity, warning.file, warning.field) == ("duplicate_column", "warning",
                                                                             "dupes.csv", "output")
    assert warning.params["renamed"] == "output_2" and staged.error_rows == []
    version = commit_staged(ws, staged.id, "dupes")
    assert version.columns == ["_id", "_line", "instruction", "output", "output_2"]
    assert user_rows(ws.read(version)) == [{"instruction": "q", "output": "a", "output_2": "b"}]


def test_csv_embedded_newlines_and_quotes_keep_later_rows_located(ws, tmp_path):
    path = write(tmp_path / "quoted.csv", 'instruction,output\n"he said ""hi""\nand left","ok, fine"\n'
                 '"two\r\nlines",\nlast,"""quoted"""\n')
    staged = stage_file(ws, path)
    assert user_rows(importer.staged_rows(staged)) == [
        {"instruction": 'he said "hi"\nand left', "output": "ok, fine"},
        {"instruction": "two\r\nlines", "output": None},
        {"instruction": "last", "output": '"quoted"'}]
    # located by the text line where the record starts (record 2 of the data, after a two-line cell)
    assert where(staged.problems) == {("missing_field", "quoted.csv", 4, 1, "output")}


def test_gbk_file_is_detected_and_the_encoding_recorded(ws, tmp_path):
    rows = [{"instruction": "皇上驾到！", "output": "臣妾恭迎圣驾。"}, {"instruction": "退下吧", "output": "嗻"}]
    path = write(tmp_path / "gbk.csv", "instruction,output\n" + "".join(f"{r['instruction']},{r['output']}\n"
                                                                     for r in rows), "gbk")
    staged = stage_file(ws, path)
    assert staged.info["encoding"] == "gb18030" and staged.problems == []
    version = commit_staged(ws, staged.id, "gbk")
    assert user_rows(ws.read(version)) == rows and version.params["encoding"] == "gb18030"


def test_bom_does_not_leak_into_the_first_column_name(ws, tmp_path):
    for name, content in [("bom.csv", "\ufeffinstruction,output\n问,答\n"),
                          ("bom.jsonl", '\ufeff{"instruction": "问", "output": "答"}\n')]:
        staged = stage_file(ws, write(tmp_path / name, content))
        assert staged.info["schema"] == "alpaca" and staged.problems == [], name
        assert staged.info["columns"] == ["instruction", "output"] and staged.info["encoding"] == "utf-8-sig"


def make_workbook(path):
    from openpyxl import Workbook

    book = Workbook()
    main = book.active
    main.title = "主表"
    main.append(["instruction", "input", "output"])
    main.append(["q1", None, "a1"])
    main.append(["q2", None, None])  # empty output cell
    main.append([None, None, None])  # empty row
    main.append(["   ", "x", "a4"])
    main.append(["q5", None, None])
    main.merge_cells("C5:C6")  # a4 fills q5's output
    extra = book.create_sheet("extra")
    extra.append(["instruction", "output"])
    extra.append(["x", "y"])
    book.save(path)
    return path


def test_xlsx_with_several_sheets_merged_and_empty_cells(ws, tmp_path):
    path = make_workbook(tmp_path / "book.xlsx")
    staged = stage_file(ws, path)
    codes = {p.code: p for p in staged.problems}
    assert codes["several_sheets"].params == {"count": 2, "names": "主表, extra", "sheet": "主表"}
    assert codes["merged_cells"].params["ranges"] == "C5:C6"
    assert codes["rows_skipped_empty"].params["lines"] == [4]
    assert where(staged.problems, "missing_field") == {("missing_field", "book.xlsx", 3, 1, "output")}
    assert where(staged.problems, "empty_value") == {("empty_value", "book.xlsx", 5, 2, "instruction")}
    assert staged.error_rows == [1, 2] and staged.info["sheets"] == ["主表", "extra"]
    assert importer.staged_rows(staged, [3]).to_pylist() == [
        {"_id": 3, "_line": 6, "instruction": "q5", "input": None, "output": "a4"}]
    picked = stage_file(ws, path, ReadOptions(sheet="extra"))
    assert picked.problems == [] and picked.info["sheet"] == "extra"
    version = commit_staged(ws, picked.id, "")
    assert version.params["sheet"] == "extra" and version.params["format"] == "xlsx"
    assert user_rows(ws.read(version)) == [{"instruction": "x", "output": "y"}]
    assert ws.dataset(version.dataset_id).name == "book"


def test_xlsx_summary_names_the_sheet_not_an_encoding(ws, tmp_path, capsys):
    """A workbook has no text encoding: the CLI summary shows the sheet it read, never 'None'."""
    from workbench.cli import main

    path = make_workbook(tmp_path / "book.xlsx")
    staged = stage_file(ws, path, ReadOptions(sheet="extra"))
    assert staged.info["encoding"] == "extra" and staged.summary()["encoding"] == "extra"
    assert commit_staged(ws, staged.id, "").params["encoding"] is None  # lineage keeps no made-up encoding
    assert main(["--workspace", str(ws.root), "--lang", "zh", "import", str(path), "--keep-bad"]) == 0
    out = capsys.readouterr().out
    assert "（xlsx，主表）" in out and "None" not in out


def test_extremely_long_rows_are_imported_whole(ws, tmp_path):
    long_text = "长" * (3 << 20)
    path = write(tmp_path / "long.jsonl", jsonl([{"instruction": "q", "output": long_text},
                                                 {"instruction": "q2", "output": "short"}]))
    staged = stage_file(ws, path)
    assert staged.problems == [] and staged.rows == 2
    version = commit_staged(ws, staged.id, "long")
    assert ws.read(version).column("output")[0].as_py() == long_text


# --- review and commit --------------------------------------------------------------------------------

def stage_types(ws, tmp_path):
    rows = [{"instruction": "q0", "output": 42, "history": "not a list"},
            {"instruction": "q1", "output": "a1"},
            {"instruction": "  ", "output": "a2", "history": [["x", 1]]},
            {"instruction": "q3", "output": None},
            {"instruction": "q4", "output": "a4", "history": [["你好", "娘娘"]]}]
    return stage_file(ws, write(tmp_path / "types.jsonl", jsonl(rows)))


def test_staged_import_is_stored_and_loads_back(ws, tmp_path):
    staged = stage_types(ws, tmp_path)
    assert staged.folder == ws.root / "staging" / staged.id
    assert sorted(os.listdir(staged.folder)) == ["meta.json", "rows.parquet"]
    loaded = importer.load_staged(ws, staged.id)
    assert [p.to_dict() for p in loaded.problems] == [p.to_dict() for p in staged.problems]
    assert (loaded.source, loaded.counts, loaded.error_rows, loaded.rows) == (
        staged.source, staged.counts, staged.error_rows, staged.rows)
    assert loaded.error_rows == [0, 2, 3] and loaded.summary() == staged.summary()
    assert pq.read_table(loaded.rows_path).num_rows == 5
    assert importer.staged_rows(loaded, limit=2).column("_id").to_pylist() == [0, 1]
    assert importer.staged_rows(loaded, [4, 0, 99]).column("_id").to_pylist() == [0, 4]
    assert ws.datasets() == []  # nothing is listed before the commit


def test_fixes_in_place_make_rows_valid(ws, tmp_path):
    staged = stage_types(ws, tmp_path)
    fixes = {0: {"output": "四十二", "history": "[]"}, 2: {"instruction": "q2", "history": '[["x", "1"]]'},
             "3": {"output": "a3"}}  # ids may arrive as text (from JSON)
    version = commit_staged(ws, staged.id, "fixed", fixes=fixes)
    assert version.rows == 5
    assert version.params["fixed_rows"] == 3 and version.params["rows_with_errors_kept"] == 0
    assert version.params["dropped_rows"] == 0
    rows = {row["_id"]: row for row in version_rows(ws, version)}
    assert (rows[0]["output"], rows[0]["history"]) == ("四十二", "[]")
    assert (rows[2]["instruction"], rows[3]["output"]) == ("q2", "a3")
    assert not staged.folder.exists()


def test_fixes_that_miss_a_field_or_leave_it_blank_do_not_count(ws, tmp_path):
    staged = stage_types(ws, tmp_path)
    fixes = {0: {"output": "四十二"},  # the history of row 0 is still text
             2: {"instruction": "\u3000", "history": "[]"},  # still blank
             3: {"output": "a3"}}
    version = commit_staged(ws, staged.id, "partly", fixes=fixes)
    assert version.params["rows_with_errors_kept"] == 2 and version.rows == 5
    staged = stage_types(ws, tmp_path)
    version = commit_staged(ws, staged.id, "partly dropped", fixes=fixes, drop_error_rows=True)
    assert [row["_id"] for row in version_rows(ws, version)] == [1, 3, 4]
    assert version.params["dropped_rows"] == 2 and version.params["rows_with_errors_kept"] == 0


def test_drop_error_rows_drops_exactly_the_bad_rows(ws, tmp_path):
    staged = stage_types(ws, tmp_path)
    version = commit_staged(ws, staged.id, "clean", drop_error_rows=True, description="from types")
    assert [(row["_id"], row["_line"]) for row in version_rows(ws, version)] == [(1, 2), (4, 5)]
    params = version.params
    assert params["source"] == "types.jsonl" and params["format"] == "jsonl" and params["encoding"] == "utf-8"
    assert (params["rows_read"], params["dropped_rows"], params["lines_skipped"]) == (5, 3, 0)
    assert params["problems"] == staged.counts and version.op == "import"
    assert ws.dataset(version.dataset_id).description == "from types"
    kept = commit_staged(ws, stage_types(ws, tmp_path).id, "kept")
    assert kept.rows == 5 and kept.params["rows_with_errors_kept"] == 3 and kept.params["dropped_rows"] == 0


def test_commit_records_lines_skipped_and_dropped_rows_together(ws, tmp_path):
    path = write(tmp_path / "mixed.jsonl", '{"instruction": "q1", "output": "a1"}\n{"instruction": \n[1, 2]\n'
                 '{"instruction": "q4", "output": ""}\n{"instruction": "q5", "output": "a5"}\n')
    staged = stage_file(ws, path)
    assert staged.lines_skipped == 2 and staged.error_rows == [1]
    assert {(p.code, p.line) for p in staged.problems} == {("json_syntax", 2), ("row_not_object", 3),
                                                            ("empty_value", 4)}
    version = commit_staged(ws, staged.id, "mixed", drop_error_rows=True)
    assert [row["_line"] for row in version_rows(ws, version)] == [1, 5]
    assert {k: version.params[k] for k in ("rows_read", "lines_skipped", "dropped_rows")} == {
        "rows_read": 3, "lines_skipped": 2, "dropped_rows": 1}


def test_type_errors_beyond_the_listed_ones_still_mark_their_rows(ws, tmp_path):
    """Only the first 1,000 wrong_type problems are listed; every such row is still an error row."""
    rows = [{"instruction": f"q{n}", "output": n if n < 1200 else f"a{n}"} for n in range(1500)]
    staged = stage_file(ws, write(tmp_path / "numbers.jsonl", jsonl(rows)))
    assert len([p for p in staged.problems if p.code == "wrong_type"]) == 1000
    assert staged.error_rows == list(range(1200)) and staged.counts["wrong_type"] == 1200
    loaded = importer.load_staged(ws, staged.id)
    assert loaded.error_rows == list(range(1200))
    version = commit_staged(ws, staged.id, "numbers", drop_error_rows=True, fixes={1100: {"output": "一千一百"}})
    assert [row["_id"] for row in version_rows(ws, version)] == [1100, *range(1200, 1500)]
    assert version.params["dropped_rows"] == 1199


def test_discard_and_remove_old_staging(ws, tmp_path):
    old, young = stage_types(ws, tmp_path), stage_types(ws, tmp_path)
    week_ago = time.time() - importer.STAGING_MAX_AGE_SECONDS - 60
    os.utime(old.folder, (week_ago, week_ago))
    assert importer.remove_old_staging(ws) == 1
    assert not old.folder.exists() and young.folder.exists()
    importer.discard_staged(ws, young.id)
    assert not young.folder.exists() and ws.datasets() == []
    with pytest.raises(FileNotFoundError):
        importer.load_staged(ws, young.id)


@pytest.mark.parametrize("staging_id", ["..", ".", "", "../..", "a/.."])
def test_a_bad_staging_id_never_reaches_outside_the_staging_folder(ws, tmp_path, staging_id):
    kept = stage_types(ws, tmp_path)
    version = commit_staged(ws, stage_types(ws, tmp_path).id, "kept")
    before = snapshot(ws)
    with pytest.raises((ValueError, FileNotFoundError)):
        importer.discard_staged(ws, staging_id)
    with pytest.raises((ValueError, FileNotFoundError)):
        importer.load_staged(ws, staging_id)
    assert snapshot(ws) == before and kept.folder.exists() and ws.read(version).num_rows == 5


# --- uploads and helpers ----------------------------------------------------------------------------

HOSTILE_NAMES = ["../../etc/passwd", "..", "/etc/shadow", "a/../../b.jsonl", "..\\..\\win.ini", "con.json",
                 "new\nline\x00.csv", "很长的文件名" * 30 + ".jsonl", ".hidden.json"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_save_upload_writes_only_inside_the_workspace(ws, tmp_path, name):
    outside_before = sorted(p.name for p in tmp_path.iterdir())
    stream = io.BytesIO(b'{"instruction": "q", "output": "a"}\n' * 50)
    stream.read()  # a widget may hand over a stream that was already read
    target = importer.save_upload(ws, name, stream, chunk_bytes=7)
    assert target.resolve().parent.parent == (ws.root / "uploads").resolve()
    assert target.read_bytes() == stream.getvalue()
    assert "/" not in target.name and "\\" not in target.name and ".." not in target.name
    assert not target.name.startswith(".") and "\x00" not in target.name and "\n" not in target.name
    assert sorted(p.name for p in tmp_path.iterdir()) == outside_before
    if name.endswith((".jsonl", ".json", ".csv")):  # the format is chosen by the extension, so it is kept
        assert target.suffix == os.path.splitext(name)[1]
        assert len(target.name.encode()) <= 255


def test_an_upload_with_a_long_name_can_be_staged(ws):
    name = "很长的文件名" * 30 + ".jsonl"
    target = importer.save_upload(ws, name, io.BytesIO(jsonl([{"instruction": "q", "output": "a"}]).encode()))
    staged = stage_file(ws, target, display_name=name)
    assert staged.rows == 1 and staged.source == name and staged.problems == []


def test_should_run_in_background_by_size(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BACKGROUND_BYTES", 100)
    small, big = write(tmp_path / "small.jsonl", "x" * 100), write(tmp_path / "big.jsonl", "x" * 101)
    assert not importer.should_run_in_background(small) and importer.should_run_in_background(big)
    folder = tmp_path / "dataset"
    (folder / "train").mkdir(parents=True)
    write(folder / "train" / "a.arrow", "x" * 60)
    assert not importer.should_run_in_background(folder)
    write(folder / "b.arrow", "x" * 60)
    assert importer.should_run_in_background(folder)
    assert not importer.should_run_in_background(tmp_path / "missing.jsonl")


def test_cell_changes_between_edited_frames():
    before = pd.DataFrame({"_id": [5, 9, 12], "instruction": ["q", None, "x"], "output": [None, "a", float("nan")],
                           "score": [1, 2, 3]})
    after = before.copy()
    after.loc[0, "output"] = "新的回答"
    after.loc[1, "instruction"] = ""
    after.loc[2, "output"] = None  # NaN -> None is no change
    after.loc[2, "score"] = 4
    assert importer.cell_changes(before, after) == {5: {"output": "新的回答"}, 9: {"instruction": ""},
                                                    12: {"score": "4"}}
    assert importer.cell_changes(before, before.copy()) == {}
    cleared = before.copy()
    cleared.loc[1, "output"] = float("nan")
    assert importer.cell_changes(before, cleared) == {9: {"output": None}}
