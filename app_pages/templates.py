"""Templates: browse the prompt library, try a template on real rows, edit your own, apply to a dataset."""
import pandas as pd
import streamlit as st

from ui.common import flash, lang, pick_version, saved, show_current_label, show_flash, t, workspace
from ui.templates import show_error, show_template, variable_inputs
from workbench.data.browse import head
from workbench.i18n import LANGUAGES
from workbench.templates import (CATEGORIES, TemplateError, apply_template, create_template, delete_template,
                                 duplicate_template, get_template, list_templates, preview_rows, save_template,
                                 template_versions, variables_of, version_empty_values)
from workbench.templates.jobs import BACKGROUND_ROWS, start_apply_job
from workbench.workspace import StaleVersionError

TARGETS = ("instruction", "system", "input", "output", "prompt")
ws = workspace()
st.title(t("templates.title"))
st.caption(t("templates.caption"))
show_flash()
if "tpl_select_next" in st.session_state:  # a save selects its result (a widget's value is set before it renders)
    st.session_state.update(tpl_pick=st.session_state.pop("tpl_select_next"), tpl_category="", tpl_lang="",
                            tpl_search="")


def select_after(template_id: str | None, message: str) -> None:
    st.session_state.pop(f"tpl_tver_{template_id}", None)
    if template_id:
        st.session_state["tpl_select_next"] = template_id
    flash(message)
    st.rerun()


def try_on_rows(template) -> None:
    version = pick_version("tpl")
    if version is None:
        return
    columns = [c for c in version.columns if not c.startswith("_")]
    values = variable_inputs(template, columns)
    if values is None:
        return
    mapping, constants = values
    st.subheader(t("templates.preview"))
    try:
        empty = version_empty_values(ws, version, template, mapping, constants)
    except (TemplateError, ValueError):
        empty = []  # a missing variable or column: the preview rows below show it, located
    for problem in empty:  # over every row of the version, not only the three previewed
        st.warning(problem.located(lang()))
    for row in preview_rows(head(version.path, 3), template, mapping, constants):
        st.caption(t("templates.row", id=row["_id"]))
        if row["error"] is None:
            st.code(row["text"], language=None)
        else:
            show_error(row["error"])
    left, middle, right = st.columns([1, 1, 1], vertical_alignment="bottom")
    default = TARGETS.index(template.target) if template.target in TARGETS else 0
    target = left.selectbox(t("templates.target"), TARGETS, index=default, key="tpl_target")
    target = middle.text_input(t("templates.other_target"), key="tpl_target_other").strip() or target
    overwrite = right.checkbox(t("templates.overwrite"), key="tpl_overwrite")
    allow_empty = bool(empty) and st.checkbox(t("templates.allow_empty"), key="tpl_allow_empty")
    if st.button(t("templates.apply"), type="primary", key="tpl_apply"):
        try:
            if version.rows >= BACKGROUND_ROWS:  # a million rows take half a minute: a job, not a frozen page
                st.success(t("ds.job_started", id=start_apply_job(ws, version, template, target, mapping, constants,
                                                                    overwrite, allow_empty)))
                return
            new = apply_template(ws, version, template, target, mapping, constants, overwrite=overwrite,
                                 allow_empty=allow_empty)
        except StaleVersionError:
            st.error(t("common.stale"))
        except (TemplateError, ValueError) as error:
            show_error(error)
        else:
            saved(new, "tpl")


