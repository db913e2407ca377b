"""Map source columns to the Alpaca fields (instruction/input/output/system/history), and preview prompts.

A `FieldMapping` is a small saved config: which source column feeds each target field, or a fixed
text shared by all rows (e.g. the instruction of a classifier). Applying it is column selection and
renaming in Arrow, so a million rows map in milliseconds.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, field_validator

from ..problems import Problem
from ..records import ALPACA_FIELDS, ALPACA_REQUIRED, INTERNAL_COLUMNS, row_messages

# Source column names (normalized: lower case, no spaces/dashes) suggested for each target, best first.
# Targets are filled in this order, so `label` goes to output before anything else can claim it.
SUGGESTIONS: dict[str, tuple[str, ...]] = {
    "instruction": ("instruction", "prompt", "question", "query", "问题", "指令", "提问"),
    "output": ("output", "response", "answer", "label", "completion", "target", "回答", "答案", "输出", "标签"),
    "input": ("input", "text", "context", "输入", "文本", "上下文"),
    "system": ("system", "systemprompt", "系统", "系统提示"),
    "history": ("history", "历史"),
}

# ChatML, as Qwen and many other chat models use it; the default when no template is given.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class FieldMapping(BaseModel):
    """Source column (or fixed text) for each Alpaca field; saved as JSON/YAML and reusable."""

    model_config = ConfigDict(extra="forbid")  # a misspelt field ("systm") is an error, not a silently lost column

    instruction: str | None = None
    input: str | None = None
    output: str | None = None
    system: str | None = None
    history: str | None = None
    constants: dict[str, str] = {}  # target field -> fixed text for every row
    keep_other_columns: bool = False  # keep unmapped source columns, e.g. a label for stratified splits

    @field_validator(*ALPACA_FIELDS, mode="before")
    @classmethod
    def blank_is_unmapped(cls, value):
        # Select boxes and YAML give "" for "no column".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("constants")
    @classmethod
    def known_targets(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(ALPACA_FIELDS))
        if unknown:
            raise ValueError(f"fixed text for unknown field(s) {unknown}; fields are {list(ALPACA_FIELDS)} / "
                             f"固定文本对应的字段 {unknown} 不存在；可用字段为 {list(ALPACA_FIELDS)}")
        return {target: text for target, text in value.items() if text}

    def sources(self) -> dict[str, str]:
        """Target field -> source column, for the mapped fields only."""
        return {target: getattr(self, target) for target in ALPACA_FIELDS if getattr(self, target)}


def _normalize(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


def suggest_mapping(columns: list[str]) -> FieldMapping:
    """A first guess from column names (e.g. prompt,text,label -> instruction,input,output)."""
    by_name = {}
    for column in columns:
        if column not in INTERNAL_COLUMNS:
            by_name.setdefault(_normalize(column), column)
    chosen, used = {}, set()
    for target, names in SUGGESTIONS.items():
        for name in names:
            column = by_name.get(name)
            if column is not None and column not in used:
                chosen[target] = column
                used.add(column)
                break
    return FieldMapping(**chosen)


def mapping_problems(columns, mapping: FieldMapping) -> list[Problem]:
    """What stops the mapping from working: unknown source columns, required fields left unmapped."""
    columns = list(columns)
    problems = []
    for target, source in mapping.sources().items():
        if source not in columns:
            user_columns = [c for c in columns if c not in INTERNAL_COLUMNS]
            problems.append(Problem("mapping_unknown_column", field=target,
                                    params={"column": source, "columns": ", ".join(user_columns)}))
        if target in mapping.constants:
            problems.append(Problem("mapping_column_and_constant", severity="warning", field=target,
                                    params={"column": source}))
    for target in ALPACA_REQUIRED:
        if getattr(mapping, target) is None and target not in mapping.constants:
            problems.append(Problem("mapping_required", field=target))
    return problems


def apply_mapping(table: pa.Table, mapping: FieldMapping) -> pa.Table:
    """The table with internal columns, then the mapped fields, then (optionally) the other columns.

    A field with both a column and a fixed text takes the column. Unmapped fields are left out. With
    `keep_other_columns`, a kept column whose name equals a target field is dropped (the target wins).
    """
    sources = mapping.sources()
    missing = sorted(set(sources.values()) - set(table.column_names))
    if missing:
        raise ValueError(f"unknown source column(s) {missing} / 源列 {missing} 不存在")
    names, arrays = [], []
    for column in table.column_names:
        if column in INTERNAL_COLUMNS:
            names.append(column)
            arrays.append(table.column(column))
    for target in ALPACA_FIELDS:
        if target in sources:
            arrays.append(_as_text(table.column(sources[target])))
        elif target in mapping.constants:
            arrays.append(pa.repeat(pa.scalar(mapping.constants[target], pa.string()), table.num_rows))
        else:
            continue
        names.append(target)
    if mapping.keep_other_columns:
        used = set(sources.values()) | set(names)
        for column in table.column_names:
            if column not in used:
                names.append(column)
                arrays.append(table.column(column))
    return pa.Table.from_arrays(arrays, names=names)


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    # Stored versions keep user columns as strings; a reader may still hand over large_string or numbers.
    return column if column.type == pa.string() else pc.cast(column, pa.string())


# --- prompt preview ---------------------------------------------------------------------------------

def preview_prompt(row: dict, chat_template: str | None = None, add_generation_prompt: bool = False) -> str:
    """The text the model sees for one row, rendered with an HF-style chat template (ChatML by default).

    By default the whole conversation as trained on; with `add_generation_prompt` the final answer is
    left out and the template's generation prompt added, as at inference.
    """
    messages = row_messages(row)
    if add_generation_prompt and messages and messages[-1]["role"] == "assistant":
        messages = messages[:-1]
    template = _compile(chat_template or CHATML_TEMPLATE)
    try:
        return template.render(messages=messages, add_generation_prompt=add_generation_prompt,
                               bos_token="", eos_token="")
    except Exception as error:  # a user's template may fail in any way; show it, do not crash
        raise ValueError(f"chat template failed: {error} / 对话模板渲染失败：{error}") from error


@lru_cache(maxsize=16)
def _compile(source: str):
    """Compile a chat template in a sandbox, with the helpers transformers gives templates."""
    from jinja2 import TemplateError
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise TemplateError(message)

    def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    environment.filters["tojson"] = tojson
    environment.globals["raise_exception"] = raise_exception
    environment.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    try:
        return environment.from_string(source)
    except TemplateError as error:
        raise ValueError(f"invalid chat template: {error} / 对话模板有误：{error}") from error
