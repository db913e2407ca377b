"""Strategies (prompt + parser), the requests for a table, and the quality controls."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa

from ..llm import LLMError, parse_json_answer
from ..records import AUG_STRATEGY, AUGMENTED_FROM, ROW_ID


@dataclass(frozen=True)
class Strategy:
    name: str
    template: str                 # template id without the _zh/_en suffix
    changes: str                  # the field a new row gets from the model: instruction, output, row, history
    calls_per_row: str            # "one" (the model returns `multiplier` items) or "each" (one call per item)


STRATEGIES = {s.name: s for s in (
    Strategy("paraphrase_instruction", "paraphrase_instruction", "instruction", "one"),
    Strategy("paraphrase_output", "paraphrase_output", "output", "each"),
    Strategy("style_transfer", "style_transfer", "output", "each"),
    Strategy("self_instruct", "self_instruct", "row", "one"),
    Strategy("multi_turn", "multi_turn", "history", "one"),
)}


@dataclass(frozen=True)
class AugmentConfig:
    strategy: str
    endpoint: str
    multiplier: int = 2                      # new rows per source row (turns for multi_turn)
    language: str = "auto"                   # auto (by each row's text) | zh | en
    style: str = ""                          # style_transfer: e.g. "甄嬛传里的宫廷腔调"
    domain: str = ""                         # self_instruct: optional topic
    max_rows: int | None = None              # augment only the first N rows
    split: str | None = None                 # only rows of this split (e.g. train)
    min_chars: int = 2
    max_chars: int = 4000
    same_language: bool = True               # drop results not in the source row's language
    near_duplicate: float | None = 0.85      # drop results this close (MinHash Jaccard) to any other row
    similarity: tuple[float, float] | None = None  # keep results whose similarity to the source is in [lo, hi]
    temperature: float = 0.8
    max_new_tokens: int = 512
    options: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}; one of {sorted(STRATEGIES)} / 未知的增强策略")
        if not 1 <= self.multiplier <= 10:
            raise ValueError("multiplier must be 1-10 / 倍数必须在 1 到 10 之间")
        if self.strategy == "style_transfer" and not self.style.strip():
            raise ValueError("style transfer needs a target style / 风格迁移需要填写目标风格")
        if self.language not in ("auto", "zh", "en"):
            raise ValueError("language must be auto, zh or en / 语言必须是 auto、zh 或 en")

    def to_dict(self) -> dict:
        return asdict(self)


def _language(text: str, choice: str) -> str:
    if choice != "auto":
        return choice
    from ..data.quality import language_codes

    return "en" if language_codes([text or ""])[0] == 1 else "zh"


def build_requests(ws, table: pa.Table, config: AugmentConfig) -> list[dict]:
    """One item per LLM call: {key, messages, row_id, index}. Keys are stable, so a resume skips done ones."""
    from ..templates import get_template, render

    strategy = STRATEGIES[config.strategy]
    rows = table.to_pylist()
    items = []
    for position, row in enumerate(rows):
        language = _language(f"{row.get('instruction') or ''}{row.get('output') or ''}", config.language)
        template = get_template(ws, f"{strategy.template}_{language}")
        count = config.multiplier
        values = {"instruction": row.get("instruction") or "", "output": row.get("output") or "",
                  "text": row.get("output") or "", "style": config.style, "count": count, "turns": count,
                  "system": row.get("system") or "", "domain": config.domain,
                  "examples": _examples(rows, position)}
        wanted = {v.name for v in template.variables}
        prompt = render(template, {k: v for k, v in values.items() if k in wanted})
        for index in range(count if strategy.calls_per_row == "each" else 1):
            items.append({"key": f"{row[ROW_ID]}:{config.strategy}:{index}", "row_id": row[ROW_ID], "index": index,
                          "messages": [{"role": "user", "content": prompt}]})
    return items


def _examples(rows: list[dict], position: int, k: int = 3) -> str:
    picked = [rows[(position + step) % len(rows)] for step in range(min(k, len(rows)))]
    return "\n\n".join(json.dumps({"instruction": r.get("instruction") or "", "input": r.get("input") or "",
                                   "output": r.get("output") or ""}, ensure_ascii=False) for r in picked)


def parse_result(strategy_name: str, text: str, source: dict, multiplier: int) -> list[dict]:
    """New rows (user fields only) from one answer, at least one; raises LLMError("bad_response") when unusable,
    also for JSON that holds no usable item (an empty list, another key), so every answer is counted somewhere."""
    strategy = STRATEGIES[strategy_name]
    base = {k: v for k, v in source.items() if not k.startswith("_")}
    if strategy.changes == "output":
        return [{**base, "output": text.strip().strip('"').strip()}]
    value = parse_json_answer(text)
    if strategy.changes == "instruction":
        items = _listed(value, "paraphrases")
        rows = [{**base, "instruction": str(p).strip()} for p in items[:multiplier] if isinstance(p, str)]
        return _some(rows, "paraphrases")
    if strategy.changes == "row":
        out = []
        for task in _listed(value, "tasks")[:multiplier]:
            if isinstance(task, dict) and task.get("instruction") and task.get("output"):
                out.append({**{k: None for k in base}, "instruction": str(task["instruction"]).strip(),
                            "input": str(task.get("input") or ""), "output": str(task["output"]).strip()})
        return _some(out, "tasks")
    messages = _listed(value, "messages")
    turns = [m for m in messages if isinstance(m, dict) and m.get("role") in ("user", "assistant")
             and isinstance(m.get("content"), str)]
    pairs = [(turns[i]["content"], turns[i + 1]["content"]) for i in range(0, len(turns) - 1, 2)
             if turns[i]["role"] == "user" and turns[i + 1]["role"] == "assistant"]
    if len(pairs) < 2:
        raise LLMError("bad_response", "fewer than two user/assistant turns / 少于两轮对话")
    history = json.loads(base.get("history") or "[]") + [list(p) for p in pairs[:-1]]
    return [{**base, "history": json.dumps(history, ensure_ascii=False), "instruction": pairs[-1][0],
             "output": pairs[-1][1]}]


def _listed(value, key: str) -> list:
    """The answer's list of items: `value[key]` of an object, or the array itself; [] for anything else."""
    items = value.get(key, []) if isinstance(value, dict) else value
    return items if isinstance(items, list) else []


