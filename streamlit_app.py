"""Workbench entry point: navigation, sidebar (workspace, language, running jobs)."""
import streamlit as st

from ui.common import job_card, model_name, show_current_label, sidebar_settings, t, workspace
from workbench import jobs
from workbench.models import list_models
from workbench.train import views
from workbench.train.config import PRESETS
from workbench.train.jobs import start_training

st.set_page_config(page_title="Workbench", page_icon="🛠️", layout="wide")

with st.sidebar:
    sidebar_settings()


@st.fragment(run_every=2)
def running_jobs() -> None:
    st.subheader(t("side.jobs"))
    active = jobs.list_jobs(workspace(), jobs.ACTIVE)
    if not active:
        st.caption(t("side.no_jobs"))
    for info in active:
        job_card(info)


def quick_launch() -> None:
    """Train in one click: dataset (newest version), model, preset; the run is followed on the Train page."""
    ws = workspace()
    datasets = {d.id: d for d in ws.datasets()}
    with st.expander("🚀 " + t("quick.title"), expanded=bool(st.session_state.get("quick_started"))):
        if not datasets:
            st.caption(t("quick.no_dataset"))
            return
        with st.form("quick_train", border=False):
            st.caption(t("quick.caption"))
            dataset = st.selectbox(t("common.dataset"), list(datasets), key="quick_dataset",
                                   format_func=lambda d: f"{datasets[d].name}@{datasets[d].head}")
            model = st.selectbox(t("train.knob.base_model"), [m.id for m in list_models(ws) if m.available],
                                 key="quick_model", format_func=model_name(ws))
            show_current_label("quick_preset")
            preset = st.selectbox(t("train.preset"), list(PRESETS), key="quick_preset",
                                  format_func=lambda p: t(f"train.preset.{p}"))
            submitted = st.form_submit_button(t("quick.start"), type="primary", disabled=not model, key="quick_start")
        if submitted:
            config = views.quick_config(ws, dataset, model, preset)
            problems = views.launch_problems(ws, config)
            if problems:
                st.error("\n\n".join(problems))
            else:
                run, job_id = start_training(ws, config)
                st.session_state["train_run"] = run.id
                st.session_state["quick_started"] = t("train.started", name=run.name, job=job_id)
        if st.session_state.get("quick_started"):
            st.success(st.session_state["quick_started"])
            st.page_link("app_pages/train.py", label=t("quick.open_train"), icon="🏋️")
            st.page_link("app_pages/runs.py", label=t("quick.open_runs"), icon="📈")


pages = {
    "": [st.Page("app_pages/home.py", title=t("nav.home"), icon="🏠", default=True)],
    t("nav.group.data"): [
        st.Page("app_pages/import_data.py", title=t("nav.import"), icon="📥", url_path="import"),
        st.Page("app_pages/datasets.py", title=t("nav.datasets"), icon="🗂️", url_path="datasets"),
        st.Page("app_pages/versions.py", title=t("ds.versions"), icon="🕘", url_path="versions"),
        st.Page("app_pages/map_fields.py", title=t("nav.map"), icon="🔀", url_path="map"),
        st.Page("app_pages/split.py", title=t("nav.split"), icon="✂️", url_path="split"),
        st.Page("app_pages/export.py", title=t("nav.export"), icon="📦", url_path="export"),
        st.Page("app_pages/extract.py", title=t("extract.nav"), icon="🔎", url_path="extract"),
        st.Page("app_pages/augment.py", title=t("augment.nav"), icon="✨", url_path="augment"),
        st.Page("app_pages/templates.py", title=t("templates.nav"), icon="📝", url_path="templates"),
        st.Page("app_pages/quality.py", title=t("quality.nav"), icon="🧹", url_path="quality"),
    ],
    t("nav.group.train"): [
        st.Page("app_pages/train.py", title=t("train.nav"), icon="🏋️", url_path="train"),
        st.Page("app_pages/runs.py", title=t("runs.nav"), icon="📈", url_path="runs"),
    ],
    t("nav.group.evaluate"): [
        st.Page("app_pages/inference.py", title=t("infer.nav"), icon="🧪", url_path="inference"),
        st.Page("app_pages/evaluate.py", title=t("eval.nav"), icon="📊", url_path="evaluate"),
        st.Page("app_pages/playground.py", title=t("play.nav"), icon="💬", url_path="playground"),
        st.Page("app_pages/serve.py", title=t("serve.nav"), icon="🚀", url_path="serve"),
    ],
    t("nav.group.system"): [
        st.Page("app_pages/models.py", title=t("nav.models"), icon="🧠", url_path="models"),
        st.Page("app_pages/llm_settings.py", title=t("nav.llm"), icon="🔌", url_path="llm"),
        st.Page("app_pages/jobs.py", title=t("nav.jobs"), icon="⚙️", url_path="jobs"),
    ],
}
page = st.navigation(pages, expanded=True)  # every step visible: the list is longer than the default ten
with st.sidebar:  # after st.navigation: the quick launch links to registered pages
    quick_launch()
    running_jobs()
page.run()
