"""The row schema: Alpaca rows (with system/history) and chat rows (ShareGPT / OpenAI messages).

In stored dataset versions every field is text; nested fields (history, conversations, messages)
are stored as JSON text. These models describe one row and convert between the two shapes.
"""
from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, Field, field_validator

ALPACA_FIELDS = ("instruction", "input", "output", "system", "history")
ALPACA_REQUIRED = ("instruction", "output")
CHAT_FIELDS = ("conversations", "messages", "system")
JSON_FIELDS = ("history", "conversations", "messages")
# Internal columns every stored version may carry; never user data.
ROW_ID, SPLIT, SOURCE_LINE = "_id", "_split", "_line"
# Lineage kept through mapping and splitting, left out of exports: which row an augmented row came
# from and by which strategy; which document, chunk and text span an extracted pair came from.
AUGMENTED_FROM, AUG_STRATEGY = "_augmented_from", "_aug_strategy"
LINEAGE_COLUMNS = (AUGMENTED_FROM, AUG_STRATEGY, "_source", "_chunk", "_span")
INTERNAL_COLUMNS = (ROW_ID, SPLIT, SOURCE_LINE) + LINEAGE_COLUMNS
SPLITS = ("train", "validation", "test")

# ShareGPT roles -> OpenAI roles.
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "system": "system", "function_call": "tool", "observation": "tool", "tool": "tool"}
OPENAI_TO_SHAREGPT = {"user": "human", "assistant": "gpt", "system": "system", "tool": "observation"}

Schema = Literal["alpaca", "chat"]


class AlpacaRecord(BaseModel):
    """One instruction-tuning row."""

    instruction: str = Field(min_length=1)
    input: str = ""
    output: str = Field(min_length=1)
    system: str = ""
    history: list[tuple[str, str]] = []

    @field_validator("instruction", "output")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("empty or only whitespace")
        return value


class Message(BaseModel):
    role: Literal["system", "user", "assistant", "tool"]
    content: str


class ChatRecord(BaseModel):
    """One conversation in OpenAI roles (ShareGPT is converted on the way in)."""

    messages: list[Message] = Field(min_length=2)


def detect_schema(columns) -> Schema | None:
    """Which row schema the columns already follow, or None when they need a mapping first."""
    names = set(columns)
    if {"conversations"} <= names or {"messages"} <= names:
        return "chat"
    if set(ALPACA_REQUIRED) <= names:
        return "alpaca"
    return None


def load_json_field(value) -> object:
    """A nested field as stored (JSON text) back to Python; empty text means an empty list."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    return json.loads(value) if isinstance(value, str) else value


def alpaca_to_messages(row: dict) -> list[dict]:
    """Alpaca row -> OpenAI messages: system, history turns, then instruction(+input) and output."""
    messages = []
    if row.get("system"):
        messages.append({"role": "system", "content": row["system"]})
    for question, answer in load_json_field(row.get("history")):
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    prompt = row.get("instruction") or ""
    if row.get("input"):
        prompt = f"{prompt}\n{row['input']}" if prompt else row["input"]
    messages.append({"role": "user", "content": prompt})
    if row.get("output") is not None:
        messages.append({"role": "assistant", "content": row.get("output") or ""})
    return messages


def chat_messages(row: dict) -> list[dict]:
    """A chat row (OpenAI `messages` or ShareGPT `conversations`) as OpenAI messages."""
    if row.get("messages"):
        turns = load_json_field(row["messages"])
        messages = [{"role": t["role"], "content": t["content"]} for t in turns]
    else:
        turns = load_json_field(row.get("conversations"))
        messages = [{"role": SHAREGPT_ROLES.get(t.get("from"), t.get("from")), "content": t.get("value")}
                    for t in turns]
    if row.get("system") and not (messages and messages[0]["role"] == "system"):
        messages.insert(0, {"role": "system", "content": row["system"]})
    return messages


def row_messages(row: dict) -> list[dict]:
    """Any stored row as OpenAI messages."""
    if row.get("messages") or row.get("conversations"):
        return chat_messages(row)
    return alpaca_to_messages(row)


def messages_to_alpaca(messages: list[dict]) -> dict:
    """OpenAI messages -> Alpaca row: the last user/assistant pair, earlier pairs as history."""
    system = "".join(m["content"] for m in messages if m["role"] == "system")
    turns = [m for m in messages if m["role"] in ("user", "assistant")]
    pairs, pending = [], None
    for message in turns:
        if message["role"] == "user":
            pending = message["content"]
        elif pending is not None:
            pairs.append((pending, message["content"]))
            pending = None
    if not pairs:
        return {"instruction": pending or "", "input": "", "output": "", "system": system, "history": []}
    *history, (instruction, output) = pairs
    return {"instruction": instruction, "input": "", "output": output, "system": system,
            "history": [list(pair) for pair in history]}


def messages_to_sharegpt(messages: list[dict]) -> dict:
    """OpenAI messages -> ShareGPT row (system moved to its own field, as LLaMA-Factory expects)."""
    system = "".join(m["content"] for m in messages if m["role"] == "system")
    turns = [{"from": OPENAI_TO_SHAREGPT[m["role"]], "value": m["content"]}
             for m in messages if m["role"] != "system"]
    out = {"conversations": turns}
    if system:
        out["system"] = system
    return out
