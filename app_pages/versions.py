"""Versions: the history of a dataset, a diff between two versions, restore an older one."""
from functools import partial

import pandas as pd
import streamlit as st

from ui.common import column_labels, named, no_datasets_yet, rows_frame, t, workspace
from workbench.data.diff import diff_tables
from workbench.data.operations import readable_params
from workbench.workspace import StaleVersionError

ws = workspace()
st.title(t("ds.versions"))
datasets = ws.datasets()
if not datasets:
    no_datasets_yet()
    st.stop()
ids = [d.id for d in datasets]
current = st.session_state.get("current_dataset")
dataset_id = st.selectbox(t("common.dataset"), ids, index=ids.index(current) if current in ids else 0,
                          format_func=lambda i: f"{ws.dataset(i).name} ({i})", key="ver_dataset")
versions = ws.versions(dataset_id)
head = versions[-1].number
table = pd.DataFrame([{
    "version": v.number, "operation": named("op", v.op), "parent": v.parent, "rows": v.rows,
    "splits": "\n".join(f"{t(f'split.part.{name}')}: {rows:,}" for name, rows in (v.splits or {}).items()),
    "parameters": readable_params(v.params), "created": pd.Timestamp(v.created_at, unit="s").floor("s")}
    for v in reversed(versions)])
tallest = max((text.count("\n") + 1 for text in table["parameters"]), default=1)
# Parameters are "key: value" lines: rows tall enough to wrap a few of them (the cell opens in full on a click).
st.dataframe(table, hide_index=True, width="stretch", row_height=max(78, min(tallest, 4) * 21 + 14) if tallest > 1 else None,
             column_config=column_labels("ds.col", ("version", "operation", "parent", "rows", "splits",
                                                    "parameters", "created"),
                                         {"parameters": partial(st.column_config.TextColumn, width="large")}))

st.subheader(t("ds.diff"))
numbers = [v.number for v in versions]
left, right = st.columns(2)
old = left.selectbox("A", numbers, index=max(0, len(numbers) - 2), key="ver_a")
new = right.selectbox("B", numbers, index=len(numbers) - 1, key="ver_b")
if old != new:
    result = diff_tables(ws.read(ws.version(dataset_id, old)), ws.read(ws.version(dataset_id, new)), limit=200)
    cols = st.columns(4)
    for col, key in zip(cols, ("added", "removed", "changed", "unchanged")):
        col.metric(t(f"ds.diff.{key}"), f"{result.counts[key]:,}")
    if result.columns_added or result.columns_removed:
        st.caption(t("ds.diff.columns", added=", ".join(result.columns_added) or "–",
                     removed=", ".join(result.columns_removed) or "–"))
    for key, table in (("added", result.added), ("removed", result.removed), ("changed", result.changed)):
        if table.num_rows:
            st.markdown(f"**{t(f'ds.diff.{key}')}**")
            st.dataframe(rows_frame(table), hide_index=True, width="stretch")

restorable = [n for n in numbers if n != head]
if restorable:
    number = st.selectbox(t("common.version"), restorable, index=len(restorable) - 1, key="ver_restore")
    if st.button(t("ds.restore", n=number), key="ver_restore_button"):
        try:
            restored = ws.restore(dataset_id, number, parent=head)
            st.success(t("common.saved_version", ref=restored.ref))
        except StaleVersionError:
            st.error(t("common.stale"))
