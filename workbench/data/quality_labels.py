"""Label balance for the quality report: rows per label, blank labels, and spellings that differ only in
whitespace or width (NFKC), which `split --stratify` and training would keep apart as different classes."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..records import SPLIT

LISTED_LABELS = 50


def label_balance(table: pa.Table, label_field: str) -> dict:
    """Rows per label (most common first), per split, and largest/smallest.

    Labels are counted by their NFKC form without surrounding whitespace and shown as their most common
    spelling; blank labels are counted apart (no class). Spellings that differ only in whitespace or width
    are listed in `variants`: split --stratify and training see them as different classes.
    """
    raw = pc.cast(table.column(label_field), pa.string())
    key = pc.utf8_trim_whitespace(pc.utf8_normalize(raw, "NFKC"))
    key = pc.if_else(pc.equal(key, ""), pa.scalar(None, pa.string()), key)
    spellings: dict[str, list[tuple[int, str]]] = {}
    blank = 0
    for item in pa.table({"key": key, "raw": raw}).group_by(["key", "raw"]).aggregate([([], "count_all")]).to_pylist():
        if item["key"] is None:
            blank += item["count_all"]
        else:
            spellings.setdefault(item["key"], []).append((item["count_all"], item["raw"]))
    for name, items in spellings.items():  # the shown spelling first: most rows, then the clean one
        items.sort(key=lambda item: (-item[0], item[1] != name, item[1]))
    counts = sorted(((items[0][1], sum(count for count, _ in items), name) for name, items in spellings.items()),
                    key=lambda item: (-item[1], item[0]))
    variants = sorted(({"label": spelling, "as": items[0][1], "count": count}
                       for items in spellings.values() for count, spelling in items[1:]),
                      key=lambda item: (-item["count"], item["as"], item["label"]))
    total = max(table.num_rows, 1)
    listed = counts[:LISTED_LABELS]
    by_split = {}
    if SPLIT in table.column_names:
        shown = {name: label for label, _, name in listed}
        pairs = pa.table({"key": key, "split": table.column(SPLIT)}).group_by(["key", "split"]).aggregate(
            [([], "count_all")]).to_pylist()
        for row in pairs:
            if row["key"] in shown and row["split"] is not None:
                by_split.setdefault(row["split"], {})[shown[row["key"]]] = row["count_all"]
    return {"field": label_field, "distinct": len(counts),
            "counts": [{"label": label, "count": count, "share": round(count / total, 4)}
                       for label, count, _ in listed],
            "other": sum(count for _, count, _ in counts[LISTED_LABELS:]), "by_split": by_split,
            "imbalance": round(counts[0][1] / counts[-1][1], 2) if counts else None, "blank": blank,
            "variants": variants[:LISTED_LABELS], "variant_rows": sum(item["count"] for item in variants)}


def label_problems(labels: dict | None, lang: str | None = None, listed: int = 5) -> list[str]:
    """What a person should fix in the labels (blank labels, variant spellings): in `lang` ("en"/"zh"), or
    "English / 中文" without one. (The labels themselves may be Chinese, so the halves are built apart.)"""
    pairs = []
    if labels and labels.get("blank"):
        count = labels["blank"]
        pairs.append((f"{_rows(count)} with a blank label (not counted as a class)",
                      f"{count:,} 行标签为空（不计为类别）"))
    variants = (labels or {}).get("variants") or []
    if variants:
        shown = variants[:listed]
        more = labels.get("variant_rows", 0) - sum(item["count"] for item in shown)
        english = ", ".join(f"{item['label']!r} → {item['as']!r} ({_rows(item['count'])})" for item in shown)
        chinese = "，".join(f"{item['label']!r} → {item['as']!r}（{item['count']:,} 行）" for item in shown)
        pairs.append((f"labels that differ only by whitespace or width: {english}"
                       + (f", and {more:,} more rows" if more else "")
                       + "; split and training treat them as different classes, so use one spelling",
                       f"仅空白或全角/半角不同的标签：{chinese}" + (f"，另有 {more:,} 行" if more else "")
                       + "；划分和训练会把它们当作不同的类别，请统一写法"))
    if lang is None:
        return [f"{english} / {chinese}" for english, chinese in pairs]
    return [chinese if lang == "zh" else english for english, chinese in pairs]


def _rows(count: int) -> str:
    return f"{count:,} row" + ("" if count == 1 else "s")
