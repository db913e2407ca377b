"""Length statistics of text fields, in characters and (with a tokenizer) in tokens.

Character length counts Unicode characters, so a Chinese character counts one. An empty cell is
null, "" or only whitespace; null cells count as length 0. `length_stats` works on a table in
memory (exact quantiles); `StatsAccumulator` streams batches, can be saved to a JSON-able state
and resumed, and gives quantiles from fixed bins: exact below 256, within 1% above.
"""
from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .browse import blank_mask

QUANTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99}
EXACT_BELOW = 256  # lengths below this get a bin each
BIN_GROWTH = 1.01  # above it, each bin is 1% wider than the previous one
TOKENIZE_BATCH = 1_000


def length_stats(table: pa.Table | pa.RecordBatch, fields: list[str] | None = None, tokenizer=None,
                 sample: int | None = None, seed: int = 0) -> dict:
    """{"rows", "token_rows", "fields": {field: {"chars": summary, "tokens": summary, "_lengths": array}}}.

    Tokens are counted on a seeded random sample of `sample` rows when given (tokenizing a million
    rows is slow); "token_rows" says how many rows were tokenized. Keys starting with "_" hold the
    raw numpy lengths (for `histogram`); drop them before saving as JSON.
    """
    fields = _fields(table, fields)
    rows = table.num_rows
    picked = None
    if tokenizer is not None and sample is not None and sample < rows:
        picked = np.sort(np.random.default_rng(seed).choice(rows, size=sample, replace=False))
    out = {"rows": rows, "token_rows": None if tokenizer is None else (rows if picked is None else len(picked)),
           "quantiles": "exact", "fields": {}}
    for name in fields:
        column = table.column(name)
        lengths, blank = char_lengths(column), blank_mask(column)
        entry = {"chars": summarize(lengths, int(blank.sum())), "_lengths": lengths}
        if tokenizer is not None:
            cells = column if picked is None else column.take(pa.array(picked))
            tokens = token_lengths(tokenizer, cells.to_pylist())
            entry["tokens"] = summarize(tokens, int((blank if picked is None else blank[picked]).sum()))
            entry["_token_lengths"] = tokens
        out["fields"][name] = entry
    return out


def summarize(lengths: np.ndarray, empty: int) -> dict:
    """count, empty, mean, p50/p90/p99 (observed values: the inverted-CDF quantile) and max."""
    if not len(lengths):
        return {"count": 0, "empty": empty, "mean": None, **{k: None for k in QUANTILES}, "max": None}
    quantiles = np.percentile(lengths, [q * 100 for q in QUANTILES.values()], method="inverted_cdf")
    return {"count": int(len(lengths)), "empty": empty, "mean": round(float(lengths.mean()), 2),
            **{k: int(v) for k, v in zip(QUANTILES, quantiles)}, "max": int(lengths.max())}


