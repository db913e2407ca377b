"""Import: upload or path → read + check (in the background for big files) → fix/drop → save."""
import streamlit as st

from ui.common import job_card, rows_frame, show_current_label, show_problems, t, workspace
from workbench import jobs
from workbench.data import importer
from workbench.data.read import ReadOptions, list_sheets
from workbench.problems import Problem, ReadError

ws = workspace()
st.title(t("import.title"))

FORMATS = [None, "json", "jsonl", "csv", "xlsx", "parquet", "hf"]
ENCODINGS = [None, "utf-8", "utf-8-sig", "gb18030", "gbk", "big5", "utf-16"]

uploaded = st.file_uploader(t("import.upload"), type=["json", "jsonl", "csv", "xlsx", "parquet"], key="upload")
path_text = st.text_input(t("import.path"), key="import_path")
cols = st.columns(3)
show_current_label("fmt", "enc")
fmt = cols[0].selectbox(t("import.format"), FORMATS, format_func=lambda f: f or t("import.auto"), key="fmt")
encoding = cols[1].selectbox(t("import.encoding"), ENCODINGS, format_func=lambda e: e or t("import.auto"), key="enc")

source = None
if uploaded is not None:
    key = (uploaded.name, uploaded.size)
    if st.session_state.get("upload_key") != key:  # stream the upload to disk once
        st.session_state["upload_key"] = key
        st.session_state["upload_path"] = str(importer.save_upload(ws, uploaded.name, uploaded))
    source = (st.session_state["upload_path"], uploaded.name)
elif path_text.strip():
    source = (path_text.strip(), path_text.strip().rstrip("/").split("/")[-1])

sheet = None
if source and (fmt == "xlsx" or source[1].lower().endswith(".xlsx")):
    try:
        sheets = list_sheets(source[0])
        sheet = cols[2].selectbox(t("import.sheet"), sheets, key="sheet")
    except ReadError as error:
        show_problems(error.problems)

if st.button(t("import.check"), type="primary", key="check", disabled=source is None):
    options = ReadOptions(format=fmt, encoding=encoding, sheet=sheet)
    st.session_state.pop("staged", None)
    if importer.should_run_in_background(source[0]):
        params = {"path": source[0], "display_name": source[1], "options": options.__dict__}
        st.session_state["import_job"] = jobs.start(ws, "import_check", params, source[1])
    else:
        try:
            st.session_state["staged"] = importer.stage_file(ws, source[0], options, source[1]).id
        except ReadError as error:
            st.error(t("import.cannot_read"))
            show_problems(error.problems)


@st.fragment(run_every=1)
def background_read() -> None:
    info = jobs.get(ws, st.session_state["import_job"])
    job_card(info, show_log=False, where="import")
    if info.state == "succeeded":
        del st.session_state["import_job"]
        if info.result.get("ok"):
            st.session_state["staged"] = info.result["staging_id"]
        else:
            st.session_state["import_failed"] = info.result["problems"]
        st.rerun()


if st.session_state.get("import_job"):
    background_read()
if st.session_state.get("import_failed"):
    st.error(t("import.cannot_read"))
    show_problems([Problem.from_dict(p) for p in st.session_state.pop("import_failed")])

if st.session_state.get("staged"):
    staged = importer.load_staged(ws, st.session_state["staged"])
    summary = "import.summary_skipped" if staged.lines_skipped else "import.summary"
    st.info(t(summary, rows=f"{staged.rows:,}", format=staged.info.get("format"), encoding=staged.info.get("encoding"),
              skipped=f"{staged.lines_skipped:,}", bad=f"{len(staged.error_rows):,}"))
    if staged.lines_skipped:
        st.warning(t("import.skipped", count=f"{staged.lines_skipped:,}"))
    show_problems(staged.problems)
    fixes = {}
    if staged.error_rows:
        st.subheader(t("import.fix"))
        bad = importer.numbered_rows(rows_frame(importer.staged_rows(staged, staged.error_rows)))
        # Rows and lines as the problems table counts them (from 1); the _id the fixes are keyed by stays hidden.
        where = {"_id": None, "_row": st.column_config.NumberColumn(t("import.col.row"), width="small"),
                 "_line": st.column_config.NumberColumn(t("import.col.line"), width="small")}
        edited = st.data_editor(bad, disabled=list(where), hide_index=True, key="fix_editor", width="stretch",
                                column_config=where)
        fixes = importer.cell_changes(bad, edited)
    st.subheader(t("common.save"))
    drop = st.checkbox(t("import.drop"), key="drop_bad", value=bool(staged.error_rows))
    name = st.text_input(t("import.name"), value=staged.source.rsplit(".", 1)[0], key="dataset_name")
    left, right = st.columns([1, 4])
    if left.button(t("import.save"), type="primary", key="save"):
        version = importer.commit_staged(ws, staged.id, name, drop_error_rows=drop, fixes=fixes)
        st.session_state.pop("staged")
        st.session_state["current_dataset"] = version.dataset_id
        st.success(t("import.saved", ref=version.ref, rows=f"{version.rows:,}"))
        st.page_link("app_pages/map_fields.py", label=t("nav.map"), icon="🔀")
    if right.button(t("import.discard"), key="discard"):
        importer.discard_staged(ws, st.session_state.pop("staged"))
        st.rerun()
