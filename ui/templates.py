"""Prompt-template widgets: a template card, located errors, and variable → column/fixed-text inputs."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.common import lang, show_current_label, t
from workbench.templates import TemplateError, render_example, suggest_mapping, variables_of


def show_error(error: Exception) -> None:
    """A TemplateError located in the user's language; any other user error as its message."""
    st.error(error.located(lang()) if isinstance(error, TemplateError) else str(error))


def show_template(template) -> None:
    """Description, variables, the jinja2 text and the rendered example — all as text, never HTML."""
    st.text(template.description)
    if template.output == "json":
        st.caption(t("templates.json_output"))
    if template.variables:
        st.dataframe(pd.DataFrame([{t("templates.variable"): v.name, t("templates.required"): v.required,
                                    t("templates.default"): v.default, t("templates.description"): v.description}
                                   for v in template.variables]), hide_index=True, width="stretch")
    st.code(template.text, language=None)
    if template.example:
        st.caption(t("templates.example"))
        try:
            st.code(render_example(template), language=None)
        except TemplateError as error:
            show_error(error)


def variable_inputs(template, columns: list[str], key: str = "tpl") -> tuple[dict, dict] | None:
    """One row per variable: a column, or fixed text. Returns (mapping, constants); None on a syntax error.

    Empty fixed text gives no value: a required variable then shows the "has no value" error, an
    optional one falls back to its default.
    """
    try:
        names = variables_of(template.text, template.ref)
    except TemplateError as error:
        show_error(error)
        return None
    suggested, mapping, constants = suggest_mapping(template, columns), {}, {}
    st.caption(t("templates.map"))
    for name in names:
        left, right = st.columns([1, 2])
        options = ["", *columns]  # "" rather than None: AppTest (and URLs) can select it
        show_current_label(f"{key}_col_{template.ref}_{name}")
        column = left.selectbox(t("templates.column_for", name=name), options,
                                index=options.index(suggested.get(name, "")), key=f"{key}_col_{template.ref}_{name}",
                                format_func=lambda c: c or t("templates.no_column"))
        if column:
            mapping[name] = column
            continue
        variable = template.variable(name)
        value = right.text_input(t("templates.fixed_for", name=name), template.example.get(name, ""),
                                 help=variable.description if variable else None,
                                 key=f"{key}_fix_{template.ref}_{name}")
        if value:
            constants[name] = value
    return mapping, constants
