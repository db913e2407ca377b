"""One report on the Evaluate page: lineage, summary with the chance baseline, charts, classification, pairwise,
the side-by-side rows, human review beside the judge, exports, and "what changed" against another report."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from ui.common import lang, named, t, workspace
from workbench.i18n import STRINGS
from workbench.evaluate import report as reports
from workbench.evaluate.judge_config import rubric_and_scale
from workbench.evaluate.judge_parse import SCALES
from workbench.evaluate.overrides import clear_override, set_override
from workbench.evaluate.scoring import read_scores


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


def summary_section(report) -> None:
    summary = report.summary
    st.subheader(t("eval.summary"))
    table = reports.summary_table(summary)
    model = summary.get("similarity", {}).get("model", "")
    config = {c: metric_column(t(f"eval.column.{c}"), SUMMARY_COLUMNS[c]) if c in SUMMARY_COLUMNS else
              metric_column(metric_name(c), c, model) for c in table.columns}
    st.dataframe(table, hide_index=True, width="stretch", column_config=config)
    if summary.get("similarity", {}).get("arms"):
        st.caption(t("eval.baseline_why", model=summary["similarity"]["model"]))


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
    scores = read_scores(report.folder)
    scores = scores[(scores["metric"] == metric) & (scores["status"] == "ok")]
    right.caption(t("eval.distribution", metric=metric_name(metric)))
    right.altair_chart(distribution_chart(scores[["arm", "value"]]), width="stretch")


def classification_and_pairwise(summary: dict) -> None:
    for arm, result in (summary.get("classification") or {}).items():
        st.markdown(t("eval.classification_of", arm=arm))
        columns = st.columns([1, 1, 4])
        columns[0].metric(t("eval.accuracy"), "–" if result["accuracy"] is None else f"{result['accuracy']:.3f}")
        columns[1].metric(t("eval.macro_f1"), "–" if result["macro_f1"] is None else f"{result['macro_f1']:.3f}")
        columns[2].dataframe(reports.confusion_table(result, lang()))
    if summary.get("pairwise"):
        pairwise = summary["pairwise"]
        st.markdown(t("eval.pairwise_title", baseline=pairwise["baseline"], judge=pairwise.get("judge")))
        frame = pd.DataFrame(pairwise["arms"]).T.rename_axis("arm").reset_index()
        st.dataframe(frame.rename(columns={c: t(f"eval.outcome.{c}") for c in ("wins", "ties", "losses", "failed",
                                                                                  "win_rate")}), hide_index=True)


def side_name(column: str) -> str:
    """A side-by-side column in the user's language: "tuned · similarity" -> "tuned · 语义相似度", "prompt" -> "提示"."""
    arm, separator, part = column.rpartition(" · ")
    if separator:
        return f"{arm} · {t(f'eval.part.{part}') if part in PARTS else metric_name(part)}"
    return named("eval.side", column)


def rows_section(report, metric: str | None) -> pd.DataFrame:
    """The side-by-side rows sorted by the largest difference on `metric`, filtered; returns the full table."""
    ws = workspace()
    arms = list(report.summary.get("answers", {}))
    table = reports.with_difference(reports.side_by_side(ws, report.id), arms, metric)
    st.subheader(t("eval.rows_title"))
    columns = st.columns([2, 2, 1, 1, 1])
    text = columns[0].text_input(t("eval.filter_text"), key="eval_filter_text")
    scored = [c for c in table.columns if " · " in c and not c.endswith(" · answer")]
    column = columns[1].selectbox(t("eval.filter_column"), ["", *scored], key="eval_filter_column",
                                  format_func=lambda c: side_name(c) if c else "–")
    low = columns[2].number_input(t("eval.filter_low"), value=None, key="eval_filter_low", placeholder="–")
    high = columns[3].number_input(t("eval.filter_high"), value=None, key="eval_filter_high", placeholder="–")
    longest = columns[4].number_input(t("eval.filter_length"), min_value=1, value=None, step=1,
                                      key="eval_filter_length", placeholder="–")
    shown = reports.filter_rows(table, text, column or None, low, high, int(longest) if longest else None)
    st.caption(t("eval.rows_shown", shown=len(shown), total=len(table), metric=metric_name(metric) if metric else "–"))
    st.dataframe(shown, hide_index=True, width="stretch", height=400,  # a data grid: answers stay text
                 column_config={c: side_name(c) for c in shown.columns})
    return table


def human_review_section(report, table: pd.DataFrame) -> None:
    """Pick a row and an arm, set or clear the human score; agreement (κ) with the judge beside it."""
    ws = workspace()
    config = report.config
    if config.judge is None:
        return
    st.subheader(t("eval.review_title"))
    review = reports.human_review(ws, report.id)
    columns = st.columns([1, 3])
    columns[0].metric(t("eval.overrides"), review["overrides"])
    columns[1].caption(review["agreement"].message(lang()) if review.get("agreement") else t("eval.no_overrides"))
    try:
        scale = rubric_and_scale(ws, config.judge)[1]
    except (ValueError, KeyError):
        scale = None
    low, high = SCALES.get(scale or "", (0.0, 10.0))
    columns = st.columns([2, 2, 1])
    row_ids = table["row_id"].tolist()
    row_id = columns[0].selectbox(t("eval.review_row"), row_ids, key="eval_review_row",
                                  format_func=lambda r: f"{r} · {str(table.set_index('row_id').at[r, 'prompt'])[:60]}")
    arm = columns[1].selectbox(t("eval.review_arm"), list(report.summary.get("answers", {})), key="eval_review_arm")
    score = columns[2].number_input(t("eval.human_score", scale=scale or "?"), float(low), float(high), float(high),
                                    step=0.1 if scale == "0-1" else 1.0, key="eval_review_score")
    judged = table.set_index("row_id").get(f"{arm} · judge", pd.Series(dtype=float)).get(row_id)
    human = review.get("human", {}).get((str(row_id), review["arm_keys"].get(arm)))
    st.caption(t("eval.review_now", judge="–" if judged is None or pd.isna(judged) else judged,
                 human="–" if human is None else human))
    key = reports.override_key(ws, report.id, row_id, arm)
    _review_buttons("review", lambda: set_override(ws, key, score=score, scale=scale), lambda: clear_override(ws, key))