def edit(template) -> None:
    if template.source != "user":
        st.info(t("templates.builtin_readonly"))
        return
    versions = template_versions(ws, template.id)
    key = template.ref
    name = st.text_input(t("templates.name"), template.name.zh, key=f"tpl_name_{key}")
    description = st.text_area(t("templates.description"), template.description, key=f"tpl_desc_{key}", height=68)
    text = st.text_area(t("templates.text"), template.text, key=f"tpl_text_{key}", height=260)
    try:
        names = variables_of(text, f"{template.id}@{versions[-1].version + 1}")
    except TemplateError as error:
        names = []
        show_error(error)  # shown while typing; saving is refused with the same message
    optional = st.multiselect(t("templates.optional"), names, [v.name for v in template.variables
                                                               if not v.required and v.name in names],
                              key=f"tpl_optional_{key}")
    left, right = st.columns(2)
    if left.button(t("templates.save"), type="primary", key="tpl_save"):
        try:
            new = save_template(ws, template.id, versions[-1].version, text=text, name=name, description=description,
                                optional=optional)
        except (TemplateError, ValueError) as error:
            show_error(error)
        else:
            select_after(new.id, t("templates.saved", ref=new.ref))
    if right.button(t("templates.delete"), key="tpl_delete"):
        delete_template(ws, template.id)
        select_after(None, t("templates.deleted", id=template.id))
    st.caption(t("templates.versions"))
    st.dataframe(pd.DataFrame([{"ref": v.ref, "parent": v.parent, "from": v.derived_from or "",
                                "saved": pd.to_datetime(v.created_at, unit="s")} for v in versions]),
                 hide_index=True, width="stretch")


def create(template) -> None:
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    copy_name = left.text_input(t("templates.copy_name"), f"{template.title(lang())} (copy)",
                                key=f"tpl_copy_{template.ref}")
    if right.button(t("templates.duplicate"), key="tpl_duplicate"):
        new = duplicate_template(ws, template.ref, copy_name)
        select_after(new.id, t("templates.saved", ref=new.ref))
    st.subheader(t("templates.new"))
    name = st.text_input(t("templates.name"), key="tpl_new_name")
    left, right = st.columns(2)
    show_current_label("tpl_new_category")
    category = left.selectbox(t("templates.category"), CATEGORIES, index=CATEGORIES.index("instruction"),
                              format_func=lambda c: t(f"templates.cat.{c}"), key="tpl_new_category")
    language = right.selectbox(t("templates.language"), ("zh", "en"), index=0 if lang() == "zh" else 1,
                               format_func=LANGUAGES.get, key="tpl_new_language")
    text = st.text_area(t("templates.new_text", value="{{ name }}", optional="{% if name %}…{% endif %}"),
                        key="tpl_new_text", height=160)
    if st.button(t("templates.create"), type="primary", key="tpl_create"):
        if not text.strip():
            st.error(t("templates.no_text"))
            return
        try:
            new = create_template(ws, name, text, category=category, language=language)
        except TemplateError as error:
            show_error(error)
        else:
            select_after(new.id, t("templates.saved", ref=new.ref))


left, middle, right = st.columns([2, 1, 2])
show_current_label("tpl_category", "tpl_lang")
category = left.selectbox(t("templates.category"), ["", *CATEGORIES], key="tpl_category",
                          format_func=lambda c: t(f"templates.cat.{c}") if c else t("templates.all"))
language = middle.selectbox(t("templates.language"), ["", "zh", "en"], key="tpl_lang",
                            format_func=lambda code: LANGUAGES.get(code) or t("templates.all"))
query = right.text_input(t("templates.search"), key="tpl_search")
templates = {x.id: x for x in list_templates(ws, category or None, language or None, query)}
if not templates:
    st.info(t("templates.none"))
    st.stop()
if st.session_state.get("tpl_pick") not in templates:  # first pick: a template in the user's language
    st.session_state["tpl_pick"] = next((x.id for x in templates.values() if x.language == lang()), next(iter(templates)))
label = {x.id: f"{'🧩' if x.source == 'user' else '📝'} {x.title(lang())} · {t(f'templates.cat.{x.category}')} · "
               f"{x.language} · {x.id}" for x in templates.values()}
left, right = st.columns([4, 1])
show_current_label("tpl_pick")
chosen = left.selectbox(t("templates.pick", n=len(templates)), list(templates), format_func=label.get, key="tpl_pick")
template = templates[chosen]
if template.source == "user":
    numbers = [v.version for v in reversed(template_versions(ws, template.id))]
    number = right.selectbox(t("templates.version"), numbers, key=f"tpl_tver_{template.id}")
    template = get_template(ws, f"{template.id}@{number}")
show_template(template)
try_tab, edit_tab, new_tab = st.tabs([t("templates.tab.try"), t("templates.tab.edit"), t("templates.tab.new")])
with try_tab:
    try_on_rows(template)
with edit_tab:
    edit(template)
with new_tab:
    create(template)
