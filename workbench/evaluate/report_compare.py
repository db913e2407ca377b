"""What changed from report A to report B: each shared arm's metric means (B − A) on the rows both reports scored,
what only one of them has (arms, metrics, the A/B judge), and the data diff between their dataset versions."""
from __future__ import annotations

import math

import pandas as pd

from ..i18n import t
from ..infer.store import get_inference
from .metric_strings import column_name
from .report_data import report_answers, report_scores
from .store import get_report

COLUMNS = ["arm", "metric", "A", "B", "change", "rows"]


def compare_reports(ws, first_id: str, second_id: str) -> dict:
    """{"metrics": arm, metric, A, B, change (B − A), rows (the rows the means are over); "rows": how many rows
    each report has, how many both and which rows the means use ("all", "shared", "different" datasets, "none"
    shared); "only": arms / metrics / the A/B judge only one report has; "data": the dataset versions' diff}."""
    from ..data.diff import diff_tables

    a, b = get_report(ws, first_id), get_report(ws, second_id)
    inference_a, inference_b = get_inference(ws, a.config.inference), get_inference(ws, b.config.inference)
    rows_a, rows_b = _row_ids(ws, inference_a), _row_ids(ws, inference_b)
    same_dataset = inference_a.dataset_id == inference_b.dataset_id
    shared = rows_a & rows_b if same_dataset else set()
    basis = ("different" if not same_dataset else "all" if rows_a == rows_b else "shared" if shared else "none")
    arms_a, arms_b = a.summary.get("arms", {}), b.summary.get("arms", {})
    scores_a = scores_b = None
    if basis == "shared":
        scores_a, scores_b = report_scores(a.folder), report_scores(b.folder)
    metrics = []
    for arm in [arm for arm in arms_b if arm in arms_a]:
        for metric, after in arms_b[arm].items():
            before = arms_a[arm].get(metric, {})
            if basis == "shared":
                (mean_a, _), (mean_b, n) = _mean(scores_a, arm, metric, shared), _mean(scores_b, arm, metric, shared)
            else:
                mean_a, mean_b = before.get("mean"), after.get("mean")
                n = len(shared) if basis == "all" else None
            if mean_a is not None and mean_b is not None:
                metrics.append({"arm": arm, "metric": metric, "A": mean_a, "B": mean_b, "change": mean_b - mean_a,
                                "rows": n})
    data = {"A": inference_a.dataset_ref, "B": inference_b.dataset_ref, "same_dataset": same_dataset,
            "same_version": same_dataset and inference_a.dataset_version == inference_b.dataset_version}
    if same_dataset and not data["same_version"]:
        diff = diff_tables(ws.read(ws.version(inference_a.dataset_id, inference_a.dataset_version)),
                           ws.read(ws.version(inference_b.dataset_id, inference_b.dataset_version)))
        data.update(diff.counts)
    return {"metrics": pd.DataFrame(metrics, columns=COLUMNS), "data": data,
            "arms": {"A": list(arms_a), "B": list(arms_b)},
            "rows": {"A": len(rows_a), "B": len(rows_b), "shared": len(shared), "basis": basis},
            "only": {"A": _only(a.summary, b.summary), "B": _only(b.summary, a.summary)}}


def _row_ids(ws, inference) -> set[str]:
    return set(report_answers(ws, inference)["row_id"].astype(str))


def _mean(scores: pd.DataFrame, arm: str, metric: str, rows: set[str]) -> tuple[float | None, int]:
    """Mean of the present values of (arm, metric) over `rows`, and how many rows that is."""
    chosen = scores[(scores["arm"] == arm) & (scores["metric"] == metric) & scores["row_id"].astype(str).isin(rows)]
    values = [float(v) for v in chosen["value"] if v is not None and not math.isnan(float(v))]
    return (sum(values) / len(values) if values else None), len(rows)


def _only(mine: dict, other: dict) -> dict:
    """What `mine` has and `other` lacks: arms, metrics (of any arm) and the pairwise judge."""
    arms = [arm for arm in mine.get("arms", {}) if arm not in other.get("arms", {})]
    metrics = [m for m in mine.get("metrics", []) if m not in other.get("metrics", [])]
    return {"arms": arms, "metrics": metrics, "pairwise": bool(mine.get("pairwise")) and not other.get("pairwise")}


def compare_table(diff: dict, lang: str = "en") -> pd.DataFrame:
    """The metric changes for people: headers and metric names in `lang`, values with the summary's decimals
    (3 for scores within 0..1, 2 for larger scales), the change signed."""
    frame = diff["metrics"]
    places = {metric: 3 if max(abs(group["A"]).max(), abs(group["B"]).max()) <= 1 else 2
              for metric, group in frame.groupby("metric")}
    rows = [{t("eval.column.arm", lang): r.arm, t("eval.metric", lang): column_name(r.metric, lang),
             "A": f"{r.A:.{places[r.metric]}f}", "B": f"{r.B:.{places[r.metric]}f}",
             t("eval.report.change", lang): f"{r.change:+.{places[r.metric]}f}",
             t("eval.report.rows_compared", lang): "–" if pd.isna(r.rows) else int(r.rows)}
            for r in frame.itertuples()]
    return pd.DataFrame(rows)


def compare_notes(diff: dict, lang: str = "en") -> list[str]:
    """What to know before reading the changes: rows in each and in both (and which rows the means use), what
    only one report has, and the data diff (or that the dataset version is the same)."""
    rows, data = diff["rows"], diff["data"]
    notes = [t("eval.report.compare_rows", lang, a=rows["A"], b=rows["B"], shared=rows["shared"])]
    if rows["basis"] == "shared":
        notes.append(t("eval.report.compare_shared", lang, shared=rows["shared"]))
    elif rows["basis"] == "none":
        notes.append(t("eval.report.compare_no_shared", lang))
    for which in ("A", "B"):
        only = diff["only"][which]
        items = ([t("eval.report.arm", lang, name=arm) for arm in only["arms"]] +
                 [column_name(metric, lang) for metric in only["metrics"]] +
                 ([t("eval.report.pairwise_judge", lang)] if only["pairwise"] else []))
        if items:
            notes.append(t("eval.report.only_in", lang, which=which, items=("、" if lang == "zh" else ", ").join(items)))
    if not data["same_dataset"]:
        notes.append(t("eval.report.compare_other_data", lang, a=data["A"], b=data["B"]))
    elif data.get("same_version"):
        notes.append(t("eval.report.same_version", lang, a=data["A"]))
    else:
        counts = ", ".join(f"{t(f'eval.report.diff.{name}', lang)} {data[name]}"
                           for name in ("added", "removed", "changed", "unchanged") if name in data)
        notes.append(t("eval.report.data_counts", lang, a=data["A"], b=data["B"], counts=counts or "–"))
    return notes
