"""Quality report of a table: duplicates, near-duplicates, train/test leakage, empty and too-long rows,
label balance, language mix. `workbench.data.quality_fixes` turns a report into new versions.

- A row's text is its chosen fields, each normalized (NFKC, whitespace runs -> one space, trimmed,
  Unicode lower-case) and joined with NUL, so moving text between fields is a change. Rows whose
  chosen fields are all blank are left to the empty check and never count as duplicates.
- Exact duplicates: rows with the same text. Near-duplicates: texts whose estimated Jaccard
  similarity of character 3-gram sets is >= the threshold (MinHash + LSH, see `near_duplicates`),
  grouped transitively; a group's members are listed with their similarity to the kept row.
- In every group the kept row comes first: the first train row when the group spans splits (so
  dropping duplicates never moves a row out of training), else the first row.
- Leakage: a validation/test row that equals or nearly equals a train row.
- Language per row (zh / en / mixed / other) by Unicode script shares: see `language_mix`.
- Labels: blank ones are no class; spellings that differ only in whitespace or width are one class in
  the balance and reported, since split and training would keep them apart.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..records import ROW_ID, SPLIT
from . import near_duplicates as nd
from .browse import blank_mask
from .language_mix import LANGUAGES, language_codes
from .quality_labels import label_balance, label_problems
from .stats import char_lengths, histogram, token_lengths

FIXES = ("exact", "near", "leakage", "empty", "too_long")
REQUIRED = ("instruction", "output", "messages", "conversations")  # when present, blank one = empty row
LANGUAGE_EXAMPLES = 20
TOKENIZE_ROWS = 20_000
NORMALIZE_ROWS = 25_000  # rows per normalizing task (two run side by side)

@dataclass
class QualityReport:
    """What `quality_report` found; row ids are `_id` values. JSON-ready via `to_dict()`."""

    rows: int
    fields: list[str]
    settings: dict
    exact_groups: list[list[int]]  # kept row first
    near_groups: list[dict]  # {"ids", "similarity"}, kept first; only groups of >= 2 distinct texts
    leakage: list[dict]  # {"id", "split", "train_id", "kind": exact|near, "similarity"}
    empty: dict  # {"required_fields", "per_field": {field: blank cells}, "ids"}
    too_long: dict | None  # {"max", "unit", "ids", "lengths", "longest", "histogram"}
    labels: dict | None  # {"field", "distinct", "counts": [{"label", "count", "share"}], "other", "by_split",
    #                       "imbalance", "blank", "variants": [{"label", "as", "count"}], "variant_rows"}
    languages: dict  # {"counts": {lang: rows}, "by_split": {split: {lang: rows}}, "examples": {lang: [ids]}}
    seconds: dict = field(default_factory=dict)
    ref: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "QualityReport":
        return cls(**data)

    def rows_to_drop(self, kind: str, present: set[int] | None = None) -> list[int]:
        """Ids a fix drops; with `present`, only those ids count (a group keeps its first present row)."""
        if kind not in FIXES:
            raise ValueError(f"Unknown fix '{kind}'; choose from {', '.join(FIXES)} / 未知的修复“{kind}”")
        if kind in ("exact", "near"):
            return sorted(i for group in self._alive_groups(kind, present) for i in group[1:])
        ids = {"leakage": [p["id"] for p in self.leakage], "empty": self.empty["ids"],
               "too_long": (self.too_long or {}).get("ids", [])}[kind]
        return sorted(i for i in ids if present is None or i in present)

    def kept_rows(self, kind: str, present: set[int] | None = None) -> list[int]:
        """The row each duplicate group keeps ('exact' or 'near')."""
        return sorted(group[0] for group in self._alive_groups(kind, present))

    def _alive_groups(self, kind: str, present: set[int] | None) -> list[list[int]]:
        groups = self.exact_groups
        if kind == "near":  # near groups hold whole exact groups; the other exact groups count too
            in_near = {i for group in self.near_groups for i in group["ids"]}
            groups = [g["ids"] for g in self.near_groups] + [g for g in groups if g[0] not in in_near]
        alive = [[i for i in group if present is None or i in present] for group in groups]
        return [group for group in alive if len(group) > 1]

    def summary(self) -> dict:
        """Counts only (small enough for a log line or a job result)."""
        return {"ref": self.ref, "rows": self.rows, "fields": self.fields,
                "exact_duplicate_rows": len(self.rows_to_drop("exact")), "exact_groups": len(self.exact_groups),
                "near_duplicate_rows": len(self.rows_to_drop("near")), "near_groups": len(self.near_groups),
                "near_threshold": self.settings["near_threshold"], "leaked_rows": len(self.leakage),
                "empty_rows": len(self.empty["ids"]), "empty_per_field": self.empty["per_field"],
                "too_long_rows": len(self.too_long["ids"]) if self.too_long else None,
                "label_distinct": self.labels["distinct"] if self.labels else None,
                "label_imbalance": self.labels["imbalance"] if self.labels else None,
                "label_blank": self.labels.get("blank") if self.labels else None,
                "label_problems": label_problems(self.labels),
                "languages": self.languages["counts"], "seconds": self.seconds}


def quality_report(table: pa.Table, fields: list[str] | None = None, max_tokens: int | None = None,
                   tokenizer=None, label_field: str | None = None, near_threshold: float = 0.8,
                   required_fields: list[str] | None = None, num_perm: int = nd.NUM_PERM,
                   ngram: int = nd.NGRAM, progress: Callable[[float, str], None] | None = None) -> QualityReport:
    """Check a table. `max_tokens` counts tokens with `tokenizer` (characters without one), summed
    over the fields; `progress(fraction, step)` is called between steps."""
    progress = progress or (lambda fraction, step: None)
    fields = _checked_fields(table, fields)
    if label_field is not None:
        _checked_fields(table, [label_field])
    required = required_fields or [f for f in REQUIRED if f in fields] or fields
    _checked_fields(table, required)
    seconds, clock = {}, time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        seconds[step] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()

    ids = table.column(ROW_ID).to_numpy() if ROW_ID in table.column_names else np.arange(table.num_rows)
    split = _split_codes(table)
    progress(0.0, "normalize")
    blank = {name: blank_mask(table.column(name)) for name in fields}
    all_blank = np.logical_and.reduce(list(blank.values()))
    texts = normalized_texts(table, fields, all_blank)
    encoded = pc.dictionary_encode(texts)
    codes = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    unique = encoded.dictionary.to_pylist()
    lap("normalize")
    order = _keep_order(codes, split)
    exact_groups = [ids[group].tolist() for group in _group_positions(codes, order)]
    lap("exact")

    sig = nd.signatures(unique, num_perm, ngram, progress=lambda d, t: progress(0.1 + 0.6 * d / max(t, 1), "near"))
    left, right, scores = nd.near_pairs(sig, near_threshold)
    labels = nd.connected_components(len(unique), left, right)
    near_groups = _near_groups(codes, labels, order, ids, sig)
    leakage = _leakage(codes, split, left, right, scores, ids)
    lap("near")
    progress(0.75, "languages")
    languages = _language_summary(language_codes(unique), codes, split, ids)
    lap("languages")
    progress(0.8, "lengths")
    empty_rows = np.logical_or.reduce([blank[name] if name in blank else blank_mask(table.column(name))
                                       for name in required])
    empty = {"required_fields": required, "per_field": {name: int(blank[name].sum()) for name in fields},
             "ids": ids[empty_rows].tolist()}
    too_long = None if max_tokens is None else _too_long(table, fields, max_tokens, tokenizer, ids, progress)
    lap("lengths")
    label_summary = None if label_field is None else label_balance(table, label_field)
    lap("labels")
    settings = {"near_threshold": near_threshold, "num_perm": num_perm, "ngram": ngram, "max_tokens": max_tokens,
                "unit": "tokens" if tokenizer is not None else "chars", "label_field": label_field,
                "required_fields": required}
    progress(1.0, "done")
    return QualityReport(table.num_rows, fields, settings, exact_groups, near_groups, leakage, empty, too_long,
                         label_summary, languages, seconds)


def normalized_texts(table: pa.Table, fields: list[str], skip: np.ndarray | None = None) -> pa.Array:
    """Each row's fields normalized and joined with NUL (null where `skip` is true)."""
    def normalize(start: int) -> pa.Array:
        parts = []
        for name in fields:
            column = table.column(name).slice(start, NORMALIZE_ROWS)
            column = column if pa.types.is_string(column.type) else pc.cast(column, pa.string())
            column = pc.utf8_normalize(pc.fill_null(column, ""), "NFKC")
            words = pc.utf8_split_whitespace(column)  # Unicode whitespace; 2.7x faster than a regex here
            column = pc.utf8_trim_whitespace(pc.binary_join(words, " "))
            parts.append(pc.utf8_lower(column))
        return pc.binary_join_element_wise(*parts, "\x00")

    with ThreadPoolExecutor(nd.THREADS) as pool:  # Arrow releases the GIL
        pieces = list(pool.map(normalize, range(0, table.num_rows, NORMALIZE_ROWS)))
    chunks = [c for piece in pieces for c in (piece.chunks if isinstance(piece, pa.ChunkedArray) else [piece])]
    joined = pa.chunked_array(chunks, pa.string()).combine_chunks()
    if skip is not None and skip.any():
        joined = pc.if_else(pa.array(skip), pa.scalar(None, pa.string()), joined)
    return joined


