"""Every score of a report: per (row, arm, metric) values in scores.parquet, per arm summaries in summary.json.

Failed answers are never scored (they are counted as failed per arm); a failed judge call is recorded and left
out of the averages; similarity is reported next to its chance baseline and the lift over it.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from ..infer.results import read_outputs
from ..storage import atomic_path
from .judge import Judgement, JudgeItem, PairItem, PairJudgement
from .overrides import arm_key

LEXICAL = ("rouge-1", "rouge-2", "rouge-l", "bleu-4")


def answers(ws, inference) -> pd.DataFrame:
    """The inference's answers (one row per dataset row x arm) with the override key of each arm."""
    frame = read_outputs(ws, inference.id)
    # pandas' string dtype reads a missing system prompt as NaN (truthy), not None
    frame["arm_key"] = [arm_key(m, s if isinstance(s, str) and s else None)
                        for m, s in zip(frame["model"], frame["system_prompt"])]
    return frame


def arm_keys_of(frame: pd.DataFrame) -> dict[str, str]:
    """Arm label -> its override key, from `answers`' frame."""
    return frame.drop_duplicates("arm").set_index("arm")["arm_key"].to_dict()


def _ok(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["status"] == "ok"]


def judge_items(ws, config, inference) -> list[JudgeItem]:
    """One pointwise item per answered (row, arm); the rubric's shared variables come from the judge config."""
    return [JudgeItem(row.row_id, row.arm, row.prompt or "", row.output or "", row.reference or "")
            for row in _ok(answers(ws, inference)).itertuples()]


def baseline_arm(config, inference) -> str:
    return config.baseline_arm or inference.config.arms[0].label


def pair_items(ws, config, inference) -> list[PairItem]:
    """Every other arm against the baseline arm, for rows both answered."""
    frame = _ok(answers(ws, inference))
    base = baseline_arm(config, inference)
    by_arm = {arm: group.set_index("row_id") for arm, group in frame.groupby("arm", sort=False)}
    if base not in by_arm:
        return []
    items = []
    for arm in [a.label for a in inference.config.arms if a.label != base and a.label in by_arm]:
        both = by_arm[base].join(by_arm[arm], lsuffix="_a", rsuffix="_b", how="inner")
        items += [PairItem(row_id, base, arm, row.prompt_a or "", row.output_a or "", row.output_b or "",
                           row.reference_a or "") for row_id, row in both.iterrows()]
    return items


def write_scores(folder, scores: pd.DataFrame) -> None:
    with atomic_path(folder / "scores.parquet") as tmp:
        scores.to_parquet(tmp, index=False)


def read_scores(folder) -> pd.DataFrame:
    path = folder / "scores.parquet"
    if not path.exists():
        return pd.DataFrame(columns=["row_id", "arm", "metric", "value", "status", "detail"])
    return pd.read_parquet(path)


def judge_scores(log) -> pd.DataFrame:
    """The pointwise judge log as score rows (failed ones kept, with no value)."""
    rows = [Judgement.from_record(r) for r in log.done().values()]
    return pd.DataFrame([{"row_id": j.row_id, "arm": j.arm, "metric": "judge", "value": j.score, "status": j.status,
                          "detail": j.reason if j.status == "ok" else " — ".join(filter(None, (j.error, j.raw)))} for j in rows],
                        columns=["row_id", "arm", "metric", "value", "status", "detail"])


def pair_verdicts(log) -> list[PairJudgement]:
    return [PairJudgement.from_record(r) for r in log.done().values()]


def baseline_verdicts(log, baseline: str) -> dict[tuple[str, str], PairJudgement]:
    """(row id, challenger arm) -> the A/B judge's verdict on `baseline` against that arm."""
    return {(str(v.row_id), v.arm_b): v for v in pair_verdicts(log) if v.arm_a == baseline}


def finite(values) -> list[float]:
    return [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]


Progress = Callable[[str], None]


def _mean(values, config) -> dict:
    from .stats import mean_ci

    ci = mean_ci(values, resamples=config.bootstrap, seed=config.seed)
    return {"mean": ci.mean, "low": ci.low, "high": ci.high, "n": ci.n, "excluded": ci.excluded}


def _lexical(ok: pd.DataFrame) -> list[dict]:
    from .lexical import lexical_scores

    rows = []
    for row in ok.itertuples():
        scores = lexical_scores(row.output, row.reference)
        for metric in LEXICAL:
            rows.append({"row_id": row.row_id, "arm": row.arm, "metric": metric,
                         "value": None if scores is None else scores[metric],
                         "status": "ok" if scores is not None else "skipped", "detail": ""})
    return rows


