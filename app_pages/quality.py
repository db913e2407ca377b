"""Quality: duplicates, near-duplicates, leakage, empty/too-long rows, label balance, language mix; fixes."""
import os

import altair as alt
import pandas as pd
import streamlit as st

from ui.common import histogram_chart, job_card, lang, pick_version, rows_frame, saved, show_current_label, t, workspace
from workbench import jobs
from workbench.data.quality import FIXES
from workbench.data.quality_labels import label_problems
from workbench.data.quality_fixes import (QualityOptions, apply_fix, cached_report, group_rows, leakage_rows,
                                          report_for_version)
from workbench.models import list_models
from workbench.workspace import StaleVersionError

# Up to this many rows the check runs on the page (about 3 s per 100k rows here); bigger ones run as a job.
INLINE_ROWS = int(os.environ.get("WORKBENCH_QUALITY_INLINE_ROWS", 100_000))
SHOWN_GROUPS = 100
ws = workspace()
st.title(t("quality.title"))
st.caption(t("quality.caption"))
version = pick_version("quality")
if version is None:
    st.stop()
if "quality_fixed" in st.session_state:
    st.info(st.session_state.pop("quality_fixed"))
columns = [c for c in version.columns if not c.startswith("_")]
last = st.session_state.get("quality_options", {})  # the last options run, carried to the next version
tokenizers = [None] + [m.id for m in list_models(ws) if m.available]

with st.form(f"quality_form_{version.ref}"):
    fields = st.multiselect(t("quality.fields"), columns, key=f"quality_fields_{version.ref}",
                            default=[f for f in last.get("fields") or columns if f in columns] or columns)
    cols = st.columns(4)
    labels = [None] + columns
    label = cols[0].selectbox(t("quality.label"), labels, format_func=lambda c: c or "–", key=f"quality_label_{version.ref}",
                              index=labels.index(last.get("label_field")) if last.get("label_field") in labels else 0)
    max_tokens = cols[1].number_input(t("quality.max_tokens"), 0, 10_000_000, last.get("max_tokens") or 0, 64,
                                      help=t("quality.zero_off"), key=f"quality_max_{version.ref}")
    show_current_label(f"quality_tokenizer_{version.ref}")
    tokenizer = cols[2].selectbox(t("quality.tokenizer"), tokenizers, format_func=lambda m: m or t("quality.chars"),
                                  key=f"quality_tokenizer_{version.ref}",
                                  index=tokenizers.index(last.get("tokenizer")) if last.get("tokenizer") in tokenizers else 0)
    threshold = cols[3].slider(t("quality.threshold"), 0.5, 0.95, float(last.get("near_threshold", 0.8)), 0.05,
                               key=f"quality_threshold_{version.ref}")
    run = st.form_submit_button(t("quality.run"), type="primary", key="quality_run")
options = QualityOptions(fields=fields or None, label_field=label, max_tokens=max_tokens or None,
                         tokenizer=tokenizer if max_tokens else None, near_threshold=threshold)
if run:
    st.session_state["quality_options"] = options.model_dump()
report = cached_report(version, options)
if report is None and (run or (last and version.rows <= INLINE_ROWS)):  # re-check a fixed version at once
    if version.rows <= INLINE_ROWS:
        with st.spinner(t("quality.running", rows=f"{version.rows:,}")):
            report = report_for_version(ws, version, options)
    else:
        job_id = jobs.start(ws, "quality", {"ref": version.ref, "options": options.model_dump()}, version.ref)
        st.session_state["quality_job"] = (version.ref, options.digest(), job_id)
        st.success(t("quality.job_started", rows=f"{version.rows:,}", id=job_id))


@st.fragment(run_every=2)
def follow(job_id: str) -> None:
    info = jobs.get(ws, job_id)
    job_card(info, where="quality")
    if info.state not in jobs.ACTIVE:
        st.rerun()  # the whole page: the cached report shows (or why there is none)


if report is None:
    job = st.session_state.get("quality_job")
    if job and job[:2] == (version.ref, options.digest()):
        info = jobs.get(ws, job[2])
        if info.state in jobs.ACTIVE:
            follow(info.id)
        else:
            st.error(t("quality.job_failed", message=info.message))
    else:
        st.info(t("quality.not_run"))
    st.stop()

summary = report.summary()
st.caption(t("quality.result", ref=report.ref, rows=f"{report.rows:,}", seconds=f"{sum(report.seconds.values()):.1f}"))
counts = {"exact": summary["exact_duplicate_rows"], "near": summary["near_duplicate_rows"],
          "leakage": summary["leaked_rows"], "empty": summary["empty_rows"], "too_long": summary["too_long_rows"]}