# --- pieces ------------------------------------------------------------------------------------
def _checked_fields(table: pa.Table, fields: list[str] | None) -> list[str]:
    names = table.column_names
    if fields is None:
        return [c for c in names if not c.startswith("_")]
    unknown = [f for f in fields if f not in names]
    if unknown or not fields:
        raise ValueError(f"Unknown or no field(s) {unknown}; columns are {names} / "
                         f"字段无效 {unknown}；现有列为 {names}")
    return list(fields)


def _split_codes(table: pa.Table) -> np.ndarray:
    """0 train, 1 validation, 2 test, -1 none (no split column or an unknown value)."""
    if SPLIT not in table.column_names:
        return np.full(table.num_rows, -1, dtype=np.int64)
    index = pc.index_in(table.column(SPLIT), pa.array(["train", "validation", "test"]))
    return np.asarray(pc.fill_null(index, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _keep_order(codes: np.ndarray, split: np.ndarray) -> np.ndarray:
    """Row positions sorted so that within a text the row to keep comes first (train first, then position)."""
    return np.lexsort((np.arange(len(codes)), split != 0))


def _group_positions(keys: np.ndarray, order: np.ndarray) -> list[np.ndarray]:
    """Positions sharing a key (>= 0), each group in keep order, groups ordered by their kept row."""
    counts = np.bincount(keys[keys >= 0], minlength=1)
    members = order[(keys[order] >= 0) & (counts[np.maximum(keys[order], 0)] > 1)]
    if not len(members):
        return []
    members = members[np.argsort(keys[members], kind="stable")]
    groups = np.split(members, np.flatnonzero(np.diff(keys[members])) + 1)
    return sorted(groups, key=lambda g: g[0])


def _near_groups(codes, labels, order, ids, sig) -> list[dict]:
    """Near-duplicate groups (components holding >= 2 distinct texts), with similarity to the kept row."""
    sizes = np.bincount(labels, minlength=1)
    component = np.where(codes >= 0, labels[np.maximum(codes, 0)] if len(labels) else -1, -1)
    component[sizes[np.maximum(component, 0)] < 2] = -1
    groups = _group_positions(component, order)
    if not groups:
        return []
    members = np.concatenate(groups)
    kept = np.repeat([group[0] for group in groups], [len(group) for group in groups])
    scores = np.round(nd.similarity(sig, codes[kept], codes[members]), 3)
    cuts = np.cumsum([len(group) for group in groups])[:-1]
    return [{"ids": ids[group].tolist(), "similarity": score.tolist()}
            for group, score in zip(groups, np.split(scores, cuts))]


def _leakage(codes, split, left, right, scores, ids) -> list[dict]:
    """Validation/test rows equal (same text) or near (an LSH pair) to a train row; the closest one."""
    if not (split >= 0).any():
        return []
    texts = int(codes.max()) + 1 if len(codes) else 0
    train = (split == 0) & (codes >= 0)
    first_train = np.full(texts, len(codes), dtype=np.int64)
    np.minimum.at(first_train, codes[train], np.flatnonzero(train))
    first_train[first_train == len(codes)] = -1
    # best near partner per text that has a train row: both directions of every pair
    source = np.concatenate([left, right])
    target = np.concatenate([right, left])
    score = np.concatenate([scores, scores])
    usable = first_train[target] >= 0 if len(target) else np.zeros(0, dtype=bool)
    source, target, score = source[usable], target[usable], score[usable]
    best_order = np.lexsort((-score, source))
    best = np.full(texts, -1, dtype=np.int64)
    best_score = np.zeros(texts)
    firsts = best_order[np.r_[True, np.diff(source[best_order]) != 0]] if len(best_order) else best_order
    best[source[firsts]], best_score[source[firsts]] = target[firsts], score[firsts]
    out = []
    names = ("train", "validation", "test")
    for position in np.flatnonzero((split > 0) & (codes >= 0)):
        code = codes[position]
        if first_train[code] >= 0:
            out.append({"id": int(ids[position]), "split": names[split[position]],
                        "train_id": int(ids[first_train[code]]), "kind": "exact", "similarity": 1.0})
        elif best[code] >= 0:
            out.append({"id": int(ids[position]), "split": names[split[position]],
                        "train_id": int(ids[first_train[best[code]]]), "kind": "near",
                        "similarity": round(float(best_score[code]), 3)})
    return out


def _language_summary(per_text, codes, split, ids) -> dict:
    language = np.where(codes >= 0, per_text[np.maximum(codes, 0)] if len(per_text) else 3, 3)
    counts = np.bincount(language, minlength=len(LANGUAGES))
    by_split = {}
    for code, name in enumerate(("train", "validation", "test")):
        if (split == code).any():
            part = np.bincount(language[split == code], minlength=len(LANGUAGES))
            by_split[name] = dict(zip(LANGUAGES, part.tolist()))
    examples = {name: ids[language == code][:LANGUAGE_EXAMPLES].tolist() for code, name in enumerate(LANGUAGES)}
    return {"counts": dict(zip(LANGUAGES, counts.tolist())), "by_split": by_split, "examples": examples}


def _too_long(table, fields, max_tokens, tokenizer, ids, progress) -> dict:
    lengths = np.zeros(table.num_rows, dtype=np.int64)
    for number, name in enumerate(fields):
        column = table.column(name)
        if tokenizer is None:
            lengths += char_lengths(column)
            continue
        # Each distinct cell is tokenized once (answers and prompts repeat), in steps that report progress.
        column = column if pa.types.is_string(column.type) else pc.cast(column, pa.string())
        encoded = pc.dictionary_encode(column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
        distinct = encoded.dictionary.to_pylist()
        counts = np.zeros(len(distinct) + 1, dtype=np.int64)  # the last one is for null cells
        for start in range(0, len(distinct), TOKENIZE_ROWS):
            cells = distinct[start:start + TOKENIZE_ROWS]
            counts[start:start + len(cells)] = token_lengths(tokenizer, cells)
            done = (number + (start + len(cells)) / len(distinct)) / len(fields)
            progress(0.8 + 0.15 * done, "tokens")
        lengths += counts[np.asarray(encoded.indices.fill_null(len(distinct)).to_numpy(zero_copy_only=False))]
    over = np.flatnonzero(lengths > max_tokens)
    return {"max": int(max_tokens), "unit": "chars" if tokenizer is None else "tokens", "ids": ids[over].tolist(),
            "lengths": lengths[over].tolist(), "longest": int(lengths.max()) if len(lengths) else 0,
            "histogram": histogram(lengths)}