def _review_buttons(prefix: str, save, clear) -> None:
    """Save / clear buttons of a human review box; the page reruns after either so the counts update."""
    buttons = st.columns(2)
    if buttons[0].button(t(f"eval.{prefix}_save"), key=f"eval_{prefix}_save", type="primary"):
        try:
            save()
        except ValueError as error:
            st.error(str(error))
        else:
            st.rerun()
    if buttons[1].button(t(f"eval.{prefix}_clear"), key=f"eval_{prefix}_clear"):
        clear()
        st.rerun()


def pair_review_section(report, table: pd.DataFrame) -> None:
    """Pick the better answer of (baseline, challenger) for a row; agreement (κ) with the A/B judge beside it."""
    ws = workspace()
    pairwise = report.summary.get("pairwise")
    if report.config.pairwise is None or not pairwise or not pairwise.get("arms"):
        return
    st.subheader(t("eval.pair_review_title"))
    review = reports.pair_review(ws, report.id)
    columns = st.columns([1, 3])
    columns[0].metric(t("eval.pair_overrides"), review["overrides"])
    columns[1].caption(review["agreement"].message(lang()) if review["overrides"] else t("eval.no_pair_overrides"))
    keys, baseline = review["arm_keys"], pairwise["baseline"]
    labels = {key: arm for arm, key in keys.items()} | {"tie": t("eval.tie")}
    columns = st.columns([2, 1, 2])
    prompts = table.set_index("row_id")["prompt"].astype(str)
    row_id = columns[0].selectbox(t("eval.review_row"), table["row_id"].tolist(), key="eval_pair_row",
                                  format_func=lambda r: f"{r} · {prompts.get(r, '')[:60]}")
    challenger = columns[1].selectbox(t("eval.pair_challenger", baseline=baseline), list(pairwise["arms"]),
                                      key="eval_pair_arm")
    winner = columns[2].radio(t("eval.pair_winner"), [baseline, challenger, "tie"], horizontal=True,
                              key="eval_pair_winner", format_func=lambda w: t("eval.tie") if w == "tie" else w)
    key = reports.pair_override_key(ws, report.id, row_id, challenger)
    found = {who: review[who].get((key.row_id, key.arm)) for who in ("judge", "human")}
    st.caption(t("eval.pair_now", **{who: labels.get(v, v) if v else "–" for who, v in found.items()}))
    _review_buttons("pair", lambda: set_override(ws, key, winner="tie" if winner == "tie" else keys[winner]),
                    lambda: clear_override(ws, key))


def exports_and_compare(report, others: dict) -> None:
    ws = workspace()
    st.subheader(t("eval.export_title"))
    columns = st.columns(2)
    columns[0].download_button(t("eval.download_csv"), reports.export_csv(ws, report.id), key="eval_csv",
                               file_name=f"report-{report.id}.csv", mime="text/csv")
    columns[1].download_button(t("eval.download_html"), reports.export_html(ws, report.id), key="eval_html",
                               file_name=f"report-{report.id}.html", mime="text/html")
    st.subheader(t("eval.compare_title"))
    if not others:
        st.caption(t("eval.compare_none"))
        return
    other = st.selectbox(t("eval.compare_with"), ["", *others], key="eval_compare",
                         format_func=lambda r: others[r].name if r else "–")
    if other:
        diff = reports.compare_reports(ws, other, report.id)
        st.caption(t("eval.compare_caption", a=others[other].name, b=report.name))
        st.dataframe(diff["metrics"], hide_index=True, width="stretch")
        data = diff["data"]
        st.caption(t("eval.data_diff", a=data["A"], b=data["B"]) if data["same_dataset"] else
                   t("eval.data_other", a=data["A"], b=data["B"]))
        counts = {k: v for k, v in data.items() if k not in ("A", "B", "same_dataset")}
        for (name, value), column in zip(counts.items(), st.columns(max(len(counts), 1))):
            column.metric(name, value)


def report_view(report, others: dict) -> None:
    lineage(report)
    summary_section(report)
    metrics = report.summary.get("metrics", [])
    metric = None
    if metrics:
        headline = reports.headline_metric(report.summary)
        metric = st.selectbox(t("eval.metric"), metrics, index=metrics.index(headline) if headline in metrics else 0,
                              key=f"eval_metric_{report.id}", format_func=metric_name)
        charts(report, metric)
    elif not report.summary.get("pairwise"):
        st.info(t("eval.no_metrics"))
    classification_and_pairwise(report.summary)
    table = rows_section(report, metric)
    human_review_section(report, table)
    pair_review_section(report, table)
    exports_and_compare(report, others)
