"""Export: a version or one split as Alpaca/ShareGPT JSON, JSONL, CSV, HF datasets or LLaMA-Factory."""
import streamlit as st

from ui.common import lang, pick_version, show_current_label, t, workspace
from workbench.data.export import EXPORT_FORMATS, download_payload, left_out_fields
from workbench.data.operations import export_version
from workbench.i18n import in_language

ws = workspace()
st.title(t("export.title"))
version = pick_version("export")
if version is None:
    st.stop()
left, right = st.columns(2)
show_current_label("export_format", "export_split")
fmt = left.selectbox(t("export.format"), EXPORT_FORMATS, format_func=lambda f: t(f"export.fmt.{f}"), key="export_format")
split = right.selectbox(t("export.split"), [None] + list(version.splits), key="export_split",
                        format_func=lambda s: t(f"split.part.{s}") if s else t("export.all"))
left_out = left_out_fields(version.columns, fmt)
if left_out:  # before the click: the user can pick CSV or map the fields instead
    st.warning(t("export.left_out", format=t(f"export.fmt.{fmt}"), fields=t("cli.format_separator").join(left_out)))
if st.button(t("export.prepare"), type="primary", key="export_prepare"):
    try:
        st.session_state["export_ready"] = str(export_version(ws, version, fmt, split=split))
    except ValueError as error:  # columns that are neither Alpaca nor chat: the message says to map them
        st.session_state.pop("export_ready", None)
        st.error(in_language(str(error), lang()))
if st.session_state.get("export_ready"):
    name, data, mime = download_payload(st.session_state["export_ready"])
    st.caption(st.session_state["export_ready"])
    st.download_button(t("export.download", name=name), data=data, file_name=name, mime=mime, key="export_download")
