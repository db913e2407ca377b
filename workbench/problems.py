"""Located problems in user data, with messages in Chinese and English.

Readers and validators return these as values; the UI shows them as a table, the CLI prints them.
"""
from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass

# code -> (English, Chinese); placeholders are filled from Problem.params.
MESSAGES: dict[str, tuple[str, str]] = {
    "file_empty": ("The file is empty.", "文件为空。"),
    "file_not_found": ("File not found: {path}", "找不到文件：{path}"),
    "file_unsupported": (
        "Unsupported file type '{suffix}'. Use .json, .jsonl, .csv, .xlsx, .parquet or a Hugging Face datasets folder.",
        "不支持的文件类型“{suffix}”。请使用 .json、.jsonl、.csv、.xlsx、.parquet 或 Hugging Face datasets 文件夹。",
    ),
    "file_unreadable": ("The file could not be read: {detail}", "无法读取文件：{detail}"),
    "json_syntax": ("Invalid JSON: {detail}", "JSON 格式错误：{detail_zh}"),  # detail_zh: data/json_messages.py
    "json_not_array": (
        "Expected a JSON array of objects ([{{...}}, ...]) but the file holds {found}.{hint}",
        "应为由对象组成的 JSON 数组（[{{...}}, ...]），但文件内容是{found_zh}。{hint_zh}",
    ),
    "row_not_object": ("Row is {found}, not a JSON object.", "该行是{found_zh}，不是 JSON 对象。"),
    "encoding_error": (
        "Cannot decode the file as {encoding} (byte 0x{byte} at line {line}, column {column}). "
        "Try GB18030 for Chinese files exported from Excel or Windows.",
        "无法按 {encoding} 解码文件（第 {line} 行第 {column} 列的字节 0x{byte}）。"
        "Excel 或 Windows 导出的中文文件请尝试 GB18030。",
    ),
    "duplicate_column": (
        "Column name '{name}' appears more than once (columns {positions}); renamed to {renamed}.",
        "列名“{name}”重复出现（第 {positions} 列）；已重命名为 {renamed}。",
    ),
    "no_columns": ("The file has no columns (no header row).", "文件没有列（缺少表头）。"),
    "merged_cells": (
        "Merged cells {ranges} were filled with the value of their top-left cell.",
        "合并单元格 {ranges} 已用左上角单元格的值填充。",
    ),
    "several_sheets": (
        "The workbook has {count} sheets ({names}); reading '{sheet}'. Pick another sheet to import it instead.",
        "工作簿有 {count} 个工作表（{names}）；正在读取“{sheet}”。可选择其他工作表导入。",
    ),
    "sheet_not_found": ("Sheet '{sheet}' not found; sheets: {names}.", "找不到工作表“{sheet}”；现有工作表：{names}。"),
    "rows_skipped_empty": ("{count} empty rows were skipped.", "已跳过 {count} 个空行。"),
    "row_too_many_fields": (
        "Row has {found} fields but the header has {expected} columns; the row was skipped.",
        "该行有 {found} 个字段，但表头只有 {expected} 列；已跳过该行。",
    ),
    "row_too_few_fields": (
        "Row has {found} fields but the header has {expected} columns; the missing cells were left empty.",
        "该行只有 {found} 个字段，而表头有 {expected} 列；缺少的单元格留空。",
    ),
    "problems_not_listed": ("{count} more '{kind}' problems are not listed.", "另有 {count} 个“{kind}”问题未列出。"),
    "missing_field": ("Required field '{field}' is missing.", "缺少必填字段“{field}”。"),
    "missing_column": (
        "Column '{field}' does not exist; map your columns to the {schema} fields first.",
        "不存在“{field}”列；请先将列映射到 {schema} 字段。",
    ),
    "empty_value": ("Field '{field}' is empty or only whitespace.", "字段“{field}”为空或只有空白字符。"),
    "wrong_type": ("Field '{field}' must be {expected}, got {found}.", "字段“{field}”应为{expected_zh}，实际为{found_zh}。"),
    "history_shape": (
        "'history' must be a list of [instruction, answer] pairs of text; {detail}.",
        "“history”应为由 [指令, 回答] 文本对组成的列表；{detail_zh}。",
    ),
    "messages_shape": ("'{field}' must be a list of messages; {detail}.", "“{field}”应为消息列表；{detail_zh}。"),
    "too_long": (
        "Field '{field}' has {length} characters (limit {limit}).",
        "字段“{field}”有 {length} 个字符（上限 {limit}）。",
    ),
    "mapping_unknown_column": (
        "Field '{field}' is mapped to column '{column}', which does not exist (columns: {columns}).",
        "字段“{field}”映射到的列“{column}”不存在（现有列：{columns}）。",
    ),
    "mapping_required": (
        "Field '{field}' is required: map a column to it or give a fixed text.",
        "字段“{field}”为必填：请为它映射一列或填写固定文本。",
    ),
    "mapping_column_and_constant": (
        "Field '{field}' has both a column ('{column}') and a fixed text; the column is used.",
        "字段“{field}”同时设置了列（“{column}”）和固定文本；将使用该列。",
    ),
}

