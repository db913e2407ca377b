"""Datasets: browse rows page by page (server-side), search, filter, edit, delete, validate, stats."""
import streamlit as st

from ui.common import (histogram_chart, length_table, model_name, pick_version, rows_frame, saved, show_current_label,
                       show_problems, t, workspace)
from workbench import jobs
from workbench.data import operations
from workbench.data.browse import RowFilter, head, page, row_by_id
from workbench.data.stats import histogram, length_stats, summary_rows
from workbench.models import list_models, load_tokenizer
from workbench.workspace import StaleVersionError

PAGE_SIZE = 50
SAMPLE_ROWS = 20_000  # quick statistics on the page; the full pass runs as a background job
ws = workspace()
st.title(t("ds.title"))
version = pick_version("ds")
if version is None:
    st.stop()
user_columns = [c for c in version.columns if not c.startswith("_")]


@st.cache_data(max_entries=8, show_spinner=False)
def sample_stats(path: str, columns: tuple, tokenizer_id: str | None) -> tuple[dict, int]:
    """Length statistics of the first rows (version files never change, so the result keeps)."""
    sample = head(path, SAMPLE_ROWS, list(columns))
    tokenizer = load_tokenizer(ws, tokenizer_id) if tokenizer_id else None
    return length_stats(sample, list(columns), tokenizer=tokenizer, sample=2_000), sample.num_rows


def committed(action, *args) -> None:
    """Run a save, tell the user which version it made (or that theirs was stale)."""
    try:
        new = action(ws, version, *args)
    except StaleVersionError:
        st.error(t("common.stale"))
        return
    saved(new, "ds")


SECTIONS = {"rows": "ds.rows", "problems": "common.problems", "stats": "ds.stats"}
# One section at a time: only what is on screen is computed (a 1M-row version stays quick to open).
show_current_label("ds_section")
section = st.radio(t("ds.section"), list(SECTIONS), format_func=lambda k: t(SECTIONS[k]), horizontal=True,
                   key="ds_section", label_visibility="collapsed")
if section == "rows":
    cols = st.columns([3, 2, 1, 1, 1, 1])
    search = cols[0].text_input(t("ds.search"), key="ds_search")
    show_current_label("ds_field")
    field = cols[1].selectbox(t("ds.field"), [None] + user_columns, key="ds_field",
                              format_func=lambda f: f or t("ds.all_fields"))
    split = cols[2].selectbox(t("ds.split"), [None] + list(version.splits), key="ds_split",
                              format_func=lambda s: s or "–")
    min_len = cols[3].number_input(t("ds.min_len"), min_value=0, value=0, key="ds_min")
    max_len = cols[4].number_input(t("ds.max_len"), min_value=0, value=0, key="ds_max", help=t("ds.zero_none"))
    filters = RowFilter(search=search, fields=[field] if field else [], split=split,
                        length_field=field or (user_columns[0] if user_columns else None),
                        min_length=min_len or None, max_length=max_len or None)
    active = filters if (search or split or min_len or max_len) else None
    total_pages = max(1, -(-version.rows // PAGE_SIZE))
    page_number = cols[5].number_input(t("ds.page"), min_value=1, value=1, key="ds_page")
    rows, matching = page(version.path, (page_number - 1) * PAGE_SIZE, PAGE_SIZE, active)
    st.caption(t("ds.matching", n=f"{matching:,}") + f" · {page_number} / {max(1, -(-matching // PAGE_SIZE))}")
    st.dataframe(rows_frame(rows), hide_index=True, width="stretch", height=420)

    with st.expander(t("ds.edit")):
        row_id = st.number_input(t("ds.row_id"), min_value=0, step=1, key="ds_edit_id")
        row = row_by_id(version.path, int(row_id))
        if row is not None:
            values = {c: st.text_area(c, value=row.get(c) or "", key=f"ds_edit_{row_id}_{c}") for c in user_columns}
            if st.button(t("common.save"), key="ds_edit_save"):
                changed = {c: v for c, v in values.items() if v != (row.get(c) or "")}
                committed(operations.edit_rows, {int(row_id): changed})
    with st.expander(t("ds.delete")):
        ids = st.text_input(t("ds.delete_ids"), placeholder="3, 17, 42", key="ds_delete_ids")
        if st.button(t("ds.delete"), key="ds_delete") and ids.strip():
            committed(operations.delete_rows, [int(x) for x in ids.replace("，", ",").split(",") if x.strip()])
elif section == "problems":
    if st.button(t("ds.validate"), key="ds_validate"):
        report = operations.validate_version(ws, version)
        st.session_state["ds_report"] = (version.ref, report)
    if st.session_state.get("ds_report", (None,))[0] == version.ref:
        report = st.session_state["ds_report"][1]
        st.json(report.summary(), expanded=False)
        show_problems(report.problems, row_ids=True)
        if len(report.error_rows) and st.button(t("ds.drop_bad"), key="ds_drop_bad"):
            committed(operations.drop_invalid_rows)
elif section == "stats":
    models, name_of = [m for m in list_models(ws) if m.available], model_name(ws)
    show_current_label("ds_tokenizer", "ds_unit")
    tokenizer_id = st.selectbox(t("ds.tokenizer"), [None] + [m.id for m in models], key="ds_tokenizer",
                                format_func=lambda m: name_of(m) if m else t("ds.chars_only"))
    stats, sampled = sample_stats(version.path, tuple(user_columns), tokenizer_id)
    st.caption(t("ds.sampled", n=f"{sampled:,}", total=f"{version.rows:,}"))
    length_table(summary_rows(stats))
    left, right = st.columns(2)
    chosen = left.selectbox(t("ds.field"), user_columns, key="ds_hist_field")
    units = ["chars"] + (["tokens"] if "_token_lengths" in stats["fields"][chosen] else [])
    unit = right.radio(t("ds.unit"), units, format_func=lambda u: t(f"ds.{u}"), horizontal=True, key="ds_unit")
    bins = histogram(stats["fields"][chosen]["_lengths" if unit == "chars" else "_token_lengths"])
    st.altair_chart(histogram_chart(bins, t(f"ds.{unit}"), t("common.rows")), width="stretch")
    full = operations.full_stats(ws, version)
    if full:
        st.subheader(t("ds.full_result", rows=f"{full['rows']:,}", tokenizer=full.get("tokenizer") or "–"))
        length_table(summary_rows(full["stats"]))
    if st.button(t("ds.full_stats"), key="ds_full_stats"):
        job_id = jobs.start(ws, "stats", {"ref": version.ref, "tokenizer": tokenizer_id}, version.ref)
        st.success(t("ds.job_started", id=job_id))
