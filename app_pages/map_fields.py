"""Map fields: source columns → instruction/input/output/system/history, with a live preview."""
import streamlit as st

from ui.common import model_name, pick_version, rows_frame, saved, show_current_label, show_problems, t, workspace
from workbench.data.mapping import FieldMapping, apply_mapping, mapping_problems, preview_prompt, suggest_mapping
from workbench.data.operations import map_fields
from workbench.models import chat_template, list_models
from workbench.workspace import StaleVersionError

TARGETS = ("instruction", "input", "output", "system", "history")
ws = workspace()
st.title(t("map.title"))
version = pick_version("map")
if version is None:
    st.stop()
columns = [c for c in version.columns if not c.startswith("_")]

saved_mappings = ws.mappings()
chosen = st.selectbox(t("map.saved"), [None] + list(saved_mappings), key="map_saved", format_func=lambda n: n or "–")
start = FieldMapping(**saved_mappings[chosen]) if chosen else suggest_mapping(columns)

values, constants = {}, {}
for target, col in zip(TARGETS, st.columns(len(TARGETS))):
    options = [None] + columns
    current = getattr(start, target)
    show_current_label(f"map_{target}_{chosen}")
    values[target] = col.selectbox(target, options, index=options.index(current) if current in options else 0,
                                   format_func=lambda c: c or t("map.none"), key=f"map_{target}_{chosen}")
    if values[target] is None and target != "history":  # history is a list of pairs, not a fixed text
        constant = col.text_input(t("map.constant", field=target), value=start.constants.get(target, ""),
                                  key=f"map_const_{target}_{chosen}")
        if constant:
            constants[target] = constant
keep = st.checkbox(t("map.keep"), value=start.keep_other_columns, key=f"map_keep_{chosen}")
mapping = FieldMapping(**values, constants=constants, keep_other_columns=keep)

problems = mapping_problems(columns, mapping)
if problems:
    show_problems(problems, height=120)
sample = ws.read(version).slice(0, 5)
mapped = apply_mapping(sample, mapping)
st.subheader(t("map.preview"))
st.dataframe(rows_frame(mapped), hide_index=True, width="stretch")

st.subheader(t("map.prompt"))
models, name_of = [m for m in list_models(ws) if m.available], model_name(ws)
model_id = st.selectbox(t("map.template"), [None] + [m.id for m in models], key="map_model",
                        format_func=lambda m: name_of(m) if m else "ChatML")
if mapped.num_rows:
    row = {k: v for k, v in mapped.to_pylist()[0].items() if not k.startswith("_")}
    st.code(preview_prompt(row, chat_template(ws, model_id) if model_id else None), language=None)

left, right = st.columns(2, vertical_alignment="bottom")
save_as = left.text_input(t("map.save_as"), key="map_save_as")
if right.button(t("map.apply"), type="primary", key="map_apply",
                disabled=any(p.severity == "error" for p in problems)):
    try:
        new = map_fields(ws, version, mapping, save_as=save_as or None)
    except StaleVersionError:
        st.error(t("common.stale"))
    else:
        saved(new, "map", ("app_pages/split.py", "✂️ " + t("nav.split")))
