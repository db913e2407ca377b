"""Home: the workspace at a glance and the first steps for a new user."""
import pandas as pd
import streamlit as st

from ui.common import column_labels, flash, jobs_table, show_flash, t, workspace
from ui.train import runs_table
from workbench import jobs
from workbench.samples import load_sample
from workbench.train.runs import list_runs

ws = workspace()
st.title(t("home.title"))
st.caption(t("home.caption"))
st.caption(f"📁 `{ws.root}`")

datasets = ws.datasets()
recent = jobs.list_jobs(ws, limit=10)
runs, reports = list_runs(ws), ws.reports()
cols = st.columns(5)
cols[0].metric(t("home.datasets"), len(datasets))
cols[1].metric(t("home.versions"), sum(d.versions for d in datasets))
cols[2].metric(t("home.jobs"), sum(1 for j in recent if j.state in jobs.ACTIVE))
cols[3].metric(t("home.runs"), len(runs))
cols[4].metric(t("home.reports"), len(reports))

with st.container(border=True):
    st.subheader(t("home.start"))
    st.markdown(t("home.steps"))
    if st.button(t("home.sample"), key="load_sample", type="primary"):
        version = load_sample(ws)
        st.session_state["current_dataset"] = version.dataset_id
        flash(t("home.sample_done", ref=version.ref), ("app_pages/map_fields.py", "🔀 " + t("nav.map")))
        st.rerun()  # the counts and the list above include the new dataset
    show_flash()
    st.page_link("app_pages/import_data.py", label=t("nav.import"), icon="📥")

st.subheader(t("home.datasets"))
if datasets:
    st.dataframe(pd.DataFrame([{"id": d.id, "name": d.name, "rows": d.rows, "version": d.head,
                                "versions": d.versions, "created": pd.Timestamp(d.created_at, unit="s").floor("s")}
                               for d in datasets]), hide_index=True, width="stretch",
                 column_config=column_labels("home.col", ("id", "name", "rows", "version", "versions", "created")))
else:
    st.info(t("home.no_datasets"))

left, right = st.columns(2)
with left:
    st.subheader(t("home.recent_jobs"))
    if recent:
        jobs_table(recent, ("kind", "title", "state", "progress"))
    else:
        st.caption(t("jobs.none"))
with right:
    st.subheader(t("home.runs"))
    if runs:
        runs_table(runs[:10])
    else:
        st.caption(t("home.no_runs"))
        st.page_link("app_pages/train.py", label=t("train.nav"), icon="🏋️")
