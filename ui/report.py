"""One report on the Evaluate page: lineage, summary with the chance baseline, charts, classification, pairwise,
the side-by-side rows, human review beside the judge, exports, and "what changed" against another report."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from ui.common import lang, named, show_current_label, t, workspace
from ui.review import dataset_and_arm_keys, human_review_section, pair_review_section
from workbench.evaluate import report as reports
from workbench.i18n import STRINGS


def lineage(report) -> None:
    summary = report.summary
    st.caption(t("eval.lineage", dataset=summary.get("dataset"), split=summary.get("split") or t("infer.all_rows"),
                 inference=summary.get("inference"), rows=summary.get("rows")))
    st.caption(" · ".join(f"**{arm}** = `{values['model']}`" for arm, values in summary.get("answers", {}).items()))
    for note in summary.get("notes", []):
        st.warning(note)


SUMMARY_COLUMNS = {"arm": None, "model": None, "ok": None, "failed": "excluded", "chance baseline": "baseline",
                   "lift": "lift"}  # column -> the metric string that explains it; the other columns are metrics
PARTS = ("answer", "human")  # per-arm side-by-side columns that are not scores


def metric_name(metric: str) -> str:
    return named("metric", metric)


def metric_column(label: str, metric: str | None, model: str = ""):
    """A column headed `label` whose hover help explains `metric` (metric.<name>.help), when there is one."""
    key = f"metric.{metric}.help"
    return st.column_config.Column(label, help=t(key, model=model) if key in STRINGS else None)


def summary_section(report) -> dict:
    summary = report.summary
    st.subheader(t("eval.summary"))
    human = reports.human_adjusted(workspace(), report.id)
    table = reports.summary_table(summary, human, lang())
    model = summary.get("similarity", {}).get("model", "")
    config = {c: metric_column(t(f"eval.column.{c}"), SUMMARY_COLUMNS[c]) if c in SUMMARY_COLUMNS else
              metric_column(metric_name(c), c, model) for c in table.columns}
    st.dataframe(table, hide_index=True, width="stretch", column_config=config, placeholder="–")
    if summary.get("similarity", {}).get("arms"):
        st.caption(t("eval.baseline_why", model=summary["similarity"]["model"]))
    for note in reports.human_notes(human, lang()):
        st.caption(note)
    return human


def win_rate_chart(rates: list[dict]) -> alt.Chart:
    outcomes = ("wins", "ties", "losses")
    frame = pd.DataFrame([{"arm": f"{r['arm']} vs {r['other']}", "outcome": t(f"eval.outcome.{outcome}"),
                           "order": position, "rows": r[outcome],
                           "share": r[outcome] / max(1, sum(r[o] for o in outcomes))}
                          for r in rates for position, outcome in enumerate(outcomes)])
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("sum(share):Q", title=t("eval.share"), axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("arm:N", title=None), order=alt.Order("order:Q"),
        color=alt.Color("outcome:N", title=None, sort=[t(f"eval.outcome.{o}") for o in outcomes],
                        legend=alt.Legend(orient="bottom")),
        tooltip=["arm", "outcome", "rows", alt.Tooltip("share:Q", format=".0%")]).properties(height=140 + 30 * len(rates))


def distribution_chart(scores: pd.DataFrame) -> alt.Chart:
    return alt.Chart(scores).mark_bar(opacity=0.6).encode(
        x=alt.X("value:Q", bin=alt.Bin(maxbins=20), title=t("eval.score")), y=alt.Y("count():Q", stack=None,
                                                                                       title=t("eval.rows")),
        color=alt.Color("arm:N", title=None, legend=alt.Legend(orient="bottom")), tooltip=["arm", "count()"],
    ).properties(height=240)


def charts(report, metric: str) -> None:
    left, right = st.columns(2)
    rates = report.summary.get("win_rates", {}).get(metric)
    left.caption(t("eval.win_rates", metric=metric_name(metric)))
    if rates:
        left.altair_chart(win_rate_chart(rates), width="stretch")
    else:
        left.caption(t("eval.one_arm"))
    scores = reports.report_scores(report.folder)
    scores = scores[(scores["metric"] == metric) & (scores["status"] == "ok")]
    right.caption(t("eval.distribution", metric=metric_name(metric)))
    right.altair_chart(distribution_chart(scores[["arm", "value"]]), width="stretch")


def classification_and_pairwise(summary: dict, human: dict) -> None:
    for arm, result in (summary.get("classification") or {}).items():
        st.markdown(t("eval.classification_of", arm=arm))
        columns = st.columns([1, 1, 4])
        columns[0].metric(t("eval.accuracy"), "–" if result["accuracy"] is None else f"{result['accuracy']:.3f}")
        columns[1].metric(t("eval.macro_f1"), "–" if result["macro_f1"] is None else f"{result['macro_f1']:.3f}")
        columns[2].dataframe(reports.confusion_table(result, lang()))
    if summary.get("pairwise"):
        pairwise = summary["pairwise"]
        st.markdown(t("eval.pairwise_title", baseline=pairwise["baseline"], judge=pairwise.get("judge")))
        st.dataframe(reports.pairwise_table(summary, human, lang()), hide_index=True, placeholder="–")


def side_name(column: str) -> str:
    """A side-by-side column in the user's language: "tuned · similarity" -> "tuned · 语义相似度", "prompt" -> "提示"."""
    arm, separator, part = column.rpartition(" · ")
    if separator:
        return f"{arm} · {t(f'eval.part.{part}') if part in PARTS else metric_name(part)}"
    return named("eval.side", column)


