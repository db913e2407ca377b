"""Reading a report: the side-by-side table, filters, human overrides beside the judge, CSV/HTML export, and
"what changed" between two reports (metric diff next to the data diff of their dataset versions)."""
from __future__ import annotations

import html

import pandas as pd

from ..i18n import in_language, t
from ..infer.store import get_inference
from .overrides import OverrideKey, agreement, overrides_for, pair_arm
from .scoring import answers, pair_verdicts, read_scores
from .store import get_report

HEADLINE = ("judge", "similarity", "exact", "rouge-l", "bleu-4", "rouge-1", "rouge-2")


def headline_metric(summary: dict) -> str | None:
    """The metric a report leads with: the judge when there is one, else similarity, accuracy, ROUGE-L."""
    return next((m for m in HEADLINE if m in summary.get("metrics", [])), None)


def side_by_side(ws, report_id: str) -> pd.DataFrame:
    """One row per dataset row: prompt, reference, lineage, then per arm its answer and every score."""
    report = get_report(ws, report_id)
    inference = get_inference(ws, report.config.inference)
    frame = answers(ws, inference)
    frame["row_id"] = frame["row_id"].astype(str)
    scores = read_scores(report.folder)
    lineage = [c for c in frame.columns if c not in
               ("row_id", "arm", "model", "system_prompt", "prompt", "reference", "output", "status", "error",
                "seconds", "prompt_tokens", "completion_tokens", "arm_key")]
    table = frame.drop_duplicates("row_id").set_index("row_id")[["prompt", "reference", *lineage]]
    for arm, group in frame.groupby("arm", sort=False):
        group = group.set_index("row_id")
        table[f"{arm} · answer"] = group["output"].where(group["status"] == "ok", "⚠ " + group["error"].fillna(
            group["status"]))
        for metric, values in scores[scores["arm"] == arm].groupby("metric", sort=False):
            table[f"{arm} · {metric}"] = values.set_index("row_id")["value"]
    if report.config.judge is not None:  # the human's score beside the judge's, where the annotator set one
        keys = _arm_keys(frame)
        by_key = _human_scores(ws, inference.dataset_id, report.config.judge.metric, keys)
        for arm, key in keys.items():
            if f"{arm} · judge" in table:
                values = [by_key.get((row_id, key)) for row_id in table.index]
                table.insert(table.columns.get_loc(f"{arm} · judge") + 1, f"{arm} · human",
                             pd.to_numeric(pd.Series(values, index=table.index, dtype=object)))
    return table.reset_index()


def with_difference(table: pd.DataFrame, arms: list[str], metric: str) -> pd.DataFrame:
    """Adds `difference` (largest minus smallest score of `metric` across arms) and sorts by it, largest first."""
    columns = [f"{arm} · {metric}" for arm in arms if f"{arm} · {metric}" in table]
    if len(columns) < 2:
        return table.assign(difference=float("nan"))
    values = table[columns].astype(float)
    return table.assign(difference=values.max(axis=1) - values.min(axis=1)).sort_values(
        "difference", ascending=False, na_position="last")


def filter_rows(table: pd.DataFrame, text: str = "", column: str | None = None, low: float | None = None,
                high: float | None = None, max_prompt_chars: int | None = None) -> pd.DataFrame:
    """Rows whose prompt/reference/answers contain `text`, whose `column` score is in [low, high], and whose
    prompt is at most `max_prompt_chars` long."""
    keep = pd.Series(True, index=table.index)
    if text.strip():
        searchable = [c for c in table.columns if c in ("prompt", "reference") or c.endswith(" · answer")]
        found = pd.Series(False, index=table.index)
        for name in searchable:
            found |= table[name].fillna("").astype(str).str.contains(text.strip(), case=False, regex=False)
        keep &= found
    if column and column in table:
        values = table[column].astype(float)
        if low is not None:
            keep &= values >= low
        if high is not None:
            keep &= values <= high
    if max_prompt_chars:
        keep &= table["prompt"].fillna("").str.len() <= max_prompt_chars
    return table[keep]


