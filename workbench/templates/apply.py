"""Templates on dataset rows: variable→column mappings, live previews, and apply (a new version).

A mapping says which column fills each variable; `constants` give fixed text (e.g. the labels of a
classifier); an optional variable with neither takes its default. No mapping at all (None) means
"the columns named like the variables"; a given mapping is used as is.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from ..records import ROW_ID
from .library import get_template
from .model import Template
from .render import EmptyValueError, TemplateError, empty_error, missing_error, render, template_name, variables_of

PROGRESS_ROWS = 10_000
EMPTY_ROWS_LISTED = 5  # row ids named in an "is empty" problem (the count says how many there are)
# A variable whose name is not a column often means one of these (first match wins).
ALIASES = {
    "text": ("text", "input", "content", "review", "instruction", "prompt"),
    "question": ("question", "instruction", "prompt", "query"),
    "instruction": ("instruction", "prompt", "question"),
    "answer": ("answer", "output", "response"), "response": ("response", "output", "answer"),
    "output": ("output", "response", "answer"), "input": ("input", "text", "context"),
    "passage": ("passage", "context", "text", "content", "input"), "context": ("context", "passage", "input", "text"),
    "labels": ("labels",), "label": ("label", "output"),
}


def suggest_mapping(template: Template, columns: list[str]) -> dict[str, str]:
    """variable -> column for the variables a column plausibly fills (same name or a common alias)."""
    mapping = {}
    for name in variables_of(template.text, template_name(template)):
        for candidate in ALIASES.get(name, (name,)):
            if candidate in columns:
                mapping[name] = candidate
                break
    return mapping


def row_variables(template: Template | str, row: dict, mapping: dict | None = None,
                  constants: dict | None = None) -> dict[str, object]:
    """The values one row gives the template's variables (empty cells are empty text).

    With no mapping at all, variables take the column of the same name; with a mapping, only the
    mapped columns are used (a variable deliberately left unmapped stays unmapped).
    """
    text = template.text if isinstance(template, Template) else template
    names = variables_of(text, template_name(template))
    if mapping is None:
        mapping = {name: name for name in names if name in row and name not in (constants or {})}
    values = dict(constants or {})
    for name in names:
        column = mapping.get(name)
        if column and column in row:
            values[name] = "" if row[column] is None else row[column]
    return values


def render_row(template: Template | str, row: dict, mapping: dict | None = None,
               constants: dict | None = None) -> str:
    """The template rendered on one dataset row (dict of column -> text)."""
    return render(template, row_variables(template, row, mapping, constants))


def preview_rows(table: pa.Table, template: Template | str, mapping: dict | None = None,
                 constants: dict | None = None, limit: int = 3) -> list[dict]:
    """The first rows rendered: [{"_id", "text", "error"}] (a failing row carries its TemplateError)."""
    previews = []
    for row in table.slice(0, limit).to_pylist():
        try:
            previews.append({"_id": row.get(ROW_ID), "text": render_row(template, row, mapping, constants),
                             "error": None})
        except TemplateError as error:
            previews.append({"_id": row.get(ROW_ID), "text": None, "error": error})
    return previews


def render_column(table: pa.Table, template: Template | str, mapping: dict | None = None,
                  constants: dict | None = None, progress: Callable[[int, int], None] | None = None) -> pa.Array:
    """The template rendered for every row, as a string column (identical inputs render once).

    `progress(done, total)` is called every PROGRESS_ROWS rows (a job reports it and may cancel there).
    """
    mapping = resolve_mapping(template, table.column_names, mapping, constants)
    check_mapping(template, table.column_names, mapping, constants)
    used = sorted(set(mapping.values()))
    columns = {c: table.column(c).to_pylist() for c in used}
    ids = table.column(ROW_ID).to_pylist() if ROW_ID in table.column_names else list(range(table.num_rows))
    cache: dict[tuple, str] = {}
    out = []
    for index in range(table.num_rows):
        if progress is not None and index % PROGRESS_ROWS == 0:
            progress(index, table.num_rows)
        key = tuple(columns[c][index] for c in used)
        if key not in cache:
            row = {c: columns[c][index] for c in used}
            try:
                cache[key] = render_row(template, row, mapping, constants)
            except TemplateError as error:
                raise error.at_row(ids[index]) from None
        out.append(cache[key])
    return pa.array(out, type=pa.string())


def resolve_mapping(template: Template | str, columns: list[str], mapping: dict | None,
                    constants: dict | None = None) -> dict[str, str]:
    """The mapping in use: the given one without blanks, or (when None) same-name columns."""
    if mapping is None:
        text = template.text if isinstance(template, Template) else template
        return {v: v for v in variables_of(text, template_name(template)) if v in columns and v not in (constants or {})}
    return {k: v for k, v in mapping.items() if v}


def check_mapping(template: Template | str, columns: list[str], mapping: dict | None,
                  constants: dict | None = None) -> None:
    """Raise when a mapped column does not exist or a needed variable gets no value at all."""
    name = template_name(template)
    unknown = sorted({c for c in (mapping or {}).values() if c and c not in columns})
    if unknown:
        raise ValueError(f"Template '{name}': column(s) {', '.join(unknown)} do not exist (columns: "
                         f"{', '.join(columns)}) / 模板“{name}”：不存在列 {'、'.join(unknown)}")
    text = template.text if isinstance(template, Template) else template
    given = row_variables(template, {c: "" for c in columns}, mapping, constants)
    defaults = template.defaults() if isinstance(template, Template) else {}
    missing = [v for v in variables_of(text, name) if v not in given and v not in defaults]
    if missing:
        raise missing_error(name, text, missing)


def required_variables(template: Template | str) -> list[str]:
    """The variables without a default: rendered empty, they leave a hole in every prompt."""
    text = template.text if isinstance(template, Template) else template
    defaults = template.defaults() if isinstance(template, Template) else {}
    return [name for name in variables_of(text, template_name(template)) if name not in defaults]


def _blank(column) -> pa.Array:
    """True where a cell gives no text: null, blank (whitespace only) text, an empty list."""
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        blank = pc.equal(pc.utf8_trim_whitespace(column), "")
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        blank = pc.equal(pc.list_value_length(column), 0)
    else:
        return pc.is_null(column)
    return pc.or_kleene(pc.is_null(column), pc.fill_null(blank, True))


def empty_values(table: pa.Table, template: Template | str, mapping: dict | None = None,
                 constants: dict | None = None) -> list[EmptyValueError]:
    """One located problem per required variable that is empty in some rows of `table` (how many, which first):
    jinja2 renders an empty value without complaint, so a wrong column would go unnoticed in every prompt."""
    mapping = resolve_mapping(template, table.column_names, mapping, constants)
    text = template.text if isinstance(template, Template) else template
    ids = table.column(ROW_ID) if ROW_ID in table.column_names else pa.array(range(table.num_rows))
    problems = []
    for name in required_variables(template):
        column = mapping.get(name)
        if column in table.column_names:
            blank = _blank(table.column(column))
            count = pc.sum(blank).as_py() or 0
            rows = pc.filter(ids, blank).slice(0, EMPTY_ROWS_LISTED).to_pylist() if count else []
        elif name in (constants or {}) and not str(constants[name] or "").strip():
            column, count, rows = None, table.num_rows, ids.slice(0, EMPTY_ROWS_LISTED).to_pylist()
        else:
            continue  # no value at all is check_mapping's "has no value"; a fixed text with text is fine
        if count:
            problems.append(empty_error(template_name(template), text, name, column, count, table.num_rows, rows))
    return problems


def version_empty_values(ws, version, template: Template | str, mapping: dict | None = None,
                         constants: dict | None = None) -> list[EmptyValueError]:
    """`empty_values` over a whole dataset version, reading only the columns the template uses."""
    used = set(resolve_mapping(template, version.columns, mapping, constants).values())
    columns = [c for c in version.columns if c in used or c == ROW_ID]
    return empty_values(ws.read(version, columns=columns), template, mapping, constants)


def check_apply(ws, version, template: Template, target_field: str, mapping: dict | None = None,
                constants: dict | None = None, overwrite: bool = False, allow_empty: bool = False) -> str:
    """Raise the user errors an apply would hit (bad target, text in the way, missing variables, a required
    variable empty in some rows unless `allow_empty`); returns the target."""
    target = str(target_field or "").strip()
    if not target or target.startswith("_"):
        raise ValueError(f"'{target}' cannot be written: pick a field such as instruction, system or input / "
                         f"不能写入“{target}”：请选择 instruction、system、input 等字段")
    if target in version.columns and not overwrite:
        values = ws.read(version, columns=[target]).column(0).to_pylist()
        filled = sum(1 for value in values if value not in (None, ""))
        if filled:
            raise ValueError(f"Column '{target}' already has text in {filled} rows; turn on overwrite (--overwrite) to "
                             f"replace it / “{target}”列已有 {filled} 行有内容；如需替换请选择覆盖（--overwrite）")
    check_mapping(template, version.columns, resolve_mapping(template, version.columns, mapping, constants), constants)
    if not allow_empty:
        empty = version_empty_values(ws, version, template, mapping, constants)
        if empty:
            raise empty[0]
    return target


def apply_template(ws, version, template_ref: str | Template, target_field: str, mapping: dict | None = None,
                   constants: dict | None = None, overwrite: bool = False,
                   progress: Callable[[int, int], None] | None = None, allow_empty: bool = False):
    """Render the template on every row into `target_field`; commits a new version (op "template").
    A required variable empty in some rows is refused (EmptyValueError) unless `allow_empty`; the version then
    records how many rows each such variable left empty."""
    template = template_ref if isinstance(template_ref, Template) else get_template(ws, template_ref)
    target = check_apply(ws, version, template, target_field, mapping, constants, overwrite, allow_empty)
    table = ws.read(version)
    empty = {e.variable: e.count for e in empty_values(table, template, mapping, constants)} if allow_empty else {}
    mapping = resolve_mapping(template, table.column_names, mapping, constants)
    column = render_column(table, template, mapping, constants, progress)
    if target in table.column_names:
        table = table.set_column(table.schema.get_field_index(target), pa.field(target, pa.string()), column)
    else:
        table = table.append_column(pa.field(target, pa.string()), column)
    params = {"template": template.ref, "template_sha256": hashlib.sha256(template.text.encode()).hexdigest()[:16],
              "target": target, "mapping": mapping, "constants": dict(constants or {}), "overwrite": bool(overwrite)}
    if empty:
        params["empty"] = empty  # applied on purpose with these required values empty: variable -> rows
    return ws.commit_version(version.dataset_id, table, version.number, "template", params)
