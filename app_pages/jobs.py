"""Jobs: every background job with its state, progress, log; cancel or resume."""
import streamlit as st

from ui.common import job_card, job_title, jobs_table, show_current_label, t, workspace
from workbench import jobs

ws = workspace()
st.title(t("jobs.title"))


@st.fragment(run_every=2)
def job_list() -> None:
    all_jobs = jobs.list_jobs(ws)
    if not all_jobs:
        st.info(t("jobs.none"))
        return
    jobs_table(all_jobs, ("id", "kind", "title", "state", "progress", "attempts", "message", "took"))
    titles = {j.id: f"{job_title(j)} · {j.id}" for j in all_jobs}
    show_current_label("jobs_selected")
    chosen = st.selectbox(t("jobs.pick"), list(titles), format_func=titles.get, key="jobs_selected")
    job_card(jobs.get(ws, chosen), where="page")


job_list()
