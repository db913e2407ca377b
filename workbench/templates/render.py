"""Rendering in a jinja2 sandbox where a missing variable is a located error, never blank text.

Every failure (syntax, a variable with no value, an unsafe or failing expression) becomes a
`TemplateError` naming the template, the line and the variable, in English and Chinese.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from .model import Template, is_variable_name

MAX_OUTPUT_CHARS = 200_000  # a prompt longer than this is a runaway loop, not a prompt
MAX_POWER = 64


class TemplateError(ValueError):
    """A user-facing template problem: kind (syntax, variable_name, missing, undefined, unsafe, runtime, too_long)."""

    def __init__(self, kind: str, template: str, message_en: str, message_zh: str, line: int | None = None,
                 variable: str | None = None, row: int | None = None):
        self.kind, self.template, self.line, self.variable, self.row = kind, template, line, variable, row
        self.message_en, self.message_zh = message_en, message_zh
        super().__init__(f"{self.located('en')} / {self.located('zh')}")

    def located(self, lang: str = "en") -> str:
        if lang == "zh":
            where = f"模板“{self.template}”" + (f"第 {self.line} 行" if self.line else "")
            where += f"（数据行 _id {self.row}）" if self.row is not None else ""
            return f"{where}：{self.message_zh}"
        where = f"Template '{self.template}'" + (f", line {self.line}" if self.line else "")
        where += f" (row _id {self.row})" if self.row is not None else ""
        return f"{where}: {self.message_en}"

    def at_row(self, row_id: int) -> TemplateError:
        return TemplateError(self.kind, self.template, self.message_en, self.message_zh, self.line, self.variable,
                             row_id)


class _Environment(SandboxedEnvironment):
    """The jinja2 sandbox, also refusing `'x' * 10**9`-style expressions that would exhaust memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_POWER:
            raise SecurityError(f"exponent {right} is too large")
        if operator == "*":
            sized, count = (left, right) if isinstance(left, (str, list, tuple)) else (right, left)
            if isinstance(sized, (str, list, tuple)) and isinstance(count, int) \
                    and len(sized) * count > MAX_OUTPUT_CHARS:
                raise SecurityError("repeating a value that many times makes the prompt too long")
        return super().call_binop(context, operator, left, right)


# trim/lstrip blocks: a `{% if %}` on its own line leaves no blank line behind (prompts are plain text).
ENVIRONMENT = _Environment(undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, autoescape=False)
ENVIRONMENT.globals.pop("lipsum", None)  # filler text has no place in a prompt and can be made huge
GLOBAL_NAMES = frozenset(ENVIRONMENT.globals)


def template_name(template: Template | str) -> str:
    return template.ref if isinstance(template, Template) else "<text>"


def variables_of(text: str, name: str = "<text>") -> list[str]:
    """The variables a template text needs, in order of first use (syntax errors raise TemplateError)."""
    try:
        found = list(_variables(text))
    except TemplateSyntaxError as error:
        raise _syntax(name, error) from None
    _check_names(text, name)
    return found


def check_syntax(text: str, name: str = "<text>") -> None:
    """Raise TemplateError when the text does not compile."""
    _compile(text, name)


def render(template: Template | str, variables: Mapping[str, object]) -> str:
    """The text with `variables` filled in; optional variables fall back to their defaults."""
    text = template.text if isinstance(template, Template) else template
    name = template_name(template)
    compiled = _compile(text, name)
    values = dict(template.defaults()) if isinstance(template, Template) else {}
    values.update({str(k): "" if v is None else v for k, v in variables.items()})
    missing = [v for v in variables_of(text, name) if v not in values]
    if missing:
        raise missing_error(name, text, missing)
    try:
        output = compiled.render(values)
    except TemplateError:
        raise
    except UndefinedError as error:
        line = _template_line(error)
        raise TemplateError("undefined", name, f"{error.message} (a value or attribute the text uses does not exist)",
                            f"{_undefined_zh(error.message)}（模板用到的值或属性不存在）", line,
                            _undefined_name(error.message)) from None
    except SecurityError as error:
        raise TemplateError("unsafe", name, f"not allowed in a template: {error}",
                            f"模板中不允许此操作：{error}", _template_line(error)) from None
    except Exception as error:  # noqa: BLE001 (any failing expression in user text is a user error)
        raise TemplateError("runtime", name, f"{type(error).__name__}: {error}",
                            f"表达式出错：{type(error).__name__}: {error}", _template_line(error)) from None
    output = output.strip("\n").rstrip()  # blank lines left around optional blocks are noise in a prompt
    if len(output) > MAX_OUTPUT_CHARS:
        raise TemplateError("too_long", name, f"the rendered text has {len(output):,} characters "
                            f"(limit {MAX_OUTPUT_CHARS:,})", f"渲染结果有 {len(output):,} 个字符（上限 "
                            f"{MAX_OUTPUT_CHARS:,}）")
    return output


def render_example(template: Template) -> str:
    return render(template, template.example)


# --- helpers ---------------------------------------------------------------------------------------
@lru_cache(maxsize=256)
def _variables(text: str) -> tuple[str, ...]:
    """Parsed once per text: rendering a million rows must not re-parse the template per row."""
    found = meta.find_undeclared_variables(ENVIRONMENT.parse(text)) - GLOBAL_NAMES
    lines = _first_lines(text)
    return tuple(sorted(found, key=lambda v: (lines.get(v, (10**9, 0)), v)))


@lru_cache(maxsize=256)
def _compiled(text: str):
    return ENVIRONMENT.from_string(text)


