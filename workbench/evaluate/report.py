"""Reading a report: the side-by-side table, filters, human overrides beside the judge, CSV/HTML export, and
"what changed" between two reports (metric diff next to the data diff of their dataset versions)."""
from __future__ import annotations

import html

import pandas as pd

from ..i18n import in_language, t
from ..infer.store import get_inference
from .metric_strings import column_name
from .overrides import OverrideKey, pair_arm, pick_key, review_metrics, stored_scores, stored_winners
from .report_data import report_answers, report_scores
from .scoring import arm_keys_of, pair_verdicts
from .store import get_report

HEADLINE = ("judge", "similarity", "exact", "rouge-l", "bleu-4", "rouge-1", "rouge-2")


def headline_metric(summary: dict) -> str | None:
    """The metric a report leads with: the judge when there is one, else similarity, accuracy, ROUGE-L."""
    return next((m for m in HEADLINE if m in summary.get("metrics", [])), None)


def side_by_side(ws, report_id: str) -> pd.DataFrame:
    """One row per dataset row: prompt, reference, lineage, then per arm its answer, every score and the human's
    score (beside the judge's, or after the arm's scores where no judge scored). The page, the CSV and the HTML
    file all show this table."""
    report = get_report(ws, report_id)
    inference = get_inference(ws, report.config.inference)
    frame = report_answers(ws, inference)
    frame["row_id"] = frame["row_id"].astype(str)
    scores = report_scores(report.folder)
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
    return _with_human_scores(ws, report, inference.dataset_id, arm_keys_of(frame), table).reset_index()


def _with_human_scores(ws, report, dataset_id: str, keys: dict[str, str], table: pd.DataFrame) -> pd.DataFrame:
    """ "<arm> · human": the score an annotator set (the judge's metric, or HUMAN_SCORE on a report no judge scored)
    right after the arm's judge score, else after the arm's last column; empty where nobody scored."""
    metric = review_metrics(report.config.judge, report.config.pairwise)[0]
    by_key = stored_scores(ws, dataset_id, metric, keys.values())
    for arm, key in keys.items():
        own = [c for c in table.columns if c.startswith(f"{arm} · ")]
        if not own:
            continue
        after = f"{arm} · judge" if f"{arm} · judge" in table else own[-1]
        values = pd.Series([by_key.get((row_id, key)) for row_id in table.index], index=table.index, dtype=float)
        table.insert(table.columns.get_loc(after) + 1, f"{arm} · human", values)
    return table


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
    return arm_keys_of(report_answers(ws, inference))


def human_review(ws, report_id: str, human: dict | None = None) -> dict:
    """The human's scores of this report's judge metric ("human": every one stored, by (row, arm key), to show
    beside an answer), how many count for this report and their agreement (quadratic-weighted κ) with the judge.
    Both come from `human` (`human_adjusted`, computed here when not given): the one κ the summary, this review and
    the exports show, over the rows and arms of this report that both the judge and the human scored."""
    report = get_report(ws, report_id)
    config, inference = report.config, get_inference(ws, report.config.inference)
    keys = arm_keys(ws, inference)
    result = {"overrides": 0, "agreement": None}
    if config.judge is None:
        return result
    human = human if human is not None else human_adjusted(ws, report_id)
    counted = sum(arm["overrides"] for arm in (human.get("judge") or {}).values())
    return {"overrides": counted, "agreement": human.get("judge_agreement"),
            "human": stored_scores(ws, inference.dataset_id, config.judge.metric, keys.values()), "arm_keys": keys}


def override_key(ws, report_id: str, row_id, arm: str) -> OverrideKey:
    """The key a human score for (row, arm) of this report is stored under (survives re-runs)."""
    report = get_report(ws, report_id)
    inference = get_inference(ws, report.config.inference)
    return OverrideKey(inference.dataset_id, str(row_id), arm_keys(ws, inference)[arm], report.config.judge.metric)


