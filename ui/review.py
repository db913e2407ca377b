"""Human review on the Evaluate page: a human score per answer and a human pick of the better answer, beside the
judge's when there is one; the boxes show what is stored for the chosen item, so Save stores what is shown."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.common import lang, show_current_label, t, workspace
from workbench.evaluate import report as reports
from workbench.evaluate.judge_config import rubric_and_scale
from workbench.evaluate.judge_parse import SCALES
from workbench.evaluate.overrides import (HUMAN_SCALE, OverrideKey, clear_override, pick_key, review_metrics,
                                          set_override, stored_scores, stored_winners)
from workbench.infer.store import get_inference


def dataset_and_arm_keys(ws, report) -> tuple[str, dict[str, str]]:
    """The report's dataset id and arm label -> arm key: what human overrides are stored under."""
    inference = get_inference(ws, report.config.inference)
    return inference.dataset_id, reports.arm_keys(ws, inference)


def show_saved(widget: str, item: tuple, value) -> None:
    """When the reviewed item changes, put its saved value into `widget` (before the widget is drawn), so the
    box shows what is stored for this item and Save stores exactly what is shown."""
    marker = f"{widget}_item"
    if st.session_state.get(marker) != item or widget not in st.session_state:  # its state goes with the widget
        st.session_state[marker] = item
        st.session_state[widget] = value


def human_review_section(report, table: pd.DataFrame, stored_under: tuple[str, dict[str, str]], human: dict) -> None:
    """Pick a row and an arm, set or clear the human score; agreement (κ) with the judge beside it — from `human`
    (`human_adjusted`), the figure the summary shows. Without a judge the human still scores each answer (on
    HUMAN_SCALE)."""
    ws = workspace()
    config = report.config
    arms = list(report.summary.get("answers", {}))
    if not arms or table.empty:
        return
    dataset_id, keys = stored_under
    metric = review_metrics(config.judge, config.pairwise)[0]
    st.subheader(t("eval.review_title"))
    if config.judge is not None:
        review = reports.human_review(ws, report.id, human)
        saved, count = review.get("human", {}), review["overrides"]
        note = review["agreement"].message(lang()) if review.get("agreement") else t("eval.no_overrides")
        try:
            scale = rubric_and_scale(ws, config.judge)[1]
        except (ValueError, KeyError):
            scale = None
    else:
        scale = HUMAN_SCALE
        saved = stored_scores(ws, dataset_id, metric, keys.values())
        rows = set(table["row_id"].astype(str))  # the dataset's other rows may carry scores from other reports
        count, note = sum(row in rows for row, _ in saved), t("eval.review_no_judge", scale=scale)
    columns = st.columns([1, 3])
    columns[0].metric(t("eval.overrides"), count)
    columns[1].caption(note)
    low, high = SCALES.get(scale or "", (0.0, 10.0))
    columns = st.columns([2, 2, 1])
    by_row = table.set_index("row_id")
    row_id = columns[0].selectbox(t("eval.review_row"), table["row_id"].tolist(), key="eval_review_row",
                                  format_func=lambda r: f"{r} · {str(by_row.at[r, 'prompt'])[:60]}")
    arm = columns[1].selectbox(t("eval.review_arm"), arms, key="eval_review_arm")
    judged = by_row[f"{arm} · judge"].get(row_id) if f"{arm} · judge" in by_row else None
    judged = None if judged is None or pd.isna(judged) else float(judged)
    mine = saved.get((str(row_id), keys.get(arm)))
    shown = mine if mine is not None else judged
    show_saved("eval_review_score", (report.id, str(row_id), arm),
               None if shown is None else min(max(float(shown), float(low)), float(high)))
    score = columns[2].number_input(t("eval.human_score", scale=scale or "?"), float(low), float(high),
                                    step=0.1 if scale == "0-1" else 1.0, key="eval_review_score", placeholder="–")
    st.caption(t("eval.review_now", judge="–" if judged is None else f"{judged:g}",
                 human="–" if mine is None else f"{mine:g}"))
    key = OverrideKey(dataset_id, str(row_id), keys[arm], metric)

    def save():
        if score is None:
            raise ValueError(t("eval.review_need_score"))
        set_override(ws, key, score=score, scale=scale)

    _review_buttons("review", save, lambda: clear_override(ws, key))


