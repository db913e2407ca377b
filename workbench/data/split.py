"""Assign rows to train/validation/test: plain, stratified by a label, grouped, or both; seeded.

Rows are ordered by a seeded hash of their `_id`, not by their position, so a split does not depend on
row order, and re-splitting a version with a few rows added or removed moves only rows near the cut
points. Sizes are exact: largest-remainder rounding of ratio x rows, within one row of each ratio.
- Stratified: each label is split in proportion (every split's count within one row of label count x
  ratio), so a label with at least 1/ratio rows appears in that split. Null labels are one class.
- Grouped: whole groups go to one split (groups in seeded order, each to the split whose row range
  holds its middle row), so each cut misses its target by at most half a group. Rows with a null
  group are each a group of their own. Group + stratify: each group counts as its most common label
  (ties: the label that sorts first) and each label's groups are cut in proportion.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..records import ROW_ID, SPLIT, SPLITS

_MASK64 = (1 << 64) - 1


class SplitConfig(BaseModel):
    """Fractions of rows per split (summing to 1), the seed, and optional stratify/group columns."""

    model_config = ConfigDict(extra="forbid")  # a misspelt key is an error, not a silently default fraction

    train: float = Field(0.7, ge=0, le=1)
    validation: float = Field(0.15, ge=0, le=1)
    test: float = Field(0.15, ge=0, le=1)
    seed: int = 42
    stratify: str | None = None  # label column, e.g. output of a classifier
    group: str | None = None  # rows with the same value here never straddle splits

    @field_validator("stratify", "group", mode="before")
    @classmethod
    def blank_is_none(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def fractions_sum_to_one(self) -> "SplitConfig":
        total = self.train + self.validation + self.test
        if abs(total - 1) > 1e-6:
            raise ValueError(f"train + validation + test must add up to 1, got {total:g} / "
                             f"train + validation + test 之和必须为 1，当前为 {total:g}")
        return self

    @property
    def ratios(self) -> np.ndarray:
        ratios = np.array([self.train, self.validation, self.test], dtype=np.float64)
        return ratios / ratios.sum()  # the sum may be off by up to 1e-6; rounding needs it exact


def split_table(table: pa.Table, config: SplitConfig) -> pa.Table:
    """The table with `_split` set (replacing any existing one), rows in their original order."""
    for column in (config.stratify, config.group):
        if column is not None and column not in table.column_names:
            raise ValueError(f"column '{column}' does not exist / 列“{column}”不存在")
    n = table.num_rows
    ratios = config.ratios
    keys = _row_keys(table, config.seed)
    if config.group is not None:
        codes = _group_split(table, config, keys)
    elif config.stratify is not None:
        labels, label_count = _codes(table.column(config.stratify))
        codes = _stratified_split(labels, label_count, keys, ratios, config.seed)
    else:
        codes = _cut(keys, _sizes(n, ratios))
    split = pc.take(pa.array(SPLITS, pa.string()), pa.array(codes))
    if SPLIT in table.column_names:
        return table.set_column(table.column_names.index(SPLIT), SPLIT, split)
    return table.append_column(SPLIT, split)


def split_summary(table: pa.Table, label_column: str | None = None) -> dict:
    """Rows and fractions per split, and label counts per split when `label_column` is given."""
    if SPLIT not in table.column_names:
        raise ValueError("the table has no _split column; split it first / 数据表没有 _split 列，请先划分")
    if label_column is not None and label_column not in table.column_names:
        raise ValueError(f"column '{label_column}' does not exist / 列“{label_column}”不存在")
    counts = {item["values"]: item["counts"] for item in table.column(SPLIT).value_counts().to_pylist()}
    names = list(SPLITS) + sorted(str(k) for k in counts if k not in SPLITS and k is not None)
    sizes = {name: int(counts.get(name, 0)) for name in names}
    if counts.get(None):
        sizes["unassigned"] = int(counts[None])
    total = max(table.num_rows, 1)
    summary = {"sizes": sizes, "fractions": {name: size / total for name, size in sizes.items()}}
    if label_column is not None:
        grouped = table.select([SPLIT, label_column]).group_by([SPLIT, label_column]).aggregate([([], "count_all")])
        balance: dict = {name: {} for name in sizes}
        for row in grouped.to_pylist():
            name = row[SPLIT] if row[SPLIT] is not None else "unassigned"
            label = "null" if row[label_column] is None else str(row[label_column])
            balance[name][label] = int(row["count_all"])
        summary["balance"] = {name: dict(sorted(labels.items())) for name, labels in balance.items()}
    return summary


# --- sizes --------------------------------------------------------------------------------------------

def _sizes(n: int, ratios: np.ndarray) -> np.ndarray:
    """Largest-remainder rounding of n x ratios: integers summing to n, each within one of its exact value."""
    exact = n * ratios
    sizes = np.floor(exact).astype(np.int64)
    extra = n - int(sizes.sum())
    if extra > 0:
        # Ties go to the earlier split (train before validation before test).
        order = np.lexsort((np.arange(len(ratios)), -(exact - sizes)))
        sizes[order[:extra]] += 1
    return sizes


def _allocate(counts: np.ndarray, ratios: np.ndarray, seed: int) -> np.ndarray:
    """Rows per (class, split): each within one of count x ratio, column totals the exact global sizes."""
    exact = counts[:, None] * ratios[None, :]
    allocation = np.floor(exact).astype(np.int64)
    fraction = exact - allocation
    leftover = counts - allocation.sum(axis=1)  # fewer than the number of splits with a fraction
    # Each class's leftover rows go to the splits where its fraction is largest ...
    preferred = np.argsort(-fraction, axis=1, kind="stable")
    for place in range(len(ratios)):
        rows = np.flatnonzero(leftover > place)
        allocation[rows, preferred[rows, place]] += 1
    # ... then, to hit the exact totals, some classes (in seeded order) move a leftover row from a split
    # over its total to one under it, preferring classes that have a fraction there.
    demand = _sizes(int(counts.sum()), ratios) - allocation.sum(axis=0)
    floors = np.floor(exact).astype(np.int64)
    shuffled = np.random.default_rng(seed).permutation(len(counts))
    moved = True
    while moved:
        moved = False
        for over in np.flatnonzero(demand < 0):
            for under in np.flatnonzero((demand > 0) & (ratios > 0)):
                movable = (allocation[:, over] > floors[:, over]) & (allocation[:, under] == floors[:, under])
                candidates = shuffled[movable[shuffled]]
                with_fraction = fraction[candidates, under] > 0
                candidates = np.concatenate((candidates[with_fraction], candidates[~with_fraction]))
                chosen = candidates[:min(-demand[over], demand[under])]
                allocation[chosen, over] -= 1
                allocation[chosen, under] += 1
                demand[over] += len(chosen)
                demand[under] -= len(chosen)
                moved = moved or len(chosen) > 0
    return allocation


# --- row keys and label codes ---------------------------------------------------------------------

def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer: spreads integers into well-mixed uint64 keys."""
    x = values.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _row_keys(table: pa.Table, seed: int) -> np.ndarray:
    ids = (table.column(ROW_ID).to_numpy().astype(np.int64) if ROW_ID in table.column_names
           else np.arange(table.num_rows, dtype=np.int64))
    offset = np.uint64((seed * 0x9E3779B97F4A7C15) & _MASK64)
    return _mix(ids.view(np.uint64) + offset)