def arm_keys(ws, inference) -> dict[str, str]:
    """Arm label -> the key its overrides are stored under (model id, + system-prompt hash for a variant)."""
    return _arm_keys(answers(ws, inference))


def _arm_keys(frame: pd.DataFrame) -> dict[str, str]:
    return frame.drop_duplicates("arm").set_index("arm")["arm_key"].to_dict()


def _human_scores(ws, dataset_id: str, metric: str, keys: dict[str, str]) -> dict[tuple[str, str], float]:
    """(row id, arm key) -> the human's score, for the given arms' overrides of `metric`."""
    found = overrides_for(ws, dataset_id, metric, list(keys.values()))
    return {(str(k.row_id), k.arm): o.score for k, o in found.items() if o.score is not None}


def human_review(ws, report_id: str) -> dict:
    """Overrides of this report's judge scores and their agreement (quadratic-weighted κ) with the judge."""
    report = get_report(ws, report_id)
    config, inference = report.config, get_inference(ws, report.config.inference)
    keys = arm_keys(ws, inference)
    result = {"overrides": 0, "agreement": None}
    if config.judge is None:
        return result
    judged = read_scores(report.folder)
    judged = judged[(judged["metric"] == "judge") & (judged["status"] == "ok")]
    judge_scores = {(str(r.row_id), keys.get(r.arm, r.arm)): r.value for r in judged.itertuples()}
    human_scores = _human_scores(ws, inference.dataset_id, config.judge.metric, keys)
    found = agreement(judge_scores, human_scores, report.summary.get("judge", {}).get("scale"))
    return {"overrides": len(human_scores), "agreement": found, "human": human_scores, "arm_keys": keys}


def override_key(ws, report_id: str, row_id, arm: str) -> OverrideKey:
    """The key a human score for (row, arm) of this report is stored under (survives re-runs)."""
    report = get_report(ws, report_id)
    inference = get_inference(ws, report.config.inference)
    return OverrideKey(inference.dataset_id, str(row_id), arm_keys(ws, inference)[arm], report.config.judge.metric)


def pair_review(ws, report_id: str) -> dict:
    """The pairwise judge's winners and the human's, per (row, pair of arm keys), with plain κ between them.

    Winners are arm keys (or "tie"), so a human pick made on one report counts for every report that compares
    the same two models on the same rows with the same rubric.
    """
    report = get_report(ws, report_id)
    config, inference = report.config, get_inference(ws, report.config.inference)
    result = {"overrides": 0, "agreement": None, "human": {}, "judge": {}}
    if config.pairwise is None:
        return result
    keys = arm_keys(ws, inference)
    judge = {}
    for verdict in pair_verdicts(report.pairwise_log):
        if verdict.status == "ok":
            pair = pair_arm(keys.get(verdict.arm_a, verdict.arm_a), keys.get(verdict.arm_b, verdict.arm_b))
            judge[(str(verdict.row_id), pair)] = keys.get(verdict.winner, verdict.winner)
    human = {(k.row_id, k.arm): o.winner
             for k, o in overrides_for(ws, inference.dataset_id, config.pairwise.metric).items() if o.winner}
    return {"overrides": len(human), "agreement": agreement(judge, human), "human": human, "judge": judge,
            "arm_keys": keys}


def pair_override_key(ws, report_id: str, row_id, challenger: str) -> OverrideKey:
    """The key a human winner for (row, baseline arm vs `challenger`) of this report is stored under."""
    report = get_report(ws, report_id)
    inference = get_inference(ws, report.config.inference)
    keys, baseline = arm_keys(ws, inference), report.summary["pairwise"]["baseline"]
    return OverrideKey(inference.dataset_id, str(row_id), pair_arm(keys[baseline], keys[challenger]),
                       report.config.pairwise.metric)


