"""Runs: every training run; compare several (settings that differ, overlaid curves, final metrics); details."""
import streamlit as st

from ui.common import job_card, show_current_label, t, workspace
from ui.train import loss_chart, runs_frame, runs_table, yaml_expander
from workbench import jobs
from workbench.train import views
from workbench.train.runs import list_runs

ws = workspace()
st.title(t("runs.title"))
st.caption(t("runs.caption"))


def run_label(run) -> str:
    return f"{run.name} · {t(f'job.state.{run.state}')}"


def runs_view() -> None:
    runs = list_runs(ws)
    if not runs:
        st.info(t("runs.none"))
        st.page_link("app_pages/train.py", label=t("train.nav"), icon="🏋️")
        return
    by_id = {run.id: run for run in runs}
    runs_table(runs)
    show_current_label("runs_compare")
    chosen = st.multiselect(t("runs.compare"), list(by_id), default=list(by_id)[:2], key="runs_compare",
                            format_func=lambda i: run_label(by_id[i]))
    selected = [by_id[i] for i in chosen if i in by_id]
    if selected:
        left, right = st.columns([3, 2])
        with left:
            st.subheader(t("runs.curves"))
            curves = views.runs_curves(selected)
            if curves.empty:
                st.caption(t("train.waiting"))
            else:
                st.altair_chart(loss_chart(curves, by_run=True), width="stretch")
        with right:
            st.subheader(t("runs.final"))
            runs_frame(views.final_metrics(selected))
            st.subheader(t("runs.diff"))
            if len(selected) < 2:
                st.caption(t("runs.pick_two"))
            else:
                diff = views.diff_frame(selected)
                if diff.empty:
                    st.caption(t("runs.same_config"))
                else:
                    st.dataframe(diff, hide_index=True, width="stretch")

    st.subheader(t("runs.details"))
    show_current_label("runs_detail")
    run = by_id[st.selectbox(t("runs.details"), list(by_id), key="runs_detail", label_visibility="collapsed",
                             format_func=lambda i: run_label(by_id[i]))]
    outputs = views.run_outputs(run)
    cols = st.columns(3)
    cols[0].caption(t("runs.folder"))
    cols[0].code(outputs["folder"], language=None)
    cols[1].caption(t("runs.weights"))
    cols[1].code(outputs["weights"] or t("runs.no_weights"), language=None)
    cols[2].caption(t("runs.model_id"))
    cols[2].code(outputs["model_id"], language=None)
    if run.job_id:
        info = jobs.get(ws, run.job_id)
        if info.state in jobs.ACTIVE or info.resumable:
            job_card(info, where="runs")
    yaml_expander(run.config, f"runs_yaml_{run.id}")


active = any(run.state in jobs.ACTIVE for run in list_runs(ws))
st.fragment(runs_view, run_every=2 if active else None)()