def _codes(column: pa.ChunkedArray, ordered: bool = True) -> tuple[np.ndarray, int]:
    """Integer code per row (in sorted value order when `ordered`); nulls share one extra code."""
    array = column.combine_chunks() if len(column) else pa.array([], pa.string())
    encoded = array.dictionary_encode()
    size = len(encoded.dictionary)
    indices = encoded.indices.fill_null(size).to_numpy(zero_copy_only=False).astype(np.int64)
    if not ordered:
        return indices, size + 1
    rank = np.empty(size + 1, dtype=np.int64)
    rank[pc.array_sort_indices(encoded.dictionary).to_numpy()] = np.arange(size)
    rank[size] = size
    return rank[indices], size + 1


# --- the three kinds of split ----------------------------------------------------------------------

def _cut(keys: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Split codes: the `sizes[0]` smallest keys to train, the next `sizes[1]` to validation, the rest test."""
    codes = np.full(len(keys), 2, dtype=np.int8)
    if not len(keys):
        return codes
    cuts = np.cumsum(sizes)[:2]
    # A partition, not a sort: only which side of each cut a row falls on matters (O(n)).
    order = np.argpartition(keys, np.clip(cuts, 0, len(keys) - 1))
    codes[order[:cuts[1]]] = 1
    codes[order[:cuts[0]]] = 0
    return codes


def _stratified_split(labels: np.ndarray, label_count: int, keys: np.ndarray, ratios: np.ndarray,
                      seed: int) -> np.ndarray:
    counts = np.bincount(labels, minlength=label_count)
    allocation = _allocate(counts, ratios, seed)
    if label_count > 4096:  # many small classes: one sort beats a partition per class
        return _cut_in_order(labels, keys, np.ones(len(labels), dtype=np.int64), allocation)
    # Few classes: a radix sort by class, then a partition within each class.
    order = np.argsort(labels.astype(np.int16), kind="stable")
    bounds = np.concatenate(([0], np.cumsum(counts)))
    codes = np.empty(len(labels), dtype=np.int8)
    for label in np.flatnonzero(counts):
        rows = order[bounds[label]:bounds[label + 1]]
        codes[rows] = _cut(keys[rows], allocation[label])
    return codes


def _group_split(table: pa.Table, config: SplitConfig, keys: np.ndarray) -> np.ndarray:
    column = table.column(config.group)
    groups, group_count = _codes(column, ordered=False)
    null_rows = np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))
    if len(null_rows):  # each null-group row is a group of its own, numbered after the real groups
        groups[null_rows] = group_count - 1 + np.arange(len(null_rows))
        group_count += len(null_rows) - 1
    sizes = np.bincount(groups, minlength=group_count)
    # A group's key is its smallest row key: a seeded group order that does not depend on row order.
    group_keys = np.full(group_count, np.iinfo(np.uint64).max, dtype=np.uint64)
    np.minimum.at(group_keys, groups, keys)
    if config.stratify is not None:
        labels, label_count = _codes(table.column(config.stratify))
        classes = _majority(groups, labels, label_count, group_count)
    else:
        classes = np.zeros(group_count, dtype=np.int64)
    class_rows = np.bincount(classes, weights=sizes, minlength=int(classes.max(initial=0)) + 1).astype(np.int64)
    allocation = _allocate(class_rows, config.ratios, config.seed)
    return _cut_in_order(classes, group_keys, sizes, allocation)[groups]


def _majority(groups: np.ndarray, labels: np.ndarray, label_count: int, group_count: int) -> np.ndarray:
    """Each group's most common label (ties: the label that sorts first)."""
    pairs, counts = np.unique(groups * label_count + labels, return_counts=True)
    pair_groups, pair_labels = pairs // label_count, pairs % label_count
    first = np.lexsort((pair_labels, -counts, pair_groups))
    ordered_groups = pair_groups[first]
    starts = np.flatnonzero(np.diff(ordered_groups, prepend=-1))  # first (best) pair of each group
    best = np.zeros(group_count, dtype=np.int64)
    best[ordered_groups[starts]] = pair_labels[first][starts]
    return best


def _cut_in_order(classes: np.ndarray, keys: np.ndarray, sizes: np.ndarray, allocation: np.ndarray) -> np.ndarray:
    """Split codes for units (rows or groups) of `sizes` rows: within each class, in key order, a unit goes
    to the split whose row range holds its midpoint, so each cut misses its target by at most half a unit."""
    if not len(keys):
        return np.zeros(0, dtype=np.int8)
    if classes.max() < 1 << 24:  # class in the high bits, key in the low: one sort instead of a lexsort
        order = np.argsort((classes.astype(np.uint64) << np.uint64(40)) | (keys >> np.uint64(24)))
    else:
        order = np.lexsort((keys, classes))
    sorted_classes, sorted_sizes = classes[order], sizes[order]
    ends = np.cumsum(sorted_sizes)
    class_starts = np.concatenate(([0], np.cumsum(np.bincount(classes, weights=sizes).astype(np.int64))))
    twice_midpoint = 2 * (ends - sorted_sizes - class_starts[sorted_classes]) + sorted_sizes
    twice_cuts = 2 * np.cumsum(allocation, axis=1)[sorted_classes]
    codes = np.empty(len(keys), dtype=np.int8)
    codes[order] = (twice_midpoint >= twice_cuts[:, 0]).astype(np.int8) + (twice_midpoint >= twice_cuts[:, 1])
    return codes