def summary_table(summary: dict) -> pd.DataFrame:
    """Arms x metrics: "mean [low, high]" with the count, for the report page and the exports. Similarity comes
    first with its chance baseline and lift beside it (the raw number alone misleads), then the other metrics."""
    rows, decimals = [], _decimals(summary.get("arms", {}))
    for arm, metrics in summary.get("arms", {}).items():
        row = {"arm": arm, **{k: v for k, v in summary.get("answers", {}).get(arm, {}).items()
                              if k in ("model", "ok", "failed")}}
        similarity = summary.get("similarity", {}).get("arms", {}).get(arm)
        for metric, value in sorted(metrics.items(), key=lambda item: item[0] != "similarity"):
            places = decimals[metric]
            row[metric] = (f"{value['mean']:.{places}f} [{value['low']:.{places}f}, {value['high']:.{places}f}] "
                           f"(n={value['n']})" if value.get("mean") is not None else "—")
            if metric == "similarity" and similarity:
                row["chance baseline"] = f"{similarity['baseline']:.3f}"
                row["lift"] = f"{similarity['lift']:+.3f}"
        rows.append(row)
    return pd.DataFrame(rows)


def _decimals(arms: dict) -> dict[str, int]:
    """Decimal places per metric, the same for every arm so a column reads evenly: 3 for scores within 0..1
    (similarity, accuracy, judge 0-1), 2 for larger scales (ROUGE/BLEU x100, judge 1-10)."""
    largest: dict[str, float] = {}
    for metrics in arms.values():
        for metric, value in metrics.items():
            figures = [abs(value[k]) for k in ("mean", "low", "high") if value.get(k) is not None]
            largest[metric] = max([largest.get(metric, 0.0), *figures])
    return {metric: 3 if top <= 1 else 2 for metric, top in largest.items()}


def confusion_table(result: dict, lang: str | None = None) -> pd.DataFrame:
    """One arm's confusion matrix (rows: reference label, columns: the answer). The labels are data and stay as
    they are; the last column is our catch-all "other / 其他", named in `lang` (None: both languages)."""
    columns = list(result["columns"])
    if lang and columns:
        columns[-1] = in_language(columns[-1], lang)
    return pd.DataFrame(result["confusion"], index=result["labels"], columns=columns)


def classification_figures(summary: dict, lang: str | None = None) -> pd.DataFrame:
    """Per arm: accuracy and macro-F1 (3 decimals), rows scored, left out, and answers outside the label set."""
    names = {key: _named(f"metric.{key}", lang) for key in ("accuracy", "macro_f1", "n", "excluded", "other")}
    rows = [{"arm": arm, **{names[key]: "—" if result.get(key) is None else f"{result[key]:.3f}"
                            for key in ("accuracy", "macro_f1")},
             **{names[key]: result.get(key) for key in ("n", "excluded", "other")}}
            for arm, result in (summary.get("classification") or {}).items()]
    return pd.DataFrame(rows)


def _named(key: str, lang: str | None) -> str:
    """A UI string in `lang`, or "English / 中文" for the bilingual HTML file."""
    return t(key, lang) if lang else f"{t(key, 'en')} / {t(key, 'zh')}"


def export_csv(ws, report_id: str) -> bytes:
    return side_by_side(ws, report_id).to_csv(index=False).encode("utf-8-sig")  # BOM: Excel reads Chinese