TYPE_NAMES_ZH = {
    "text": "文本", "number": "数字", "boolean": "布尔值", "list": "列表", "object": "对象",
    "null": "空值", "list of pairs": "文本对列表", "an object": "一个对象", "a number": "一个数字",
    "text ": "一段文本", "nothing": "空内容",
}


def _zh(value) -> str:
    return TYPE_NAMES_ZH.get(str(value), str(value))


@dataclass(frozen=True)
class Problem:
    """One located problem: where it is (file, line, row, field) and what is wrong (code + params)."""

    code: str
    severity: str = "error"  # "error" blocks saving the row as is; "warning" is informational
    file: str | None = None
    line: int | None = None  # 1-based line (JSON/JSONL) or sheet/CSV row number as the user sees it
    row: int | None = None  # the row's `_id` in the table, when the row exists
    field: str | None = None
    column: int | None = None  # 1-based character column for syntax errors
    params: dict = dataclasses.field(default_factory=dict, hash=False, compare=False)

    def _format(self, index: int) -> str:
        if self.code not in MESSAGES and self.code.startswith("extract_"):
            import workbench.extract.messages  # noqa: F401  (a feature's codes register on import)
        template = MESSAGES[self.code][index]
        values = {"field": self.field, **self.params}
        if index == 1:
            for key in ("expected", "found", "detail", "hint"):
                values.setdefault(f"{key}_zh", _zh(values.get(key, "")))
        return template.format_map(_Default(values))

    @property
    def message_en(self) -> str:
        return self._format(0)

    @property
    def message_zh(self) -> str:
        return self._format(1)

    def message(self, lang: str = "en") -> str:
        return self.message_zh if lang == "zh" else self.message_en

    def located(self, lang: str = "en") -> str:
        """One line for a terminal: file:line:column [field] message."""
        where = ":".join(str(p) for p in (self.file, self.line, self.column) if p is not None)
        what = f"[{self.field}] " if self.field else ""
        return f"{where + ': ' if where else ''}{what}{self.message(lang)}"

    def to_dict(self) -> dict:
        out = asdict(self)
        out["message_en"], out["message_zh"] = self.message_en, self.message_zh
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Problem":
        keys = {"code", "severity", "file", "line", "row", "field", "column", "params"}
        return cls(**{k: v for k, v in data.items() if k in keys})


class _Default(dict):
    def __missing__(self, key):
        return ""


class ReadError(Exception):
    """The source cannot be read at all; carries the located problems to show the user."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(p.located() for p in problems))


def print_problems(problems: list[Problem], lang: str, limit: int = 50, file=None) -> None:
    """The command line's list of problems: one indented line each, severity and message in `lang`."""
    from .i18n import t

    for problem in problems[:limit]:
        print(f"  {t(f'problem.{problem.severity}', lang)}: {problem.located(lang)}", file=file)
    if len(problems) > limit:
        print(f"  ... {len(problems) - limit} more", file=file)


PROBLEM_COLUMNS = ["severity", "file", "line", "row", "field", "message_zh", "message_en", "code"]


def problems_table(problems: list[Problem]):
    """The problems as a pandas DataFrame with stable columns, for display and export."""
    import pandas as pd

    rows = [{k: p.to_dict()[k] for k in PROBLEM_COLUMNS} for p in problems]
    return pd.DataFrame(rows, columns=PROBLEM_COLUMNS)
