"""Export: a version or one split as Alpaca/ShareGPT JSON, JSONL, CSV, HF datasets or LLaMA-Factory."""
import streamlit as st

from ui.common import pick_version, t, workspace
from workbench.data.export import EXPORT_FORMATS, download_payload
from workbench.data.operations import export_version

LABELS = {"alpaca_json": "Alpaca JSON", "jsonl": "JSONL", "sharegpt_json": "ShareGPT JSON", "csv": "CSV",
          "hf_datasets": "Hugging Face datasets (zip)", "llamafactory": "LLaMA-Factory folder (zip)"}
ws = workspace()
st.title(t("export.title"))
version = pick_version("export")
if version is None:
    st.stop()
left, right = st.columns(2)
fmt = left.selectbox(t("export.format"), EXPORT_FORMATS, format_func=LABELS.get, key="export_format")
split = right.selectbox(t("export.split"), [None] + list(version.splits), key="export_split",
                        format_func=lambda s: s or t("export.all"))
if st.button(t("export.prepare"), type="primary", key="export_prepare"):
    path = export_version(ws, version, fmt, split=split)
    st.session_state["export_ready"] = str(path)
if st.session_state.get("export_ready"):
    name, data, mime = download_payload(st.session_state["export_ready"])
    st.caption(st.session_state["export_ready"])
    st.download_button(t("export.download", name=name), data=data, file_name=name, mime=mime, key="export_download")
