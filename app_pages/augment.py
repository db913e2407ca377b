"""Augment: pick a strategy and an endpoint, run as a job, watch results arrive, get a new version."""
import pandas as pd
import streamlit as st

from ui.common import column_labels, job_card, lang, model_name, pick_version, t, workspace
from workbench import jobs
from workbench.augment import STRATEGIES, AugmentConfig, start_augment
from workbench.augment.jobs import live_sample, outcome
from workbench.i18n import LANGUAGES
from workbench.llm import list_endpoints

ws = workspace()
st.title(t("augment.title"))
st.caption(t("augment.caption"))
version = pick_version("augment")
if version is None:
    st.stop()

cols = st.columns(3)
strategy = cols[0].selectbox(t("augment.strategy"), list(STRATEGIES), key="augment_strategy",
                             format_func=lambda s: t(f"augment.strategy.{s}"))
multiplier = cols[1].slider(t("augment.multiplier"), 1, 10, 2, key="augment_multiplier")
endpoint = cols[2].selectbox(t("augment.endpoint"), [e.name for e in list_endpoints(ws)], key="augment_endpoint",
                             format_func=model_name(ws))
cols = st.columns(4)
language = cols[0].selectbox(t("augment.language"), ["auto", "zh", "en"], key="augment_language",
                             format_func=lambda code: LANGUAGES.get(code) or t("augment.language.auto"))
split = cols[1].selectbox(t("augment.split"), [None] + list(version.splits), key="augment_split",
                          format_func=lambda s: s or "–")
max_rows = cols[2].number_input(t("augment.max_rows"), 0, version.rows, min(version.rows, 50), key="augment_max_rows")
style = domain = ""
if strategy == "style_transfer":
    style = cols[3].text_input(t("augment.style"), placeholder="甄嬛传里的宫廷腔调", key="augment_style")
elif strategy == "self_instruct":
    domain = cols[3].text_input(t("augment.domain"), key="augment_domain")
with st.expander(t("augment.controls"), expanded=False):
    same_language = st.checkbox(t("augment.same_language"), value=True, key="augment_same_language")
    near = st.slider(t("augment.near_duplicate"), 0.0, 1.0, 0.85, 0.05, key="augment_near")
    lengths = st.slider(t("augment.length"), 0, 8000, (2, 4000), key="augment_lengths")
    use_similarity = st.checkbox(t("augment.use_similarity"), value=False, key="augment_use_similarity")
    bounds = st.slider(t("augment.similarity"), -1.0, 1.0, (0.5, 0.98), 0.01, key="augment_bounds",
                       disabled=not use_similarity)

if st.button(t("augment.start"), type="primary", key="augment_start", disabled=not endpoint):
    try:
        config = AugmentConfig(strategy, endpoint, multiplier, language, style, domain, int(max_rows) or None, split,
                               lengths[0], lengths[1], same_language, near or None,
                               tuple(bounds) if use_similarity else None)
    except ValueError as error:
        st.error(str(error))
    else:
        st.session_state["augment_job"] = start_augment(ws, version.ref, config)


@st.fragment(run_every=2)
def progress() -> None:
    info = jobs.get(ws, st.session_state["augment_job"])
    job_card(info, where="augment")
    sample = live_sample(ws, info.id)
    if sample:
        st.caption(t("augment.sample"))
        st.dataframe(pd.DataFrame(sample), hide_index=True, width="stretch",
                     column_config=column_labels("augment.col", ("row", "ok", "text"),
                                                 {"ok": st.column_config.CheckboxColumn}))
    if info.state == "succeeded":
        said, hint = outcome(info.result, lang())
        (st.success if info.result.get("ref") else st.warning)(said)
        if hint:
            st.info(hint)


if st.session_state.get("augment_job"):
    progress()
