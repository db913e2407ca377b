"""Workbench entry point: navigation, sidebar (workspace, language, running jobs)."""
import os

import streamlit as st

from ui.common import job_card, lang, t, workspace
from workbench import jobs
from workbench.i18n import LANGUAGES

st.set_page_config(page_title="Workbench", page_icon="🛠️", layout="wide")

with st.sidebar:
    st.selectbox(t("side.language"), list(LANGUAGES), format_func=LANGUAGES.get, key="lang",
                 index=list(LANGUAGES).index(lang()))
    st.text_input(t("side.workspace"), key="workspace_root",
                  value=st.session_state.get("workspace_root") or os.environ.get("WORKBENCH_WORKSPACE", "workspace"))


@st.fragment(run_every=2)
def running_jobs() -> None:
    st.subheader(t("side.jobs"))
    active = jobs.list_jobs(workspace(), jobs.ACTIVE)
    if not active:
        st.caption(t("side.no_jobs"))
    for info in active:
        job_card(info)


with st.sidebar:
    running_jobs()

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
    t("nav.group.system"): [
        st.Page("app_pages/models.py", title=t("nav.models"), icon="🧠", url_path="models"),
        st.Page("app_pages/llm_settings.py", title=t("nav.llm"), icon="🔌", url_path="llm"),
        st.Page("app_pages/jobs.py", title=t("nav.jobs"), icon="⚙️", url_path="jobs"),
    ],
}
st.navigation(pages).run()