def _some(rows: list[dict], key: str) -> list[dict]:
    if not rows:
        raise LLMError("bad_response", f"no usable {key} in the JSON / JSON 中没有可用的 {key}")
    return rows


def filter_candidates(candidates: list[dict], sources: dict[int, dict], existing: list[dict],
                      config: AugmentConfig) -> tuple[list[dict], dict[str, int]]:
    """Apply the quality controls; returns the kept candidates and how many each control dropped.

    A candidate is {"row": new user fields, "parent": source row id}. `existing` are the dataset's
    rows: a result that nearly repeats one of them, or an earlier result, is dropped. Strategies that
    change one field compare that field only (a paraphrased instruction keeps its answer on purpose).
    """
    changes = STRATEGIES[config.strategy].changes
    field_name = changes if changes in ("instruction", "output") else "instruction"
    text_of = (lambda row: str(row.get(field_name) or "")) if changes in ("instruction", "output") else _row_text
    dropped = {"length": 0, "language": 0, "near_duplicate": 0, "similarity": 0}
    kept = []
    for candidate in candidates:
        text = candidate["row"].get(field_name) or ""
        if not config.min_chars <= len(text.strip()) <= config.max_chars:
            dropped["length"] += 1
        else:
            kept.append(candidate)
    if config.same_language and kept:
        from ..data.quality import language_codes

        new = language_codes([c["row"].get(field_name) or "" for c in kept])
        old = language_codes([sources[c["parent"]].get(field_name) or "" for c in kept])
        ok = (new == old) | (new == 2) | (old == 2) | (old == 3)  # mixed/other sources are not judged
        dropped["language"] = int((~ok).sum())
        kept = [c for c, good in zip(kept, ok) if good]
    if config.near_duplicate and kept:
        from ..data import near_duplicates as nd

        texts = [text_of(row) for row in existing] + [text_of(c["row"]) for c in kept]
        signature = nd.signatures(texts)
        left, right, _ = nd.near_pairs(signature, config.near_duplicate)
        doomed = {int(max(a, b)) for a, b in zip(left, right) if max(a, b) >= len(existing)}
        dropped["near_duplicate"] = len(doomed)
        kept = [c for i, c in enumerate(kept) if len(existing) + i not in doomed]
    if config.similarity and kept:
        from ..embeddings import similarity

        low, high = config.similarity
        scores = similarity([c["row"].get(field_name) or "" for c in kept],
                            [sources[c["parent"]].get(field_name) or "" for c in kept])
        ok = (scores >= low) & (scores <= high)
        for candidate, score in zip(kept, scores):
            candidate["similarity"] = round(float(score), 3)
        dropped["similarity"] = int((~ok).sum())
        kept = [c for c, good in zip(kept, ok) if good]
    return kept, dropped


def _row_text(row: dict) -> str:
    return "\n".join(str(row.get(k) or "") for k in ("instruction", "input", "output"))


def with_new_rows(table: pa.Table, kept: list[dict], strategy: str) -> pa.Table:
    """The table plus the kept rows (fresh ids), lineage columns filled for the new rows only."""
    from ..data import edit

    for column in (AUGMENTED_FROM, AUG_STRATEGY):
        if column not in table.column_names:
            kind = pa.int64() if column == AUGMENTED_FROM else pa.string()
            table = table.append_column(column, pa.nulls(table.num_rows, kind))
    user = [c for c in table.column_names if not c.startswith("_")]
    rows = [{**{k: c["row"].get(k) for k in user}, AUG_STRATEGY: strategy} for c in kept]
    added = edit.add_rows(table, rows)
    parents = np.concatenate([table.column(AUGMENTED_FROM).to_numpy(zero_copy_only=False).astype("float64"),
                              np.array([c["parent"] for c in kept], dtype="float64")])
    column = pa.array([None if np.isnan(p) else int(p) for p in parents], pa.int64())
    return added.set_column(added.column_names.index(AUGMENTED_FROM), AUGMENTED_FROM, column)


def start_augment(ws, ref: str, config: AugmentConfig, title: str | None = None) -> str:
    """Start the `augment` job; refused (StaleVersionError) for a version that is not the newest, whose new rows
    could never be saved (a new version follows the newest only), before any model is called."""
    from .. import jobs
    from ..workspace import StaleVersionError

    version = ws.resolve(ref)
    head = ws.dataset(version.dataset_id).head
    if version.number != head:
        raise StaleVersionError(version.dataset_id, version.number, head)
    return jobs.start(ws, "augment", {"ref": version.ref, "config": config.to_dict()},
                      title or f"{version.ref} · {config.strategy} ×{config.multiplier}")
