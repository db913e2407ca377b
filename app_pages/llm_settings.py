"""LLM endpoints: OpenAI-compatible servers and local models; test a connection; keys never shown."""
import pandas as pd
import streamlit as st

from ui.common import flash, model_name, show_flash, t, workspace
from workbench.llm import (Endpoint, LLMError, delete_endpoint, has_api_key, list_endpoints, save_api_key,
                           save_endpoint, test_connection)

ws = workspace()
st.title(t("llm.title"))
st.caption(t("llm.caption"))
show_flash()

endpoints = list_endpoints(ws)
st.dataframe(pd.DataFrame([{
    t("llm.name"): e.name, t("llm.kind"): e.kind, t("llm.url"): e.base_url or "—", t("llm.model"): e.model,
    t("llm.concurrency"): e.max_concurrency, t("llm.key"): (t("llm.key_set") if has_api_key(e) else "—")
    if e.kind == "openai" else "", } for e in endpoints]), hide_index=True, width="stretch")

left, right = st.columns([3, 1], vertical_alignment="bottom")
chosen = left.selectbox(t("llm.test_which"), [e.name for e in endpoints], key="llm_test_name",
                        format_func=model_name(ws))
if right.button(t("llm.test"), key="llm_test", disabled=not endpoints):
    with st.spinner(t("llm.testing")):
        try:
            reply = test_connection(ws, chosen)
        except LLMError as error:
            st.error(str(error))
        except KeyError as error:
            st.error(str(error))
        else:
            st.success(t("llm.test_ok", model=reply.model, seconds=f"{reply.seconds:.1f}"))
            st.code(reply.text, language=None)

st.subheader(t("llm.add"))
with st.form("llm_add", clear_on_submit=True):
    cols = st.columns(3)
    name = cols[0].text_input(t("llm.name"), placeholder="deepseek", key="llm_new_name")
    base_url = cols[1].text_input(t("llm.url"), placeholder="https://api.example.com/v1", key="llm_new_url")
    model = cols[2].text_input(t("llm.model"), placeholder="deepseek-chat", key="llm_new_model")
    cols = st.columns(4)
    concurrency = cols[0].number_input(t("llm.concurrency"), 1, 64, 4)
    timeout_s = cols[1].number_input(t("llm.timeout"), 1, 3600, 60)
    retries = cols[2].number_input(t("llm.retries"), 0, 10, 3)
    key_env = cols[3].text_input(t("llm.key_env"), placeholder="DEEPSEEK_API_KEY", key="llm_new_key_env")
    key = st.text_input(t("llm.key_value"), type="password", help=t("llm.key_help"), key="llm_new_key")
    if st.form_submit_button(t("llm.save"), type="primary", key="llm_save"):
        try:
            endpoint = Endpoint(name.strip(), "openai", base_url.strip(), model.strip(), key_env.strip(),
                                int(concurrency), float(timeout_s), int(retries))
        except ValueError as error:
            st.error(str(error))
        else:
            save_endpoint(ws, endpoint)
            if key:
                save_api_key(endpoint.name, key)
            flash(t("llm.saved", name=endpoint.name))
            st.rerun()  # the table above lists the new endpoint

saved = [e.name for e in endpoints if e.kind == "openai"]
if saved:
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    doomed = left.selectbox(t("llm.remove_which"), saved, key="llm_remove_name")
    if right.button(t("llm.remove"), key="llm_remove"):
        delete_endpoint(ws, doomed)
        st.rerun()
