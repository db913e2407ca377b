import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pydantic import ValidationError

from workbench.data.split import SplitConfig, split_summary, split_table

N = 1_000_000


def table_of(n: int, seed: int = 0, labels=("pos", "neg", "neu", "rare"), weights=(0.6, 0.3, 0.0995, 0.0005),
             groups: int | None = None) -> pa.Table:
    rng = np.random.default_rng(seed)
    columns = {"_id": pa.array(np.arange(n, dtype=np.int64)),
               "instruction": pa.array(np.char.add("q", np.arange(n).astype(str))),
               "label": pa.array(rng.choice(list(labels), size=n, p=list(weights)))}
    if groups:
        columns["group"] = pa.array(rng.integers(0, groups, n).astype(str))
    return pa.table(columns)


@pytest.fixture(scope="module")
def big() -> pa.Table:
    return table_of(N, groups=200_000)


def codes(table: pa.Table) -> np.ndarray:
    return np.asarray(table.column("_split").to_pylist(), dtype=object)


def test_config_validation():
    with pytest.raises(ValidationError, match="add up to 1.*之和必须为 1"):
        SplitConfig(train=0.8, validation=0.15, test=0.15)
    with pytest.raises(ValidationError):
        SplitConfig(train=1.2, validation=-0.2, test=0)
    nearly = SplitConfig(train=0.7, validation=0.2, test=0.1000005)  # within the 1e-6 tolerance
    assert nearly.ratios.sum() == pytest.approx(1, abs=1e-12)
    assert SplitConfig(stratify="", group=" ").stratify is None


def test_plain_sizes_exact_and_order_kept():
    table = table_of(1001)
    out = split_table(table, SplitConfig())
    assert out.column("_id").to_pylist() == table.column("_id").to_pylist()
    assert out.column_names == table.column_names + ["_split"]
    sizes = split_summary(out)["sizes"]
    assert sizes == {"train": 701, "validation": 150, "test": 150}  # 700.7 / 150.15 / 150.15
    for name, ratio in (("train", 0.7), ("validation", 0.15), ("test", 0.15)):
        assert abs(sizes[name] - ratio * 1001) < 1


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7])
def test_tiny_tables(n):
    out = split_table(table_of(n), SplitConfig())
    assert out.num_rows == n and sum(split_summary(out)["sizes"].values()) == n


def test_zero_ratio_split_gets_nothing():
    out = split_table(table_of(1000), SplitConfig(train=0.9, validation=0.1, test=0, stratify="label"))
    assert split_summary(out)["sizes"] == {"train": 900, "validation": 100, "test": 0}


def test_deterministic_and_seeds_differ():
    table = table_of(5000)
    first, again = split_table(table, SplitConfig(seed=7)), split_table(table, SplitConfig(seed=7))
    other = split_table(table, SplitConfig(seed=8))
    assert first.column("_split").equals(again.column("_split"))
    assert not first.column("_split").equals(other.column("_split"))


def test_independent_of_row_order_and_stable_when_rows_are_added():
    """Rows are keyed by `_id`, so shuffling rows changes nothing and adding 1% moves few rows."""
    table = table_of(10_000)
    base = dict(zip(table.column("_id").to_pylist(), split_table(table, SplitConfig()).column("_split").to_pylist()))
    shuffled = table.take(np.random.default_rng(1).permutation(table.num_rows))
    again = split_table(shuffled, SplitConfig())
    assert dict(zip(again.column("_id").to_pylist(), again.column("_split").to_pylist())) == base
    grown = pa.concat_tables([table, table_of(10_100).slice(10_000)])
    moved = sum(base[i] != s for i, s in zip(grown.column("_id").to_pylist()[:10_000],
                                              split_table(grown, SplitConfig()).column("_split").to_pylist()))
    assert moved < 300


def test_replaces_an_existing_split_column():
    table = split_table(table_of(100), SplitConfig(seed=1))
    again = split_table(table, SplitConfig(seed=2))
    assert again.column_names == table.column_names


def test_missing_column_is_a_bilingual_error():
    with pytest.raises(ValueError, match="nope.*不存在"):
        split_table(table_of(10), SplitConfig(stratify="nope"))
    with pytest.raises(ValueError, match="不存在"):
        split_table(table_of(10), SplitConfig(group="nope"))


def label_counts(out: pa.Table) -> dict:
    return split_summary(out, "label")["balance"]


def test_stratified_balance_within_one_row_per_label():
    table = table_of(20_011, seed=3)
    config = SplitConfig(train=0.8, validation=0.1, test=0.1, stratify="label")
    out = split_table(table, config)
    summary = split_summary(out, "label")
    totals = {k: v for k, v in split_summary(table.append_column("_split", pa.array(["train"] * table.num_rows)),
                                             "label")["balance"]["train"].items()}
    for name, ratio in (("train", 0.8), ("validation", 0.1), ("test", 0.1)):
        assert abs(summary["sizes"][name] - ratio * table.num_rows) < 1
        for label, count in totals.items():
            assert abs(summary["balance"][name].get(label, 0) - ratio * count) <= 1, (name, label)


def test_stratified_small_labels_reach_every_split():
    """A label with at least 1/ratio rows appears in that split; nulls are their own class."""
    labels = ["a"] * 70 + ["b"] * 10 + ["c"] * 7 + [None] * 13
    table = pa.table({"_id": pa.array(range(100), pa.int64()), "label": pa.array(labels, pa.string())})
    balance = label_counts(split_table(table, SplitConfig(stratify="label")))
    for name in ("train", "validation", "test"):
        assert {"a", "b", "c", "null"} <= set(balance[name])
    assert balance["train"]["a"] == 49 and balance["validation"]["a"] + balance["test"]["a"] == 21


