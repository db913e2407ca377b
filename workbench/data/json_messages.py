"""JSON syntax errors in Chinese: the decoders' English messages (Python's json, orjson) said in Chinese words,
with the line and column, and the original message kept as a detail.

    json_error_zh("Expecting ',' delimiter", 3, 28)
    # '第 3 行第 28 列，缺少逗号“,”（原文：Expecting ',' delimiter）'
"""
from __future__ import annotations

import re

# (pattern in the English message, Chinese) — the first match wins, so the specific ones come first.
PHRASES: tuple[tuple[str, str], ...] = (
    (r"expecting ',' or '\]' after an array element|expected `,` or `\]`|expected ',' or '\]'",
     "数组元素之后应为逗号“,”或右方括号“]”"),
    (r"expected `,` or `\}`|expected ',' or '\}'", "应为逗号“,”或右花括号“}”"),
    (r"expecting ',' delimiter", "缺少逗号“,”"),
    (r"expecting ':' delimiter|expected `:`|expected ':'", "缺少冒号“:”"),
    (r"expecting property name enclosed in double quotes|key must be a string|expected a string key",
     "键名应为双引号括起的文本（或对象末尾多了一个逗号）"),
    (r"trailing comma", "末尾多了一个逗号"),
    (r"unterminated string|unclosed string|eof while parsing a string", "字符串没有结束（缺少右双引号“\"”）"),
    (r"eof while parsing|unexpected end of data|unexpected end of input", "内容意外结束（缺少右括号或右双引号）"),
    (r"control character", "字符串中有未转义的控制字符（如换行、制表符，应写成 \\n、\\t）"),
    (r"invalid \\uxxxx escape|surrogate", "无效的 \\uXXXX 转义"),
    (r"invalid \\escape|invalid escape", "无效的反斜杠“\\”转义"),
    (r"extra data after the array", "数组结束后还有多余的内容"),
    (r"extra data after the first value", "第一个值之后还有多余的内容"),
    (r"extra data|trailing characters|unexpected content after document", "一个 JSON 值之后还有多余的内容"),
    (r"invalid literal|expected ident", "无效的字面量（只能是 true、false 或 null；文本要用双引号括起）"),
    (r"invalid number|number out of range|leading zero|number", "数字格式无效或超出范围"),
    (r"expecting value|expected value|unexpected character", "这里应为一个值（文本要用双引号括起；检查是否多了逗号）"),
    (r"recursion limit|too deep", "嵌套层数太深"),
)
_COMPILED = tuple((re.compile(pattern, re.IGNORECASE), chinese) for pattern, chinese in PHRASES)
# orjson appends where it stopped ("unexpected character: line 1 column 10 (char 9)"); the problem has that already.
_POSITION = re.compile(r"[:,]?\s*(?:at\s+)?line \d+ column \d+(?: \(char \d+\))?\s*$", re.IGNORECASE)


def json_phrase_zh(message: str) -> str:
    """The decoder's English message as a Chinese phrase ("" when it is not one we know)."""
    for pattern, chinese in _COMPILED:
        if pattern.search(message):
            return chinese
    return ""


def json_error_zh(message: str, line: int | None = None, column: int | None = None) -> str:
    """Where (in Chinese words) and what went wrong, then the decoder's own message as the detail."""
    original = _POSITION.sub("", str(message)).strip()
    where = ""
    if line is not None:
        where = f"第 {line} 行第 {column} 列" if column is not None else f"第 {line} 行"
    phrase = json_phrase_zh(original) or "无法解析"
    return f"{where}，{phrase}（原文：{original}）" if where else f"{phrase}（原文：{original}）"
