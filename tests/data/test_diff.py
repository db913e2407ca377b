"""A diff lines rows up by `_id` and compares user columns and `_split`; counts exact, tables capped."""
import json

import numpy as np
import pyarrow as pa

from workbench.data.diff import CHANGED_FIELDS, diff_tables
from workbench.data.edit import add_rows, delete_rows, update_rows


def base(n=10):
    return pa.table({
        "_id": pa.array(np.arange(n, dtype=np.int64)),
        "instruction": [f"问{i}" for i in range(n)],
        "output": [f"答{i}" for i in range(n)],
        "_line": pa.array(np.arange(n, dtype=np.int64) + 2),
    })


def changed_fields(result) -> dict:
    return {row["_id"]: json.loads(row[CHANGED_FIELDS]) for row in result.changed.to_pylist()}


def test_added_removed_and_changed_rows():
    old = base()
    new = update_rows(old, {2: {"output": "改"}, 5: {"instruction": "改", "output": None}})
    new = add_rows(delete_rows(new, [0, 9]), [{"instruction": "新", "output": "新答"}])
    result = diff_tables(old, new)
    assert result.counts == {"added": 1, "removed": 2, "changed": 2, "unchanged": 6}
    assert result.added.column("_id").to_pylist() == [10]
    assert result.removed.column("_id").to_pylist() == [0, 9]
    assert changed_fields(result) == {2: ["output"], 5: ["instruction", "output"]}
    assert result.changed.to_pylist()[0]["output"] == "改"  # rows as in the new version
    assert result.columns_added == [] and result.columns_removed == []


def test_a_new_split_changes_every_row_and_a_resplit_only_the_moved_ones():
    old = base(6)
    split = old.append_column("_split", pa.array(["train"] * 4 + ["test"] * 2))
    result = diff_tables(old, split)
    assert result.counts["changed"] == 6 and result.columns_added == ["_split"]
    assert set(map(tuple, changed_fields(result).values())) == {("_split",)}
    resplit = update_rows(split, {0: {"_split": "validation"}, 5: {"_split": "train"}})
    assert changed_fields(diff_tables(split, resplit)) == {0: ["_split"], 5: ["_split"]}


def test_null_and_empty_text_differ_but_a_missing_column_equals_null():
    old = base(3).append_column("system", pa.array([None, "", "s"], pa.string()))
    new = update_rows(old, {0: {"system": ""}, 1: {"system": None}})
    assert changed_fields(diff_tables(old, new)) == {0: ["system"], 1: ["system"]}
    without = base(3)
    result = diff_tables(without, old)  # column added: only rows with a value in it changed
    assert result.columns_added == ["system"] and changed_fields(result) == {1: ["system"], 2: ["system"]}
    assert diff_tables(old, without).columns_removed == ["system"]


def test_row_order_and_source_lines_do_not_count_as_changes():
    old = base(50)
    shuffled = old.take(pa.array(np.random.default_rng(1).permutation(50)))
    shuffled = shuffled.set_column(3, "_line", pa.array(np.zeros(50, dtype=np.int64)))
    assert diff_tables(old, shuffled).counts == {"added": 0, "removed": 0, "changed": 0, "unchanged": 50}


def test_changed_rows_are_listed_in_the_new_versions_order():
    old = base(20)
    new = update_rows(old, {i: {"output": "x"} for i in (3, 17, 8)})
    new = new.take(pa.array(np.arange(19, -1, -1)))
    assert diff_tables(old, new).changed.column("_id").to_pylist() == [17, 8, 3]


def test_tables_are_capped_but_counts_stay_exact():
    old = base(5000)
    new = update_rows(delete_rows(old, range(0, 1000)), {i: {"output": "x"} for i in range(2000, 4000)})
    new = add_rows(new, [{"instruction": "n"}] * 700)
    result = diff_tables(old, new, limit=100)
    assert result.counts == {"added": 700, "removed": 1000, "changed": 2000, "unchanged": 2000}
    assert result.added.num_rows == result.removed.num_rows == result.changed.num_rows == 100
    assert result.changed.column_names == new.column_names + [CHANGED_FIELDS]


def test_identical_and_empty_versions():
    old = base(4)
    assert diff_tables(old, old).counts == {"added": 0, "removed": 0, "changed": 0, "unchanged": 4}
    result = diff_tables(old.slice(0, 0), old)
    assert result.counts == {"added": 4, "removed": 0, "changed": 0, "unchanged": 0}
    assert result.changed.num_rows == 0 and CHANGED_FIELDS in result.changed.column_names


def test_diff_of_two_workspace_versions(ws):
    version = ws.create_dataset("d", base(8).drop_columns(["_id"]))
    table = ws.read(version)
    new = ws.commit_version(version.dataset_id, update_rows(table, {3: {"output": "三"}}), version.number, "edit")
    assert diff_tables(ws.read(version), ws.read(new)).counts["changed"] == 1