def test_stratified_on_many_labels():
    table = pa.table({"_id": pa.array(range(50_000), pa.int64()),
                      "label": pa.array((np.arange(50_000) % 9000).astype(str))})
    out = split_table(table, SplitConfig(stratify="label"))
    assert split_summary(out)["sizes"] == {"train": 35_000, "validation": 7_500, "test": 7_500}
    frame = out.select(["label", "_split"]).to_pandas()
    counts = frame.groupby(["label", "_split"]).size().unstack(fill_value=0)
    totals = counts.sum(axis=1)
    for name, ratio in (("train", 0.7), ("validation", 0.15), ("test", 0.15)):
        assert ((counts[name] - ratio * totals).abs() <= 1).all()


def group_sets(out: pa.Table) -> dict:
    frame = out.select(["group", "_split"]).to_pandas()
    return frame.groupby("group")["_split"].nunique()


def test_groups_never_straddle_splits():
    table = table_of(20_000, groups=3_000)
    out = split_table(table, SplitConfig(group="group"))
    assert (group_sets(out) == 1).all()
    sizes = split_summary(out)["sizes"]
    biggest = max(np.unique(table.column("group").to_numpy(zero_copy_only=False), return_counts=True)[1])
    for name, ratio in (("train", 0.7), ("validation", 0.15), ("test", 0.15)):
        assert abs(sizes[name] - ratio * 20_000) <= biggest


def test_null_groups_are_singletons():
    groups = ["a"] * 50 + [None] * 50
    table = pa.table({"_id": pa.array(range(100), pa.int64()), "group": pa.array(groups, pa.string())})
    out = split_table(table, SplitConfig(train=0.5, validation=0.25, test=0.25, group="group"))
    splits = out.column("_split").to_pylist()
    assert len(set(splits[:50])) == 1
    assert len(set(splits[50:])) >= 2  # null-group rows are free to land anywhere


def test_group_and_stratify_together():
    rng = np.random.default_rng(5)
    n = 30_000
    group = rng.integers(0, 5_000, n)
    label = np.where(group % 4 == 0, "rare", "common")  # a group's label is mostly fixed
    label = np.where(rng.random(n) < 0.05, "noise", label)
    table = pa.table({"_id": pa.array(np.arange(n)), "group": pa.array(group.astype(str)), "label": pa.array(label)})
    out = split_table(table, SplitConfig(group="group", stratify="label", seed=3))
    assert (group_sets(out) == 1).all()
    balance = label_counts(out)
    rare_total = sum(balance[s].get("rare", 0) for s in balance)
    assert abs(balance["test"]["rare"] / rare_total - 0.15) < 0.03


def test_huanhuan(huanhuan_rows):
    """The real dataset: exact sizes, output-grouped split keeps identical answers together."""
    table = pa.table({"_id": pa.array(range(len(huanhuan_rows)), pa.int64()),
                      **{k: pa.array([r[k] for r in huanhuan_rows]) for k in ("instruction", "input", "output")}})
    assert table.num_rows == 3729
    out = split_table(table, SplitConfig(train=0.8, validation=0.1, test=0.1, seed=1))
    assert split_summary(out)["sizes"] == {"train": 2983, "validation": 373, "test": 373}
    grouped = split_table(table, SplitConfig(train=0.8, validation=0.1, test=0.1, group="output"))
    frame = grouped.select(["output", "_split"]).to_pandas()
    assert (frame.groupby("output")["_split"].nunique() == 1).all()
    sizes = split_summary(grouped)["sizes"]
    assert abs(sizes["test"] - 373) <= 10


def best_time(function, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def test_million_rows_plain_and_stratified_fast(big):
    plain = best_time(lambda: split_table(big, SplitConfig()))
    stratified = best_time(lambda: split_table(big, SplitConfig(stratify="label")))
    assert plain < 0.3 and stratified < 0.3, (plain, stratified)
    out = split_table(big, SplitConfig(stratify="label"))
    sizes = split_summary(out)["sizes"]
    assert sizes == {"train": 700_000, "validation": 150_000, "test": 150_000}
    labels, counts = np.unique(big.column("label").to_numpy(zero_copy_only=False), return_counts=True)
    balance = label_counts(out)
    for name, ratio in (("train", 0.7), ("validation", 0.15), ("test", 0.15)):
        for label, count in zip(labels, counts):
            assert abs(balance[name][label] - ratio * count) <= 1


def test_million_rows_grouped(big):
    out = split_table(big, SplitConfig(group="group", stratify="label"))
    split = out.column("_split")
    # Group integrity without pandas: each group's split count is 1.
    pairs = pa.table({"g": big.column("group"), "s": split}).group_by("g").aggregate([("s", "count_distinct")])
    assert pc.max(pairs.column("s_count_distinct")).as_py() == 1
    sizes = split_summary(out)["sizes"]
    assert abs(sizes["test"] - 150_000) < 100


def test_summary_fractions_and_missing_split():
    out = split_table(table_of(200), SplitConfig(train=0.5, validation=0.25, test=0.25))
    summary = split_summary(out)
    assert summary["fractions"] == {"train": 0.5, "validation": 0.25, "test": 0.25}
    assert "balance" not in summary
    with pytest.raises(ValueError, match="_split"):
        split_summary(table_of(10))
