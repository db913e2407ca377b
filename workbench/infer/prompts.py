"""Dataset rows -> inference rows: the conversation up to the last user turn, the reference answer, lineage.

A row (Alpaca with system/history, or chat messages) becomes OpenAI messages through `records.row_messages`;
the final assistant answer is the reference and is never sent to the model. An arm's system prompt replaces
the row's own when the request is built (`arm_messages`).
"""
from __future__ import annotations

import pyarrow.compute as pc

from ..records import LINEAGE_COLUMNS, ROW_ID, SPLIT, row_messages

LINEAGE_PREFIXES = ("_source", "source", "chunk", "_chunk")


class InferInputError(ValueError):
    """A config the dataset cannot serve (no such split, no rows, unreadable rows); the message is located."""


def lineage_columns(columns) -> list[str]:
    """Columns that trace a row back to where it came from (extraction source/chunk/span, augmentation parent)."""
    return [c for c in columns if c in LINEAGE_COLUMNS or c.startswith(LINEAGE_PREFIXES)]


def select_rows(ws, config):
    """(version, table) of the rows the config asks for; refused with a located message when there are none."""
    version = ws.version(config.dataset, config.version)
    table = ws.read(version)
    where = f"{version.ref}"
    if config.split is not None:
        if SPLIT not in table.column_names:
            raise InferInputError(f"split: {where} has no splits; choose split 'all' or split the dataset first / "
                                  f"split：{where} 没有划分，请选择“all”（全部行）或先划分数据集")
        present = [name for name in (version.splits or {}) if name]
        if config.split not in present:
            raise InferInputError(f"split: {version.ref} has no split '{config.split}'; it has "
                                  f"{', '.join(present)} (or 'all') / split：{version.ref} 没有“{config.split}”划分；"
                                  f"现有划分：{'、'.join(present)}（或 all：全部行）")
        table = table.filter(pc.equal(table.column(SPLIT), config.split))
        where = f"{version.ref} split '{config.split}'"
    if config.max_rows:
        table = table.slice(0, config.max_rows)
    if table.num_rows == 0:
        raise InferInputError(f"split: {where} has 0 rows; nothing to generate / split：{where} 没有任何行，无法推理")
    return version, table


def inference_rows(table) -> list[dict]:
    """One dict per dataset row: row_id, messages, prompt, reference, system, lineage; `error` when unusable.

    An unusable row (no user turn, unreadable conversation) stays in the list so every arm records it as
    failed with the reason, instead of the row silently disappearing from the comparison.
    """
    lineage = lineage_columns(table.column_names)
    rows = []
    for position, row in enumerate(table.to_pylist()):
        row_id = row.get(ROW_ID, position)
        entry = {"row_id": row_id, "messages": [], "prompt": None, "reference": None, "system": None,
                 "lineage": {c: row.get(c) for c in lineage}}
        try:
            messages = row_messages(row)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            rows.append({**entry, "error": f"row {row_id}: cannot read the conversation ({error}) / "
                                           f"第 {row_id} 行：无法读取对话内容"})
            continue
        if messages and messages[-1]["role"] == "assistant":
            entry["reference"] = messages[-1]["content"]
            messages = messages[:-1]
        entry.update(messages=messages, system=_system(messages))
        if not messages or messages[-1]["role"] != "user" or not (messages[-1]["content"] or "").strip():
            rows.append({**entry, "error": f"row {row_id}: no user turn to answer / 第 {row_id} 行：没有需要回答的用户消息"})
            continue
        rows.append({**entry, "prompt": messages[-1]["content"]})
    return rows


def _system(messages: list[dict]) -> str | None:
    return "\n".join(m["content"] for m in messages if m["role"] == "system") or None


def arm_messages(row: dict, system_prompt: str | None) -> list[dict]:
    """The request for one arm: the row's conversation with the arm's system prompt in place of the row's."""
    if system_prompt is None:
        return row["messages"]
    return [{"role": "system", "content": system_prompt}] + [m for m in row["messages"] if m["role"] != "system"]