def _review_buttons(prefix: str, save, clear) -> None:
    """Save / clear buttons of a human review box; the page reruns after either so the counts update (and, after
    a clear, the box shows the judge's value again)."""
    widget = {"review": "eval_review_score", "pair": "eval_pair_winner"}[prefix]
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
        st.session_state.pop(f"{widget}_item", None)
        st.rerun()


def pair_review_section(report, table: pd.DataFrame, stored_under: tuple[str, dict[str, str]], human: dict) -> None:
    """Pick the better answer of (baseline, challenger) for a row; agreement (κ) with the A/B judge beside it —
    from `human` (`human_adjusted`), as in the summary. Without an A/B judge the human still picks, on any report
    with two arms or more."""
    ws = workspace()
    config, arms = report.config, list(report.summary.get("answers", {}))
    pairwise = report.summary.get("pairwise") or {}
    judged = config.pairwise is not None and bool(pairwise.get("arms"))
    if (not judged and len(arms) < 2) or table.empty:
        return
    dataset_id, keys = stored_under
    metric = review_metrics(config.judge, config.pairwise)[1]
    if judged:
        st.subheader(t("eval.pair_review_title"))
        review = reports.pair_review(ws, report.id, human)
        baseline, challengers = pairwise["baseline"], list(pairwise["arms"])
        judge, picks, count = review["judge"], review["human"], review["overrides"]
        note = review["agreement"].message(lang()) if count else t("eval.no_pair_overrides")
    else:
        st.subheader(t("eval.pick_title"))
        baseline = config.baseline_arm if config.baseline_arm in arms else arms[0]
        challengers = [arm for arm in arms if arm != baseline]
        judge, picks = {}, stored_winners(ws, dataset_id, metric)
        count, note = len(picks), t("eval.pick_no_judge")
    columns = st.columns([1, 3])
    columns[0].metric(t("eval.pair_overrides"), count)
    columns[1].caption(note)
    labels = {key: arm for arm, key in keys.items()} | {"tie": t("eval.tie")}
    columns = st.columns([2, 1, 2])
    prompts = table.set_index("row_id")["prompt"].astype(str)
    row_id = columns[0].selectbox(t("eval.review_row"), table["row_id"].tolist(), key="eval_pair_row",
                                  format_func=lambda r: f"{r} · {prompts.get(r, '')[:60]}")
    challenger = columns[1].selectbox(t("eval.pair_challenger", baseline=baseline), challengers, key="eval_pair_arm")
    key = pick_key(dataset_id, row_id, keys[baseline], keys[challenger], metric)
    found = {who: values.get((key.row_id, key.arm)) for who, values in (("judge", judge), ("human", picks))}
    choices = {keys[baseline]: baseline, keys[challenger]: challenger, "tie": "tie"}  # stored pick -> radio option
    show_saved("eval_pair_winner", (report.id, key.row_id, challenger),
               choices.get(found["human"] or found["judge"]))
    show_current_label("eval_pair_winner")
    winner = columns[2].radio(t("eval.pair_winner"), [baseline, challenger, "tie"], horizontal=True,
                              key="eval_pair_winner", format_func=lambda w: t("eval.tie") if w == "tie" else w)
    st.caption(t("eval.pair_now", **{who: labels.get(v, v) if v else "–" for who, v in found.items()}))

    def save():
        if winner is None:
            raise ValueError(t("eval.pick_need_winner"))
        set_override(ws, key, winner="tie" if winner == "tie" else keys[winner])

    _review_buttons("pair", save, lambda: clear_override(ws, key))
