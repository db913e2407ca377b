"""Jobs: every background job with its state, progress, log; cancel or resume."""
import pandas as pd
import streamlit as st

from ui.common import job_card, t, workspace
from workbench import jobs
from workbench.i18n import duration

ws = workspace()
st.title(t("jobs.title"))


@st.fragment(run_every=2)
def job_list() -> None:
    all_jobs = jobs.list_jobs(ws)
    if not all_jobs:
        st.info(t("jobs.none"))
        return
    st.dataframe(pd.DataFrame([{
        "id": j.id, "kind": j.kind, "title": j.title, "state": j.state, "progress": j.fraction,
        "attempts": j.attempts, "message": j.message,
        "took": duration((j.finished_at or j.heartbeat or j.created_at) - (j.started_at or j.created_at))}
        for j in all_jobs]), hide_index=True, width="stretch",
        column_config={"progress": st.column_config.ProgressColumn(min_value=0, max_value=1)})
    chosen = st.selectbox("id", [j.id for j in all_jobs], key="jobs_selected")
    job_card(jobs.get(ws, chosen), where="page")


job_list()
