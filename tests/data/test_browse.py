"""Server-side paging: a page reads only its row groups; filters match, page and are remembered."""
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.data import browse
from workbench.data.browse import RowFilter, matching_positions, page, row_by_id

ROWS = 100


def write(tmp_path, table, group=7, name="v.parquet"):
    path = tmp_path / name
    pq.write_table(table, path, row_group_size=group)
    return path


@pytest.fixture
def rows_table():
    n = np.arange(ROWS)
    instruction = [f"Hello 皇上 {i}" if i % 10 == 0 else f"问题 {i}" for i in n]
    output = ["   " if i % 25 == 0 else ("\u3000" if i % 25 == 1 else "答" * (i % 13)) for i in n]
    output[5] = None
    return pa.table({
        "_id": pa.array(n * 2, pa.int64()),  # ids differ from positions on purpose
        "instruction": instruction,
        "output": pa.array(output, pa.string()),
        "_split": pa.array(np.array(["train", "validation", "test"])[n % 3]),
    })


def test_unfiltered_pages_match_the_table_across_row_groups(tmp_path, rows_table):
    path = write(tmp_path, rows_table)
    for offset, limit in [(0, 10), (5, 9), (13, 30), (95, 10), (99, 1)]:
        rows, total = page(path, offset, limit)
        assert total == ROWS
        assert rows.equals(rows_table.slice(offset, limit))
    rows, total = page(path, 500, 10)
    assert rows.num_rows == 0 and rows.schema.equals(rows_table.schema) and total == ROWS


def test_head_reads_the_first_rows_of_chosen_columns(tmp_path, rows_table):
    path = write(tmp_path, rows_table)
    first = browse.head(path, 20, ["instruction"])
    assert first.column_names == ["instruction"] and first.num_rows == 20
    assert first.column(0).to_pylist() == rows_table.column("instruction").to_pylist()[:20]
    assert browse.head(path, 10_000).num_rows == ROWS  # never more than there is
    assert browse.head(path, 0, ["output"]).column_names == ["output"]


def test_a_page_reads_only_the_row_groups_it_needs(tmp_path, rows_table, monkeypatch):
    path = write(tmp_path, rows_table)
    read = []
    original = pq.ParquetFile.read_row_groups

    def spy(self, groups, *args, **kwargs):
        read.append(list(groups))
        return original(self, groups, *args, **kwargs)
    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", spy)
    page(path, 15, 5)  # rows 15..19 live in groups 2 (14..20)
    assert read == [[2]]


def test_search_is_case_insensitive_and_works_for_chinese(tmp_path, rows_table):
    path = write(tmp_path, rows_table)
    rows, total = page(path, 0, 50, RowFilter(search="hello"))
    assert total == 10 and rows.column("_id").to_pylist() == [i * 2 for i in range(0, ROWS, 10)]
    assert page(path, 0, 50, RowFilter(search="皇上"))[1] == 10
    assert page(path, 0, 50, RowFilter(search="HELLO 皇上 9"))[1] == 1  # "Hello 皇上 90"
    assert page(path, 0, 50, RowFilter(search="答答答答答答答答答答答答"))[1] == sum(
        1 for i in range(ROWS) if i % 13 == 12 and i % 25 > 1 and i != 5)
    assert page(path, 0, 50, RowFilter(search="hello", fields=["output"]))[1] == 0
    assert page(path, 0, 50, RowFilter(search="a.b"))[1] == 0  # literal, not a pattern


def test_filters_combine_and_page_through_results(tmp_path, rows_table):
    path = write(tmp_path, rows_table)
    outputs = rows_table.column("output").to_pylist()
    expected = [i for i in range(ROWS) if i % 3 == 1 and 3 <= len(outputs[i] or "") <= 5]
    assert 25 in expected  # "   " is three characters long
    row_filter = RowFilter(split="validation", length_field="output", min_length=3, max_length=5)
    first, total = page(path, 0, 4, row_filter)
    second, _ = page(path, 4, 4, row_filter)
    assert total == len(expected)
    assert first.column("_id").to_pylist() + second.column("_id").to_pylist() == [i * 2 for i in expected[:8]]
    assert set(first.column("_split").to_pylist()) == {"validation"}


def test_empty_field_finds_null_blank_and_full_width_space(tmp_path, rows_table):
    path = write(tmp_path, rows_table)
    rows, total = page(path, 0, 100, RowFilter(empty_field="output"))
    expected = sorted({i for i in range(ROWS) if i % 25 in (0, 1) or i % 13 == 0} | {5})
    assert rows.column("_id").to_pylist() == [i * 2 for i in expected] and total == len(expected)


def test_split_filter_on_a_version_without_splits_matches_nothing(tmp_path, rows_table):
    path = write(tmp_path, rows_table.drop_columns(["_split"]))
    rows, total = page(path, 0, 10, RowFilter(split="train"))
    assert total == 0 and rows.num_rows == 0


def test_bad_filters_say_what_is_wrong_in_both_languages(tmp_path, rows_table):
    path = write(tmp_path, rows_table)
    with pytest.raises(ValueError, match="nope.*/.*不存在"):
        page(path, 0, 10, RowFilter(search="x", fields=["nope"]))
    with pytest.raises(ValueError, match="length_field"):
        page(path, 0, 10, RowFilter(min_length=3))
    with pytest.raises(ValueError):
        page(path, -1, 10)


def test_matching_rows_are_remembered_per_file_and_filter(tmp_path, rows_table, monkeypatch):
    path = write(tmp_path, rows_table)
    calls = []
    original = browse._mask
    monkeypatch.setattr(browse, "_mask", lambda *a: calls.append(1) or original(*a))
    browse._cached_positions.cache_clear()
    groups = pq.ParquetFile(path).num_row_groups
    for offset in (0, 10, 20):
        page(path, offset, 10, RowFilter(search="问题"))
    assert len(calls) == groups  # computed once, then served from the cache
    page(path, 0, 10, RowFilter(search="问题", fields=["instruction"]))
    assert len(calls) == 2 * groups  # another filter is another entry
    positions = matching_positions(path, RowFilter(search="问题"))
    assert not positions.flags.writeable and len(positions) == 90


def test_an_inactive_filter_is_plain_paging(tmp_path, rows_table):
    path = write(tmp_path, rows_table)
    assert page(path, 3, 5, RowFilter(length_field="output"))[0].equals(rows_table.slice(3, 5))


def test_row_by_id_reads_the_row_or_says_none(tmp_path, rows_table):
    shuffled = rows_table.take(pa.array(np.random.default_rng(0).permutation(ROWS)))
    path = write(tmp_path, shuffled)
    assert row_by_id(path, 42) == {"_id": 42, "instruction": "问题 21", "output": "答" * 8, "_split": "train"}
    assert row_by_id(path, 43) is None
    assert row_by_id(path, 10_000) is None


def test_pages_a_workspace_version(ws, rows_table):
    version = ws.create_dataset("paged", rows_table.drop_columns(["_id"]))
    rows, total = page(version.path, 0, 3, RowFilter(search="皇上"))
    assert total == 10 and rows.column("_id").to_pylist() == [0, 10, 20]
    assert row_by_id(version.path, 7)["instruction"] == "问题 7"