for kind, column in zip(FIXES, st.columns(len(FIXES))):
    column.metric(t(f"quality.{kind}"), "–" if counts[kind] is None else f"{counts[kind]:,}",
                  help=t("quality.rows_to_drop"))
    if column.button(t(f"quality.fix.{kind}"), key=f"quality_fix_{kind}", disabled=not counts[kind]):
        try:
            new = apply_fix(ws, version, report, kind)
        except StaleVersionError:
            st.error(t("common.stale"))
        else:
            st.session_state["quality_fixed"] = t("quality.fixed", fix=t(f"quality.fix.{kind}"),
                                                  count=f"{counts[kind]:,}", ref=new.ref)
            saved(new, "quality")

def headings(own: tuple[str, ...], train_fields: list[str] = ()) -> dict:
    """The report's own columns headed in the user's language (the dataset's fields keep their names), and the
    matching train row's fields as "train <field>"."""
    labels = {c: st.column_config.Column(t(f"quality.col.{c}")) for c in own}
    return labels | {f"train {f}": st.column_config.Column(t("quality.col.train_field", field=f)) for f in train_fields}


tabs = st.tabs([t(f"quality.tab.{name}") for name in ("duplicates", "leakage", "lengths", "labels", "languages")])
with tabs[0]:
    for kind, total in (("exact", summary["exact_groups"]), ("near", summary["near_groups"])):
        st.subheader(t(f"quality.{kind}"))
        st.caption(t(f"quality.{kind}_help", threshold=report.settings["near_threshold"]) + " "
                   + t("quality.shown_groups", shown=min(total, SHOWN_GROUPS), total=f"{total:,}"))
        groups = rows_frame(group_rows(version, report, kind, SHOWN_GROUPS))
        st.dataframe(groups, hide_index=True, width="stretch", column_config=headings(("group", "_id", "keep", "similarity", "_split")))
with tabs[1]:
    if not version.splits:
        st.info(t("quality.no_split"))
    else:
        st.caption(t("quality.leakage_help"))
        leaks = rows_frame(leakage_rows(version, report))
        st.dataframe(leaks, hide_index=True, width="stretch", column_config=headings(("id", "split", "train_id", "kind", "similarity"), report.fields))
with tabs[2]:
    st.caption(t("quality.blank_cells", fields=", ".join(report.empty["required_fields"])))
    st.dataframe(pd.DataFrame([report.empty["per_field"]]), hide_index=True, width="stretch")
    if report.too_long is None:
        st.info(t("quality.length_off"))
    else:
        long, unit = report.too_long, t(f"quality.{report.too_long['unit']}")
        st.caption(t("quality.too_long_help", count=f"{len(long['ids']):,}", max=f"{long['max']:,}", unit=unit,
                     longest=f"{long['longest']:,}"))
        bars = histogram_chart(long["histogram"], unit, t("quality.count"))
        limit = alt.Chart(pd.DataFrame({"max": [long["max"]]})).mark_rule(color="red").encode(x="max:Q")
        st.altair_chart(bars + limit, width="stretch")
        st.dataframe(pd.DataFrame({"_id": long["ids"], "length": long["lengths"]}), hide_index=True, height=220,
                     column_config=headings(("_id", "length")))
with tabs[3]:
    if report.labels is None:
        st.info(t("quality.no_label"))
    else:
        st.caption(t("quality.label_help", distinct=f"{report.labels['distinct']:,}", imbalance=report.labels["imbalance"]))
        for problem in label_problems(report.labels, lang()):
            st.warning(problem)
        frame = pd.DataFrame(report.labels["counts"]).fillna({"label": "∅"})
        st.altair_chart(alt.Chart(frame).mark_bar().encode(
            x=alt.X("count:Q", title=t("quality.count")), y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=240)),
            tooltip=["label", "count", "share"]), width="stretch")
with tabs[4]:
    st.caption(t("quality.language_help"))
    by_split = report.languages["by_split"] or {"–": report.languages["counts"]}
    frame = pd.DataFrame([{"split": split, "language": name, "rows": rows}
                          for split, values in by_split.items() for name, rows in values.items()])
    st.altair_chart(alt.Chart(frame).mark_bar().encode(
        x=alt.X("language:N", title=t("quality.language"), sort=list(report.languages["counts"]),
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("rows:Q", title=t("quality.count")), color=alt.Color("split:N", title=t("quality.split")),
        tooltip=["split", "language", "rows"]), width="stretch")
