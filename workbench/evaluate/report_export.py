"""A report outside the app: the rows as CSV (for Excel) and a standalone HTML file (no scripts, no network).

Both carry what the page shows per row — answers, scores, the judge's reason, each A/B verdict with its reasons,
the human's score and pick — in the page's order (largest difference first). A failed judge call reads as
failed, never as a blank or a 0.
"""
from __future__ import annotations

import pandas as pd

from ..i18n import in_language, t
from ..infer.store import get_inference
from .overrides import pair_arm, stored_winners
from .report import arm_keys, headline_metric, side_by_side, with_difference
from .report_data import report_scores
from .scoring import baseline_verdicts
from .store import get_report

JUDGE_REASON, AB_JUDGE, AB_REASON, HUMAN_PICK = "judge reason", "A/B judge", "A/B reason", "human pick"


def export_rows(ws, report_id: str, lang: str | None = None) -> tuple[pd.DataFrame, str | None]:
    """(the side-by-side rows with judge reasons and A/B columns, sorted by the largest difference on the
    headline metric as the page does; that metric, None when the rows stay in row order)."""
    report = get_report(ws, report_id)
    table = side_by_side(ws, report_id)
    arms = list(report.summary.get("answers", {}))
    metric = headline_metric(report.summary)
    if metric is not None and sum(f"{arm} · {metric}" in table for arm in arms) > 1:
        table = with_difference(table, arms, metric)  # before "failed" replaces missing judge scores
    else:
        metric = None
    if report.config.judge is not None:
        table = _with_judge_reasons(table, report, lang)
    if report.config.pairwise is not None and report.summary.get("pairwise"):
        table = _with_pairs(ws, table, report, lang)
    return table, metric


def _failed(lang: str | None) -> str:
    return t("eval.outcome.failed", lang or "en")


def _with_judge_reasons(table: pd.DataFrame, report, lang: str | None) -> pd.DataFrame:
    """Beside each arm's judge score: its reason; a failed judge call shows "failed" as the score and why."""
    scores = report_scores(report.folder)
    judged = scores[scores["metric"] == "judge"].copy()
    judged["row_id"] = judged["row_id"].astype(str)
    for arm, group in judged.groupby("arm", sort=False):
        column = f"{arm} · judge"
        if column not in table:
            continue
        by_row = group.set_index("row_id")
        status = table["row_id"].map(by_row["status"])
        detail = table["row_id"].map(by_row["detail"]).fillna("").astype(str)
        values = table[column].astype(object)
        table[column] = values.where(status != "failed", _failed(lang))
        reasons = [f"{_failed(lang)}: {in_language(d, lang or 'en')}" if s == "failed" else d
                   for s, d in zip(status, detail)]
        after = f"{arm} · human" if f"{arm} · human" in table else column
        table.insert(table.columns.get_loc(after) + 1, f"{arm} · {JUDGE_REASON}", reasons)
    return table


def _with_pairs(ws, table: pd.DataFrame, report, lang: str | None) -> pd.DataFrame:
    """Per challenger arm: the A/B judge's verdict (arm, tie or failed), its reasons per order, the human's pick."""
    inference = get_inference(ws, report.config.inference)
    keys = arm_keys(ws, inference)
    labels = {key: arm for arm, key in keys.items()}
    baseline = report.summary["pairwise"]["baseline"]
    verdicts = baseline_verdicts(report.pairwise_log, baseline)
    picks = stored_winners(ws, inference.dataset_id, report.config.pairwise.metric)
    tie = t("eval.tie", lang or "en")
    for arm in report.summary["pairwise"].get("arms", {}):
        pair, prefix = pair_arm(keys.get(baseline, baseline), keys.get(arm, arm)), f"{baseline} vs {arm}"
        found = [verdicts.get((row_id, arm)) for row_id in table["row_id"]]
        table[f"{prefix} · {AB_JUDGE}"] = [_verdict(v, tie, lang) for v in found]
        table[f"{prefix} · {AB_REASON}"] = [_reasons(v, tie, lang) for v in found]
        chosen = [picks.get((row_id, pair)) for row_id in table["row_id"]]
        table[f"{prefix} · {HUMAN_PICK}"] = [None if c is None else tie if c == "tie" else labels.get(c, c)
                                             for c in chosen]
    return table


def _verdict(verdict, tie: str, lang: str | None) -> str | None:
    if verdict is None:
        return None
    if verdict.status != "ok":
        return _failed(lang)
    if verdict.winner == "tie":
        return t("eval.report.orders_disagree", lang or "en") if verdict.consistent is False else tie
    return verdict.winner


def _reasons(verdict, tie: str, lang: str | None) -> str | None:
    """ "AB: tuned — reason | BA: failed — why", one part per order the judge was asked in."""
    if verdict is None:
        return None
    parts = []
    for one in verdict.verdicts or []:
        picked = one.get("picked")
        outcome = tie if picked == "tie" else picked or _failed(lang)
        why = one.get("reason") or in_language(one.get("error") or "", lang or "en")
        parts.append(f"{one.get('order', '?')}: {outcome}" + (f" — {why.strip()}" if why.strip() else ""))
    if not parts and verdict.error:
        parts.append(in_language(verdict.error, lang or "en"))
    return " | ".join(parts)


def export_csv(ws, report_id: str, lang: str | None = None) -> bytes:
    """The export rows as CSV (UTF-8 with BOM: Excel reads Chinese); headers are the stored column keys."""
    table, _ = export_rows(ws, report_id, lang)
    return table.to_csv(index=False).encode("utf-8-sig")


def export_html(ws, report_id: str, lang: str | None = None) -> str:
    from .report_html import render

    report = get_report(ws, report_id)
    table, metric = export_rows(ws, report_id, lang)
    return render(ws, report, table, metric, lang)