def pair_review(ws, report_id: str, human: dict | None = None) -> dict:
    """The pairwise judge's winners and the human's, per (row, pair of arm keys), and from `human`
    (`human_adjusted`, computed here when not given) how many picks count for this report and their plain κ with
    the judge — the same figure the summary and the exports show.

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
    human = human if human is not None else human_adjusted(ws, report_id)
    counted = sum(arm["picks"] for arm in (human.get("pairwise") or {}).values())
    return {"overrides": counted, "agreement": human.get("pairwise_agreement"),
            "human": stored_winners(ws, inference.dataset_id, config.pairwise.metric), "judge": judge,
            "arm_keys": keys}


def pair_override_key(ws, report_id: str, row_id, challenger: str) -> OverrideKey:
    """The key a human winner for (row, baseline arm vs `challenger`) of this report is stored under."""
    report = get_report(ws, report_id)
    inference = get_inference(ws, report.config.inference)
    keys, baseline = arm_keys(ws, inference), report.summary["pairwise"]["baseline"]
    return pick_key(inference.dataset_id, row_id, keys[baseline], keys[challenger], report.config.pairwise.metric)


def summary_table(summary: dict, human: dict | None = None, lang: str | None = None) -> pd.DataFrame:
    """Arms x metrics: "mean [low, high] (n, failed)" for the report page and the exports. Similarity comes first
    with its chance baseline and lift beside it (the raw number alone misleads), then the other metrics; with
    `human` (human_adjusted) the judge score with the human's scores in place sits beside the judge's own.
    Column keys stay as stored (the page names them); `lang` words the cells (None: English)."""
    rows, decimals = [], _decimals(summary.get("arms", {}))
    adjusted = (human or {}).get("judge") or {}
    for arm, metrics in summary.get("arms", {}).items():
        row = {"arm": arm, **{k: v for k, v in summary.get("answers", {}).get(arm, {}).items()
                              if k in ("model", "ok", "failed")}}
        similarity = summary.get("similarity", {}).get("arms", {}).get(arm)
        for metric, value in sorted(metrics.items(), key=lambda item: item[0] != "similarity"):
            row[metric] = figure(value, decimals[metric], metric, lang)
            if metric == "similarity" and similarity:
                row["chance baseline"] = f"{similarity['baseline']:.3f}"
                row["lift"] = f"{similarity['lift']:+.3f}"
            if metric == "judge" and arm in adjusted:
                places = max(decimals[metric], _decimals({arm: {metric: adjusted[arm]}})[metric])
                row["judge_human"] = figure(adjusted[arm], places, metric, lang, adjusted[arm]["overrides"])
        rows.append(row)
    return pd.DataFrame(rows)


def figure(value: dict, places: int, metric: str, lang: str | None = None, overrides: int | None = None) -> str:
    """ "0.851 [0.825, 0.871] (n=8)"; rows left out are counted ("n=3, 5 failed / 3 条有效，5 条失败": a judge call
    failed; "left out" for other metrics), and human overrides when given."""
    if value.get("mean") is None:
        counted = "—"
    else:
        counted = f"{value['mean']:.{places}f} [{value['low']:.{places}f}, {value['high']:.{places}f}]"
    excluded = value.get("excluded") or 0
    kind = "failed" if metric == "judge" else "left_out"
    parts = [t(f"eval.report.n_{kind}", lang or "en", n=value.get("n", 0), count=excluded) if excluded else
             f"n={value.get('n', 0)}"]
    if overrides is not None:
        parts.append(t("eval.report.overrides", lang or "en", count=overrides))
    return f"{counted} ({' · '.join(parts)})"


def localized(table: pd.DataFrame, lang: str | None) -> pd.DataFrame:
    """The summary table with its headers in `lang` (the CLI and the HTML export; the page names them itself)."""
    return table.rename(columns={c: column_name(c, lang) for c in table.columns})


def pairwise_table(summary: dict, human: dict | None = None, lang: str | None = None) -> pd.DataFrame:
    """The A/B judge's outcomes per challenger arm (integer counts), the win rate ("–" and why, when nothing was
    won or lost), and with `human` the win rate with the human's picks in place of the judge's verdicts."""
    pairwise = (summary or {}).get("pairwise") or {}
    adjusted = (human or {}).get("pairwise") or {}
    rows = []
    for arm, counts in pairwise.get("arms", {}).items():
        row = {column_name("arm", lang): arm}
        for outcome in ("wins", "ties", "losses", "failed"):
            row[_named(f"eval.outcome.{outcome}", lang)] = int(counts.get(outcome) or 0)
        row[_named("eval.outcome.win_rate", lang)] = win_rate_text(counts, lang)
        if arm in adjusted:
            row[_named("eval.report.win_rate_human", lang)] = win_rate_text(adjusted[arm], lang)
            row[_named("eval.report.picks", lang)] = int(adjusted[arm]["picks"])
        rows.append(row)
    return pd.DataFrame(rows)


def win_rate_text(counts: dict, lang: str | None, short: bool = False, missing: str = "failed") -> str:
    """ "50% (1/2)"; "–" with the reason when no comparison was won or lost (all failed, or ties only).
    `missing`: what the uncompared rows were ("failed" judge calls, or rows "left_out" of a score)."""
    wins, ties, losses = (int(counts.get(k) or 0) for k in ("wins", "ties", "losses"))
    failed = int(counts.get("failed") or 0)
    if wins + losses == 0:
        if short:
            return "–"
        if lang is None:
            return f"{win_rate_text(counts, 'en', missing=missing)} / {win_rate_text(counts, 'zh', missing=missing)}"
        parts = [t("eval.report.n_ties", lang, count=ties)] if ties else []
        parts += [t(f"eval.report.only_{missing}", lang, count=failed)] if failed or not ties else []
        return t("eval.report.undecided", lang, parts=("，" if lang == "zh" else ", ").join(parts))
    rate = f"{wins / (wins + ties + losses):.0%}"
    return rate if short else f"{rate} ({wins}/{wins + ties + losses})"


def human_notes(human: dict | None, lang: str | None) -> list[str]:
    """One line per reviewed judge: Cohen's κ between the judge and the human, or why it is undefined."""
    lines = []
    for kind, key in (("judge_agreement", "eval.report.judge_kappa"), ("pairwise_agreement", "eval.report.pair_kappa")):
        found = (human or {}).get(kind)
        if found is not None:
            lines.append(_named(key, lang, message=found.message(lang or "en")) if lang else
                         f"{t(key, 'en', message=found.message('en'))} / {t(key, 'zh', message=found.message('zh'))}")
    return lines


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


def _named(key: str, lang: str | None, **values) -> str:
    """A UI string in `lang`, or "English / 中文" for the bilingual HTML file."""
    return t(key, lang, **values) if lang else f"{t(key, 'en', **values)} / {t(key, 'zh', **values)}"


def export_csv(ws, report_id: str, lang: str | None = None) -> bytes:
    """Every row (largest difference first) with answers, scores, judge reasons, A/B verdicts and human picks."""
    from .report_export import export_csv as build

    return build(ws, report_id, lang)


def export_html(ws, report_id: str, lang: str | None = None) -> str:
    """A standalone, offline HTML report in `lang` (None: "English / 中文" headers); every text is escaped."""
    from .report_export import export_html as build

    return build(ws, report_id, lang)


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


from .report_compare import compare_notes, compare_reports, compare_table  # noqa: E402,F401  (the page's names)
from .report_human import human_adjusted  # noqa: E402,F401