def char_lengths(column) -> np.ndarray:
    """Unicode characters per cell (null -> 0) as int64."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = pc.cast(column, pa.string())
    lengths = pc.fill_null(pc.utf8_length(column), 0)
    return np.asarray(lengths.to_numpy(zero_copy_only=False), dtype=np.int64)


def token_lengths(tokenizer, texts: list[str | None]) -> np.ndarray:
    """Tokens per text (without special tokens; null or "" -> 0), batched.

    Accepts a `tokenizers.Tokenizer`, a transformers tokenizer (its fast backend is used when it
    has one), or any object with HF-style `__call__` returning input_ids, or `encode`.
    """
    out = np.zeros(len(texts), dtype=np.int64)
    index = [i for i, text in enumerate(texts) if text]
    encode = _batch_encoder(tokenizer)
    for start in range(0, len(index), TOKENIZE_BATCH):
        chunk = index[start:start + TOKENIZE_BATCH]
        out[chunk] = encode([texts[i] for i in chunk])
    return out


def _batch_encoder(tokenizer):
    backend = getattr(tokenizer, "backend_tokenizer", None) or tokenizer
    if hasattr(backend, "encode_batch_fast"):  # tokenizers >= 0.20: no offsets, faster
        return lambda texts: [len(e.ids) for e in backend.encode_batch_fast(texts, add_special_tokens=False)]
    if hasattr(backend, "encode_batch"):
        return lambda texts: [len(e.ids) for e in backend.encode_batch(texts, add_special_tokens=False)]
    if callable(tokenizer):
        return lambda texts: [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
    if hasattr(tokenizer, "encode"):
        return lambda texts: [len(_ids(tokenizer.encode(text))) for text in texts]
    raise TypeError("tokenizer must be callable or have encode / encode_batch / "
                    "分词器需可调用或提供 encode 方法")


def _ids(encoded):
    return getattr(encoded, "ids", encoded)


def histogram(values, bins: int = 30, log: bool | None = None) -> list[dict]:
    """[{"start", "end", "count"}] (start inclusive, end exclusive; integer edges) for a bar chart.

    With a long tail (max above 20x the median, auto when `log` is None) the edges grow
    geometrically, so the bulk of short rows is not squeezed into one bar.
    """
    values = np.asarray(values)
    if not len(values):
        return []
    low, high = int(values.min()), int(values.max())
    if log is None:
        log = high > 20 * max(1.0, float(np.median(values)))
    if log:
        edges = np.geomspace(low + 1, high + 2, bins + 1) - 1
    else:
        edges = np.linspace(low, high + 1, bins + 1)
    edges = np.unique(np.round(edges).astype(np.int64))
    edges[0], edges[-1] = low, max(edges[-1], high + 1)
    counts, _ = np.histogram(values, bins=edges)
    return [{"start": int(a), "end": int(b), "count": int(c)} for a, b, c in zip(edges[:-1], edges[1:], counts)]


# --- streaming ---------------------------------------------------------------------------------
def _bin_of(lengths: np.ndarray) -> np.ndarray:
    above = np.maximum(lengths, EXACT_BELOW) / EXACT_BELOW
    log_bins = EXACT_BELOW + np.floor(np.log(above) / math.log(BIN_GROWTH) + 1e-9).astype(np.int64)
    return np.where(lengths < EXACT_BELOW, lengths, log_bins)


def _bin_start(index: int) -> int:
    return index if index < EXACT_BELOW else math.ceil(EXACT_BELOW * BIN_GROWTH ** (index - EXACT_BELOW) - 1e-6)


class _Measure:
    """Exact count/empty/sum/max and a binned length distribution of one field in one unit."""

    def __init__(self, state: dict | None = None):
        state = state or {}
        self.count, self.empty = state.get("count", 0), state.get("empty", 0)
        self.total, self.max = state.get("sum", 0), state.get("max")
        self.bins = np.zeros(0, dtype=np.int64)
        for index, count in state.get("bins", []):
            self._grow(index + 1)
            self.bins[index] = count

    def _grow(self, size: int) -> None:
        if size > len(self.bins):
            self.bins = np.concatenate([self.bins, np.zeros(size - len(self.bins), dtype=np.int64)])

    def add(self, lengths: np.ndarray, empty: int) -> None:
        if not len(lengths):
            return
        self.count += int(len(lengths))
        self.empty += int(empty)
        self.total += int(lengths.sum())
        self.max = max(self.max or 0, int(lengths.max()))
        counts = np.bincount(_bin_of(lengths))
        self._grow(len(counts))
        self.bins[:len(counts)] += counts

    def state(self) -> dict:
        used = np.flatnonzero(self.bins)
        return {"count": self.count, "empty": self.empty, "sum": self.total, "max": self.max,
                "bins": [[int(i), int(self.bins[i])] for i in used]}

    def summary(self) -> dict:
        if not self.count:
            return {"count": 0, "empty": self.empty, "mean": None, **{k: None for k in QUANTILES}, "max": None}
        cumulative = np.cumsum(self.bins)
        quantiles = {}
        for key, q in QUANTILES.items():
            index = int(np.searchsorted(cumulative, math.ceil(q * self.count)))
            quantiles[key] = min(_bin_start(index), self.max)
        return {"count": self.count, "empty": self.empty, "mean": round(self.total / self.count, 2),
                **quantiles, "max": self.max}


class StatsAccumulator:
    """Length statistics over batches fed one by one; `to_state()`/`from_state()` make it resumable."""

    def __init__(self, fields: list[str], tokenizer=None):
        self.fields, self.tokenizer, self.rows = list(fields), tokenizer, 0
        self.measures = {name: {"chars": _Measure(), **({"tokens": _Measure()} if tokenizer else {})}
                         for name in self.fields}

    def update(self, batch: pa.Table | pa.RecordBatch) -> None:
        _fields(batch, self.fields)
        for name in self.fields:
            column = batch.column(name)
            blank = blank_mask(column)
            self.measures[name]["chars"].add(char_lengths(column), int(blank.sum()))
            if self.tokenizer is not None:
                self.measures[name]["tokens"].add(token_lengths(self.tokenizer, column.to_pylist()),
                                                  int(blank.sum()))
        self.rows += batch.num_rows

    def to_state(self) -> dict:
        return {"fields": self.fields, "rows": self.rows, "tokens": self.tokenizer is not None,
                "measures": {name: {unit: m.state() for unit, m in units.items()}
                             for name, units in self.measures.items()}}

    @classmethod
    def from_state(cls, state: dict, tokenizer=None) -> "StatsAccumulator":
        if bool(state.get("tokens")) != (tokenizer is not None):
            raise ValueError("Resume with the same tokenizer setting the statistics started with / "
                             "恢复统计时需使用与开始时相同的分词器设置")
        accumulator = cls(state["fields"], tokenizer)
        accumulator.rows = state["rows"]
        accumulator.measures = {name: {unit: _Measure(s) for unit, s in units.items()}
                                for name, units in state["measures"].items()}
        return accumulator

    def result(self) -> dict:
        """Same shape as `length_stats` (without the raw arrays); quantiles come from the bins."""
        return {"rows": self.rows, "token_rows": self.rows if self.tokenizer is not None else None,
                "quantiles": "binned: exact below 256, within 1% above",
                "fields": {name: {unit: m.summary() for unit, m in units.items()}
                           for name, units in self.measures.items()}}


def _fields(table, fields: list[str] | None) -> list[str]:
    names = table.schema.names
    if fields is None:
        return [c for c in names if not c.startswith("_")]
    unknown = [f for f in fields if f not in names]
    if unknown:
        raise ValueError(f"Unknown field(s) {unknown}; columns are {names} / "
                         f"不存在的字段 {unknown}；现有列为 {names}")
    return list(fields)


def summary_rows(stats: dict) -> list[dict]:
    """One row per field and unit (chars, tokens) from `length_stats` or a stats job's result, for a table."""
    return [{"field": name, "unit": unit, **entry[unit]}
            for name, entry in stats["fields"].items() for unit in ("chars", "tokens") if unit in entry]
