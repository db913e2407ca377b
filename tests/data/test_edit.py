"""Row edits are pure table operations by `_id` that keep column order and types."""
import numpy as np
import pyarrow as pa
import pytest

from workbench.data.edit import add_rows, delete_rows, drop_rows_with_problems, update_rows
from workbench.problems import Problem


@pytest.fixture
def table():
    return pa.table({
        "_id": pa.array([10, 11, 12, 13], pa.int64()),
        "instruction": ["问一", "问二", "问三", "问四"],
        "output": pa.array(["答一", None, "答三", "答四"], pa.string()),
        "history": ["[]", "[]", "[]", "[]"],
        "_split": ["train", "train", "test", "validation"],
        "_line": pa.array([2, 3, 4, 5], pa.int64()),
    })


def test_update_sets_only_the_named_cells(table):
    out = update_rows(table, {11: {"output": "新答案"}, 13: {"instruction": "改", "output": None}})
    assert out.schema.equals(table.schema)
    assert out.column("output").to_pylist() == ["答一", "新答案", "答三", None]
    assert out.column("instruction").to_pylist() == ["问一", "问二", "问三", "改"]
    assert out.column("_line").equals(table.column("_line"))
    assert table.column("output").to_pylist()[1] is None  # the input table is untouched


def test_update_stores_nested_values_as_compact_json_and_can_move_a_split(table):
    out = update_rows(table, {10: {"history": [["你好", "好"]], "_split": "test"}})
    assert out.column("history")[0].as_py() == '[["你好","好"]]'
    assert out.column("_split")[0].as_py() == "test"


def test_update_refuses_unknown_ids_and_columns_in_both_languages(table):
    with pytest.raises(ValueError, match=r"_id 99.* / 找不到"):
        update_rows(table, {99: {"output": "x"}})
    with pytest.raises(ValueError, match=r"nope.* / 不存在的列"):
        update_rows(table, {10: {"nope": "x"}})
    with pytest.raises(ValueError, match="不可编辑"):
        update_rows(table, {10: {"_id": 5}})
    assert update_rows(table, {}) is table


def test_delete_drops_the_listed_ids_and_ignores_absent_ones(table):
    out = delete_rows(table, [11, 13, 999])
    assert out.column("_id").to_pylist() == [10, 12] and out.schema.equals(table.schema)
    assert delete_rows(table, []) is table


def test_add_gives_fresh_ids_above_the_maximum_and_nulls_for_missing_columns(table):
    out = add_rows(table, [{"instruction": "新问", "output": "新答"}, {"instruction": "再问", "_id": 10}])
    assert out.schema.equals(table.schema)
    assert out.column("_id").to_pylist()[-2:] == [14, 15]
    assert out.slice(4).to_pylist()[1] == {"_id": 15, "instruction": "再问", "output": None, "history": None,
                                           "_split": None, "_line": None}
    with pytest.raises(ValueError, match="bogus"):
        add_rows(table, [{"bogus": "x"}])
    empty = table.slice(0, 0)
    assert add_rows(empty, [{"instruction": "a"}]).column("_id").to_pylist() == [0]


def test_drop_rows_with_problems_drops_errors_only(table):
    problems = [Problem("empty_value", "error", row=11, field="output"),
                Problem("too_long", "warning", row=12, field="output"),
                Problem("file_empty", "error"),
                Problem("empty_value", "error", row=13, field="output").to_dict()]
    assert drop_rows_with_problems(table, problems).column("_id").to_pylist() == [10, 12]


def test_edits_on_a_large_table_touch_only_their_rows():
    n = 300_000
    text = pa.array(np.char.add("row ", np.arange(n).astype(str)))
    big = pa.table({"_id": pa.array(np.arange(n, dtype=np.int64)), "instruction": text, "output": text})
    out = update_rows(big, {7: {"output": "seven"}, 250_000: {"output": "二十五万"}})
    changed = np.flatnonzero(~np.asarray(out.column("output").to_numpy(zero_copy_only=False) == big.column(
        "output").to_numpy(zero_copy_only=False)))
    assert changed.tolist() == [7, 250_000] and out.column("instruction").equals(big.column("instruction"))
    assert delete_rows(out, range(0, n, 2)).num_rows == n // 2


def test_an_edit_commits_as_a_new_version(ws, table):
    version = ws.create_dataset("edits", table)
    new = ws.commit_version(version.dataset_id, update_rows(ws.read(version), {12: {"output": "改好了"}}),
                            version.number, "edit_rows")
    assert ws.read(new).column("output").to_pylist()[2] == "改好了"
    assert ws.read(version).column("output").to_pylist()[2] == "答三"


def test_a_deleted_last_id_is_not_reused_even_after_a_save(ws, table):
    version = ws.create_dataset("ids", table)
    shrunk = ws.commit_version(version.dataset_id, delete_rows(ws.read(version), [13]), 1, "delete_rows")
    grown = add_rows(ws.read(shrunk), [{"instruction": "新"}])
    assert grown.column("_id").to_pylist() == [10, 11, 12, 14]
    assert add_rows(grown, [{"instruction": "再"}]).column("_id").to_pylist()[-1] == 15