def _compile(text: str, name: str):
    try:
        compiled = _compiled(text)
    except TemplateSyntaxError as error:
        raise _syntax(name, error) from None
    _check_names(text, name)
    return compiled


@lru_cache(maxsize=256)
def _bad_names(text: str) -> tuple[tuple[str, int], ...]:
    """(name, line) of each name in the text that is no variable name (see `is_variable_name`)."""
    return tuple((found, line) for found, (line, _) in _first_lines(text).items() if not is_variable_name(found))


def _check_names(text: str, name: str) -> None:
    """Refuse {{ ｘ }}: Python would read it as x, so two variables would silently share one value."""
    bad = _bad_names(text)
    if bad:
        variable, line = bad[0]
        plain = unicodedata.normalize("NFKC", variable)
        raise TemplateError(
            "variable_name", name, f"'{variable}' is not a variable name: write it as '{plain}' (variable names are "
            f"letters, Chinese included, digits and _, without full-width or other compatibility letters)",
            f"“{variable}”不是有效的变量名：请写成“{plain}”（变量名可用字母、汉字、数字和下划线，不能用全角或兼容字符）",
            line, variable)


def _syntax(name: str, error: TemplateSyntaxError) -> TemplateError:
    message = error.message or "invalid syntax"
    return TemplateError("syntax", name, f"syntax error: {message}", f"语法错误：{_syntax_zh(message)}", error.lineno)


def missing_error(name: str, text: str, missing: list[str]) -> TemplateError:
    line = _first_lines(text).get(missing[0], (None,))[0]
    listed = ", ".join(missing)
    return TemplateError(
        "missing", name,
        f"variable '{missing[0]}' has no value (missing: {listed}); map it to a column or give it a value",
        f"变量“{missing[0]}”没有值（缺少：{listed}）；请把它映射到某一列或填写固定值", line, missing[0])


class EmptyValueError(TemplateError):
    """A required variable whose value is empty in some rows: how many of how many, and the first row ids."""

    def __init__(self, template: str, line: int | None, variable: str, column: str | None, count: int, total: int,
                 rows: tuple):
        self.column, self.count, self.total, self.rows = column, count, total, tuple(rows)
        shown = ", ".join(str(r) for r in self.rows) + (", …" if count > len(self.rows) else "")
        shown_zh = "、".join(str(r) for r in self.rows) + ("……" if count > len(self.rows) else "")
        source_en = f"column '{column}'" if column else "its fixed text"
        source_zh = f"列“{column}”" if column else "固定文本"
        super().__init__(
            "empty", template,
            f"required variable '{variable}' ({source_en}) is empty in {count:,} of {total:,} rows (row _id "
            f"{shown}); map it to a column that has text or give it a fixed text",
            f"必填变量“{variable}”（{source_zh}）在 {total:,} 行中有 {count:,} 行为空（数据行 _id {shown_zh}）；"
            f"请映射到有内容的列，或填写固定文本", line, variable)

    def at_row(self, row_id: int) -> TemplateError:
        return self


def empty_error(name: str, text: str, variable: str, column: str | None, count: int, total: int,
                rows) -> EmptyValueError:
    return EmptyValueError(name, _first_lines(text).get(variable, (None,))[0], variable, column, count, total, rows)


def _first_lines(text: str) -> dict[str, tuple[int, int]]:
    """Where each name first appears: {name: (line, order)}; attribute names after '.' are skipped."""
    found, previous = {}, None
    try:
        for order, (line, kind, value) in enumerate(ENVIRONMENT.lex(text)):
            if kind == "name" and not (previous == ("operator", ".")) and value not in found:
                found[value] = (line, order)
            if kind != "whitespace":
                previous = (kind, value)
    except TemplateSyntaxError:
        pass
    return found


def _template_line(error: BaseException) -> int | None:
    """The template line of a render-time error (jinja2 rewrites tracebacks to '<template>' frames)."""
    line, tb = None, error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _undefined_name(message: str) -> str | None:
    match = re.search(r"attribute '([^']+)'", message) or re.search(r"'([^']+)' is undefined", message)
    return match.group(1) if match else None


def _undefined_zh(message: str) -> str:
    match = re.search(r"'(.+)' has no attribute '([^']+)'", message)
    if match:
        return f"{match.group(1)} 没有属性“{match.group(2)}”"
    match = re.search(r"'([^']+)' is undefined", message)
    return f"“{match.group(1)}”未定义" if match else message


_SYNTAX_ZH = (  # the common jinja2 syntax messages, in Chinese; anything else is shown as is
    (r"innermost block that needs to be closed is '(\w+)'", lambda m: f"模板意外结束：缺少 {{% end{m[1]} %}}"),
    (r"^unexpected end of template", lambda m: "模板意外结束（可能缺少结束标签或右括号）"),
    (r"^unexpected '(.+)'$", lambda m: f"此处不应出现“{m[1]}”（检查 {{{{ }}}} 与 {{% %}} 是否成对）"),
    (r"^Encountered unknown tag '(\w+)'", lambda m: f"未知标签“{m[1]}”"),
    (r"^No filter named '(\w+)'", lambda m: f"没有名为“{m[1]}”的过滤器"),
    (r"^No test named '(\w+)'", lambda m: f"没有名为“{m[1]}”的测试"),
    (r"^expected token '(.+)', got '(.+)'$", lambda m: f"此处应为“{m[1]}”，实际是“{m[2]}”"),
)


def _syntax_zh(message: str) -> str:
    for pattern, build in _SYNTAX_ZH:
        match = re.search(pattern, message, re.IGNORECASE)
        if match:
            return build(match)
    return message