def export_html(ws, report_id: str) -> str:
    """A standalone HTML file (no scripts, no network): summary, win rates, classification (accuracy, macro-F1,
    confusion matrices), and every row side by side. Every cell is escaped: answers are shown as text, never as
    HTML."""
    report = get_report(ws, report_id)
    summary = report.summary
    parts = [f"<h1>{html.escape(report.name)}</h1>",
             f"<p>{html.escape(str(summary.get('dataset')))} · {html.escape(str(summary.get('split')))} · "
             f"{summary.get('rows')} rows · inference {html.escape(str(summary.get('inference')))}</p>"]
    parts += [f"<p class=note>{html.escape(n)}</p>" for n in summary.get("notes", [])]
    parts += ["<h2>Summary / 汇总</h2>", summary_table(summary).to_html(index=False, escape=True, na_rep="—")]
    for metric, rates in summary.get("win_rates", {}).items():
        parts += [f"<h3>Win rate · {html.escape(metric)}</h3>",
                  pd.DataFrame(rates).to_html(index=False, escape=True, na_rep="—")]
    if summary.get("pairwise"):
        parts += ["<h2>Pairwise judge / 两两比较</h2>",
                  pd.DataFrame(summary["pairwise"]["arms"]).T.to_html(escape=True, na_rep="—")]
    for title, review in (("Human review / 人工复核", human_review(ws, report_id)),
                          ("Human A/B picks / 人工 A/B 选择", pair_review(ws, report_id))):
        if review["overrides"]:
            parts += [f"<h2>{title}</h2>", f"<p>{html.escape(review['agreement'].message('en'))}<br>"
                                           f"{html.escape(review['agreement'].message('zh'))}</p>"]
    if summary.get("classification"):
        parts += [f"<h2>{html.escape(_named('eval.classification', None))}</h2>",
                  html_table(classification_figures(summary))]
        for arm, result in summary["classification"].items():
            parts += [f"<h3>{html.escape(_named('metric.confusion', None))} · {html.escape(arm)}</h3>",
                      html_table(confusion_table(result).rename_axis("reference ↓ answer → / 参考 ↓ 回答 →"),
                                 index=True)]
    parts += ["<h2>Rows / 逐条对比</h2>", html_table(side_by_side(ws, report_id))]
    style = ("body{font-family:system-ui,'PingFang SC','Noto Sans CJK SC',sans-serif;margin:2em;color:#222}"
             "table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 6px;"
             "vertical-align:top;white-space:pre-wrap;max-width:28em}th{background:#f3f3f3}.note{color:#a60}")
    return (f"<!doctype html><html lang=zh><meta charset=utf-8><title>{html.escape(report.name)}</title>"
            f"<style>{style}</style><body>{''.join(parts)}</body></html>")


def html_table(frame: pd.DataFrame, index: bool = False) -> str:
    """A table of escaped text. Unlike DataFrame.to_html, a line break in a prompt or an answer stays a line break
    (the page's white-space: pre-wrap shows it) instead of a literal "\\n"."""
    def cell(value) -> str:
        if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
            return "—"
        return f"{value:.3f}" if isinstance(value, float) else html.escape(str(value))

    head = ([html.escape(str(frame.index.name or ""))] if index else []) + [html.escape(str(c)) for c in frame.columns]
    rows = []
    for label, values in zip(frame.index, frame.itertuples(index=False, name=None)):
        cells = ([f"<th>{html.escape(str(label))}</th>"] if index else []) + [f"<td>{cell(v)}</td>" for v in values]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (f"<table><thead><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def compare_reports(ws, first_id: str, second_id: str) -> dict:
    """What changed from report A to B: each shared arm's metric means (B − A) and the data diff between the
    two inferences' dataset versions (rows added/removed/changed)."""
    from ..data.diff import diff_tables

    a, b = get_report(ws, first_id), get_report(ws, second_id)
    metrics = []
    for arm in [arm for arm in b.summary.get("arms", {}) if arm in a.summary.get("arms", {})]:
        for metric, after in b.summary["arms"][arm].items():
            before = a.summary["arms"][arm].get(metric, {})
            if before.get("mean") is not None and after.get("mean") is not None:
                metrics.append({"arm": arm, "metric": metric, "A": before["mean"], "B": after["mean"],
                                "change": after["mean"] - before["mean"]})
    inference_a = get_inference(ws, a.config.inference)
    inference_b = get_inference(ws, b.config.inference)
    data = {"A": inference_a.dataset_ref, "B": inference_b.dataset_ref, "same_dataset":
            inference_a.dataset_id == inference_b.dataset_id}
    if data["same_dataset"] and inference_a.dataset_version != inference_b.dataset_version:
        diff = diff_tables(ws.read(ws.version(inference_a.dataset_id, inference_a.dataset_version)),
                           ws.read(ws.version(inference_b.dataset_id, inference_b.dataset_version)))
        data.update(diff.counts)
    return {"metrics": pd.DataFrame(metrics, columns=["arm", "metric", "A", "B", "change"]), "data": data,
            "arms": {"A": list(a.summary.get("arms", {})), "B": list(b.summary.get("arms", {}))}}
