"""Models: bundled weight packages, local folders, finished runs; convert GGUF once in the background."""
import pandas as pd
import streamlit as st

from ui.common import model_name, t, workspace
from workbench import jobs
from workbench.models import ModelError, list_models, needs_conversion, register_local, unregister_local

ws = workspace()
st.title(t("models.title"))
st.caption(t("models.caption"))

models = list_models(ws)
pending = {m.id: m.available and needs_conversion(ws, m) for m in models}
st.dataframe(pd.DataFrame([{
    "id": m.id, t("models.name"): m.label, t("models.kind"): t(f"models.kind.{m.kind}"),
    t("models.languages"): m.languages, t("models.license"): m.license,
    t("models.ready"): ("✅" if not pending[m.id] else t("models.to_convert")) if m.available else "—",
    t("models.notes"): m.notes} for m in models]), hide_index=True, width="stretch")

convertible = [m.id for m in models if pending[m.id]]
if convertible:
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.selectbox(t("models.convert_which"), convertible, key="models_convert", format_func=model_name(ws))
    running = [j for j in jobs.list_jobs(ws, jobs.ACTIVE) if j.kind == "convert_model"
               and j.params.get("model") == chosen]
    if right.button(t("models.convert"), type="primary", key="models_convert_start", disabled=bool(running)):
        job_id = jobs.start(ws, "convert_model", {"model": chosen}, chosen)
        st.success(t("ds.job_started", id=job_id))

st.subheader(t("models.add"))
left, right = st.columns([3, 1], vertical_alignment="bottom")
path = left.text_input(t("models.path"), key="models_path", placeholder="/data/models/Qwen2.5-0.5B-Instruct")
label = right.text_input(t("models.label"), key="models_label")
if st.button(t("models.register"), key="models_register", disabled=not path.strip()):
    try:
        spec = register_local(ws, path.strip(), label.strip() or None)
    except ModelError as error:
        st.error(str(error))
    else:
        st.success(t("models.registered", id=spec.id))
local = [m.id for m in models if m.kind == "local"]
if local:
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.selectbox(t("models.remove_which"), local, key="models_remove", format_func=model_name(ws))
    if right.button(t("models.remove"), key="models_remove_go"):
        unregister_local(ws, chosen)
        st.rerun()
with st.expander(t("models.qwen")):
    st.markdown(t("models.qwen_help"))
    st.code("make install-qwen", language="bash")
