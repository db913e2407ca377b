"""Augment: pick a strategy and an endpoint, run as a job, watch results arrive, get a new version."""
import pandas as pd
import streamlit as st

from ui.common import column_labels, job_card, lang, model_name, pick_version, show_current_label, t, workspace
from workbench import jobs
from workbench.augment import STRATEGIES, AugmentConfig, start_augment
from workbench.augment.jobs import job_subject, live_sample, newest_job_dataset, outcome, page_jobs, stale_advice
from workbench.i18n import LANGUAGES, in_language
from workbench.llm import list_endpoints
from workbench.workspace import StaleVersionError

ws = workspace()
st.title(t("augment.title"))
st.caption(t("augment.caption"))


if not st.session_state.get("current_dataset"):  # a reload or a new session: back where the last job works
    st.session_state["current_dataset"] = newest_job_dataset(ws)
version = pick_version("augment")
if version is None:
    st.stop()

cols = st.columns(3)
show_current_label("augment_strategy", "augment_language")
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
max_rows = cols[2].number_input(t("augment.max_rows"), 0, version.rows, min(version.rows, 50),
                           key=f"augment_max_rows_{version.dataset_id}")  # its own per dataset: a 1-row one's 1 stays there
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
        try:
            st.session_state["augment_job"] = start_augment(ws, version.ref, config)
        except StaleVersionError as error:  # an older version picked: its new rows could never be saved
            st.error(stale_advice(error.dataset_id, error.parent, error.head, lang()))


def show_job(info) -> None:
    """The job's card, its latest answers and, once it has finished, what it saved, kept and dropped (and why)."""
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
    elif info.state == "failed" and info.error:
        st.error(in_language(info.error, lang()))


def follow(job_id: str) -> None:
    """Polled every 2 s while the job is active; when it ends, one full rerun with its new version selected."""
    was_active = jobs.get(ws, job_id).state in jobs.ACTIVE

    def live() -> None:
        info = jobs.get(ws, job_id)
        if was_active and info.state not in jobs.ACTIVE:
            if (info.result or {}).get("ref"):  # the next augment starts from the rows this one added
                new = ws.resolve(info.result["ref"])
                st.session_state["augment_select_version"] = (new.dataset_id, new.number)
            st.rerun()
        show_job(info)

    st.fragment(live, run_every=2 if was_active else None)()


# The newest job on this dataset, the running one first; jobs running on other datasets are named.
shown, elsewhere = page_jobs(ws, version.dataset_id)
if elsewhere:
    st.info(t("augment.running_elsewhere", jobs=t("common.list_sep").join(job_subject(info, lang()) for info in elsewhere)))
if shown is not None:
    st.subheader(t("augment.latest_job"))
    follow(shown.id)