def _classification(ok: pd.DataFrame, frame: pd.DataFrame, config) -> tuple[list[dict], dict | None, str | None]:
    """Exact-match rows and per-arm results, or no results and why auto mode left classification off."""
    from .classification import classification_report, not_labels_reason

    references = frame.drop_duplicates("row_id")["reference"].tolist()
    if config.classification == "off":
        return [], None, None
    reason = not_labels_reason(references) if config.classification == "auto" else None
    if reason:
        return [], None, reason
    rows, reports = [], {}
    labels = sorted({r for r in references if isinstance(r, str) and r.strip()})
    for arm, group in frame.groupby("arm", sort=False):
        predictions = [o if s == "ok" else None for o, s in zip(group["output"], group["status"])]
        report = classification_report(predictions, group["reference"].tolist(), labels=labels or None)
        reports[arm] = {"accuracy": report.accuracy, "macro_f1": report.macro_f1, "labels": report.labels,
                        "columns": report.columns, "confusion": report.confusion, "n": report.n,
                        "excluded": report.excluded, "other": report.other}
        rows += [{"row_id": r, "arm": arm, "metric": "exact", "value": None if m is None else float(m),
                  "status": "ok" if m is not None else "skipped", "detail": ""}
                 for r, m in zip(group["row_id"], report.matches)]
    return rows, reports, None


def _pairwise(verdicts: list[PairJudgement], base: str) -> dict:
    """Per challenger arm: wins, losses and ties against the baseline arm (failed verdicts counted apart)."""
    arms: dict[str, dict] = {}
    for verdict in verdicts:
        counts = arms.setdefault(verdict.arm_b, {"wins": 0, "losses": 0, "ties": 0, "failed": 0})
        if verdict.status != "ok":
            counts["failed"] += 1
        elif verdict.winner == "tie":
            counts["ties"] += 1
        else:
            counts["wins" if verdict.winner == verdict.arm_b else "losses"] += 1
    for counts in arms.values():
        judged = counts["wins"] + counts["losses"] + counts["ties"]
        counts["win_rate"] = counts["wins"] / judged if judged else None
    return {"baseline": base, "arms": arms}


def score_report(ws, report, config, inference, judged: bool = False, progress: Progress = print) -> dict:
    """Compute every score, write scores.parquet, and return the summary (see module docstring)."""
    from .similarity_scores import similarity_rows
    from .stats import win_rates

    frame = answers(ws, inference)
    ok = _ok(frame)
    has_reference = frame["reference"].fillna("").astype(str).str.strip().ne("").any()
    rows: list[dict] = []
    summary: dict = {"inference": inference.id, "dataset": inference.dataset_ref, "split": inference.split,
                     "rows": int(frame["row_id"].nunique()), "baseline_arm": baseline_arm(config, inference),
                     "has_reference": bool(has_reference), "arms": {}, "notes": []}
    if not has_reference and (config.lexical or config.similarity):
        summary["notes"].append("no reference answers: similarity and ROUGE/BLEU are off, judge only / "
                                "没有参考答案：相似度和 ROUGE/BLEU 已关闭，仅可使用模型评审")
    if has_reference and config.lexical:
        progress("lexical metrics (ROUGE/BLEU) / 计算词面指标（ROUGE/BLEU）")
        rows += _lexical(ok)
    classification = None
    if has_reference:
        extra, classification, reason = _classification(ok, frame, config)
        rows += extra
        if reason:
            summary["classification_off"] = reason
    if has_reference and config.similarity:
        progress(f"similarity with {config.embedder} / 用 {config.embedder} 计算相似度")
        extra, summary["similarity"] = similarity_rows(ws, ok, config)
        rows += extra
    if config.judge is not None:
        rows += judge_scores(report.judge_log).to_dict("records")
        summary["judge"] = {"judge": config.judge.judge, "rubric": config.judge.rubric_ref,
                            "metric": config.judge.metric}
    if config.pairwise is not None:
        summary["pairwise"] = _pairwise(pair_verdicts(report.pairwise_log), summary["baseline_arm"])
        summary["pairwise"]["judge"] = config.pairwise.judge
    scores = pd.DataFrame(rows, columns=["row_id", "arm", "metric", "value", "status", "detail"])
    scores["row_id"] = scores["row_id"].astype(str)
    write_scores(report.folder, scores)
    summary["classification"] = classification
    summary["answers"] = {arm: {"model": g["model"].iloc[0], "ok": int((g["status"] == "ok").sum()),
                                "failed": int((g["status"] == "failed").sum()),
                                "pending": int((g["status"] == "pending").sum())}
                          for arm, g in frame.groupby("arm", sort=False)}
    arms = list(summary["answers"])
    summary["metrics"] = list(dict.fromkeys(scores["metric"]))
    summary["win_rates"] = {}
    for metric in summary["metrics"]:
        table = scores[scores["metric"] == metric].pivot_table(index="row_id", columns="arm", values="value",
                                                               aggfunc="first", dropna=False)
        for arm in arms:
            values = table[arm].tolist() if arm in table else []
            summary["arms"].setdefault(arm, {})[metric] = _mean(values, config)
        full = table.reindex(columns=arms)
        if len(arms) > 1 and summary["baseline_arm"] in arms:
            summary["win_rates"][metric] = [
                {"arm": w.arm, "other": w.other, "wins": w.wins, "ties": w.ties, "losses": w.losses,
                 "win_rate": w.win_rate, "excluded": w.excluded}
                for w in win_rates({a: full[a].tolist() for a in arms}, baseline=summary["baseline_arm"])]
    return summary