def rows_section(report, metric: str | None) -> pd.DataFrame:
    """The side-by-side rows (the exports' table) sorted by the largest difference on `metric`, filtered; returns
    the full table."""
    arms = list(report.summary.get("answers", {}))
    table = reports.side_by_side(workspace(), report.id)
    table = reports.with_difference(table, arms, metric)
    st.subheader(t("eval.rows_title"))
    columns = st.columns([2, 2, 1, 1, 1, 1.4])
    text = columns[0].text_input(t("eval.filter_text"), key="eval_filter_text")
    scored = [c for c in table.columns if " · " in c and not c.endswith(" · answer")]
    show_current_label("eval_filter_column")
    column = columns[1].selectbox(t("eval.filter_column"), ["", *scored], key="eval_filter_column",
                                  format_func=lambda c: side_name(c) if c else "–")
    low = columns[2].number_input(t("eval.filter_low"), value=None, key="eval_filter_low", placeholder="–")
    high = columns[3].number_input(t("eval.filter_high"), value=None, key="eval_filter_high", placeholder="–")
    longest = columns[4].number_input(t("eval.filter_length"), min_value=1, value=None, step=1,
                                      key="eval_filter_length", placeholder="–")
    compact = columns[5].toggle(t("eval.compact"), True, key="eval_compact", help=t("eval.compact_help"))
    shown = reports.filter_rows(table, text, column or None, low, high, int(longest) if longest else None)
    st.caption(t("eval.rows_shown", shown=len(shown), total=len(table), metric=metric_name(metric) if metric else "–"))
    order = compact_columns(shown, arms, metric) if compact else None
    st.dataframe(shown, hide_index=True, width="stretch", height=400 if len(shown) > 10 else "auto",  # answers: text
                 column_config=side_columns(shown), column_order=order, placeholder="–")
    return table


def compact_columns(table: pd.DataFrame, arms: list[str], metric: str | None) -> list[str]:
    """Row, prompt, reference, then per arm its answer with the chosen metric, the judge's and the human's score
    beside it, then the difference: the scores sit next to the answer they rate."""
    per_arm = ("answer", *dict.fromkeys(p for p in (metric, "judge", "human") if p))
    fixed = [c for c in table.columns if " · " not in c and c != "difference"]
    return [*fixed, *(f"{arm} · {part}" for arm in arms for part in per_arm if f"{arm} · {part}" in table),
            *(["difference"] if "difference" in table else [])]


def side_columns(table: pd.DataFrame) -> dict:
    """Column headers in the user's language and widths: row and prompt pinned, texts medium, scores small."""
    config = {}
    for column in table.columns:
        label = side_name(column)
        if column in ("row_id", "prompt"):
            config[column] = st.column_config.Column(label, width="small" if column == "row_id" else "medium",
                                                     pinned=True)
        elif pd.api.types.is_numeric_dtype(table[column]):
            config[column] = st.column_config.NumberColumn(label, width="small")
        else:
            config[column] = st.column_config.Column(label, width="medium")
    return config


def exports_and_compare(report, others: dict) -> None:
    """The CSV and HTML downloads, built only when clicked (Streamlit runs the callable on its own thread, without
    the session: the workspace and the language are taken now); then "what changed" against another report."""
    ws, language = workspace(), lang()
    st.subheader(t("eval.export_title"))
    columns = st.columns(2)
    columns[0].download_button(t("eval.download_csv"), lambda: reports.export_csv(ws, report.id, language),
                               key="eval_csv", file_name=f"report-{report.id}.csv", mime="text/csv", on_click="ignore")
    columns[1].download_button(t("eval.download_html"), lambda: reports.export_html(ws, report.id, language),
                               key="eval_html", file_name=f"report-{report.id}.html", mime="text/html",
                               on_click="ignore")
    st.subheader(t("eval.compare_title"))
    if not others:
        st.caption(t("eval.compare_none"))
        return
    other = st.selectbox(t("eval.compare_with"), ["", *others], key="eval_compare",
                         format_func=lambda r: others[r].name if r else "–")
    if other:
        diff = reports.compare_reports(ws, other, report.id)
        st.caption(t("eval.compare_caption", a=others[other].name, b=report.name))
        for note in reports.compare_notes(diff, lang()):
            st.caption(note)
        st.dataframe(reports.compare_table(diff, lang()), hide_index=True, width="stretch")


def report_view(report, others: dict) -> None:
    lineage(report)
    human = summary_section(report)
    metrics = report.summary.get("metrics", [])
    metric = None
    if metrics:
        headline = reports.headline_metric(report.summary)
        show_current_label(f"eval_metric_{report.id}")
        metric = st.selectbox(t("eval.metric"), metrics, index=metrics.index(headline) if headline in metrics else 0,
                              key=f"eval_metric_{report.id}", format_func=metric_name)
        charts(report, metric)
    elif not report.summary.get("pairwise"):
        st.info(t("eval.no_metrics"))
    classification_and_pairwise(report.summary, human)
    stored_under = dataset_and_arm_keys(workspace(), report)  # found once for both review sections
    table = rows_section(report, metric)
    human_review_section(report, table, stored_under, human)
    pair_review_section(report, table, stored_under, human)
    exports_and_compare(report, others)
