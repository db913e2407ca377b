"""Evaluate: score an inference (metrics, judge, pairwise) or run base vs tuned in one click; open a report."""
import streamlit as st

from ui.common import show_current_label, show_flash, t, workspace
from ui.evaluate import before_after, new_evaluation, new_evaluation_open
from ui.infer import follow_job
from ui.report import report_view
from workbench import jobs
from workbench.evaluate.store import list_reports

ws = workspace()
st.title(t("eval.title"))
st.caption(t("eval.caption"))
show_flash()
reports = list_reports(ws)
with st.expander("➕ " + t("eval.new_title"), expanded=new_evaluation_open(bool(reports)), key="eval_new_panel"):
    new_evaluation()
with st.expander("⚖️ " + t("eval.before_after_title"), expanded=not reports, key="eval_before_after_panel"):
    st.caption(t("eval.before_after_caption"))
    before_after()
st.divider()
st.subheader(t("eval.reports"))
if not reports:
    st.info(t("eval.no_reports"))
    st.stop()
by_id = {report.id: report for report in reports}
if st.session_state.get("eval_report_pick") not in by_id:
    st.session_state["eval_report_pick"] = reports[0].id
show_current_label("eval_report_pick")
report = by_id[st.selectbox(t("eval.report"), list(by_id), key="eval_report_pick",
                            format_func=lambda r: f"{by_id[r].name} · {t(f'job.state.{by_id[r].state}')}")]
if report.state != "succeeded":
    follow_job(report.job_id, "eval")
    job = jobs.get(ws, report.job_id) if report.job_id else None
    if job is not None and job.state not in jobs.ACTIVE:
        st.error(t("eval.not_finished", state=job.state, message=job.error or job.message or ""))
    st.stop()
report_view(report, {r.id: r for r in reports if r.id != report.id and r.state == "succeeded"})
