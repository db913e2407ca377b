"""The judge's figures with the human's overrides applied: pointwise means (human score where there is one, else
the judge's) and A/B outcomes (human pick where there is one, else the judge's verdict), with Cohen's κ between
the two. Only overrides of this report's rows count; the judge-only figures stay in the summary as they are."""
from __future__ import annotations

from ..infer.store import get_inference
from .overrides import agreement, pair_arm, stored_scores, stored_winners
from .report_data import report_answers, report_scores
from .scoring import arm_keys_of, baseline_verdicts
from .stats import mean_ci
from .store import get_report


def human_adjusted(ws, report_id: str) -> dict:
    """{"judge": {arm: mean/low/high/n/excluded/overrides} | None, "judge_agreement": Agreement | None,
    "pairwise": {arm: wins/ties/losses/failed/win_rate/picks} | None, "pairwise_agreement": Agreement | None}."""
    report = get_report(ws, report_id)
    config, inference = report.config, get_inference(ws, report.config.inference)
    frame = report_answers(ws, inference)
    frame["row_id"] = frame["row_id"].astype(str)
    keys = arm_keys_of(frame)
    result = {"judge": None, "judge_agreement": None, "pairwise": None, "pairwise_agreement": None}
    if config.judge is not None:
        result.update(_pointwise(ws, report, config, inference.dataset_id, frame, keys))
    if config.pairwise is not None and report.summary.get("pairwise"):
        result.update(_pairwise(ws, report, config, inference.dataset_id, frame, keys))
    return result


def _scale(ws, report, config) -> str | None:
    from .judge_config import rubric_and_scale

    try:
        return rubric_and_scale(ws, config.judge)[1]
    except (ValueError, KeyError, OSError):
        return report.summary.get("judge", {}).get("scale")


def _pointwise(ws, report, config, dataset_id: str, frame, keys: dict[str, str]) -> dict:
    scores = report_scores(report.folder)
    scores = scores[scores["metric"] == "judge"].copy()
    scores["row_id"] = scores["row_id"].astype(str)
    judged = {(r.row_id, r.arm): r.value for r in scores.itertuples() if r.status == "ok"}
    human = stored_scores(ws, dataset_id, config.judge.metric, keys.values())
    arms, judge_by_key, human_by_key = {}, {}, {}
    for arm, group in frame.groupby("arm", sort=False):
        values, overridden = [], 0
        for row_id in group.loc[group["status"] == "ok", "row_id"]:
            mine = human.get((row_id, keys[arm]))
            value = judged.get((row_id, arm))
            if value is not None:
                judge_by_key[(row_id, keys[arm])] = value
            if mine is not None:
                human_by_key[(row_id, keys[arm])] = mine
                overridden += 1
            values.append(mine if mine is not None else value)
        ci = mean_ci(values, resamples=config.bootstrap, seed=config.seed)
        arms[arm] = {"mean": ci.mean, "low": ci.low, "high": ci.high, "n": ci.n, "excluded": ci.excluded,
                     "overrides": overridden}
    found = agreement(judge_by_key, human_by_key, _scale(ws, report, config)) if human_by_key else None
    return {"judge": arms, "judge_agreement": found}


def _pairwise(ws, report, config, dataset_id: str, frame, keys: dict[str, str]) -> dict:
    """Per challenger arm against the baseline: the judge's outcomes with the human's picks in their place."""
    baseline = report.summary["pairwise"]["baseline"]
    picks = stored_winners(ws, dataset_id, config.pairwise.metric)
    verdicts = baseline_verdicts(report.pairwise_log, baseline)
    ok = frame[frame["status"] == "ok"]
    answered = {arm: set(group["row_id"]) for arm, group in ok.groupby("arm", sort=False)}
    arms, judge_by_key, human_by_key = {}, {}, {}
    for arm in report.summary["pairwise"].get("arms", {}):
        pair = pair_arm(keys.get(baseline, baseline), keys.get(arm, arm))
        rows = answered.get(arm, set()) & answered.get(baseline, set())
        counts = {"wins": 0, "ties": 0, "losses": 0, "failed": 0, "picks": 0}
        for row_id in sorted(rows | {row for row, a in verdicts if a == arm}):
            verdict, pick = verdicts.get((row_id, arm)), picks.get((row_id, pair))
            judge = keys.get(verdict.winner, verdict.winner) if verdict and verdict.status == "ok" else None
            if judge is not None:
                judge_by_key[(row_id, pair)] = judge
            if pick is not None:
                human_by_key[(row_id, pair)] = pick
                counts["picks"] += 1
            winner = pick if pick is not None else judge
            if winner is None:
                counts["failed"] += verdict is not None  # not judged yet (no verdict, no pick): not counted
            elif winner == "tie":
                counts["ties"] += 1
            else:
                counts["wins" if winner == keys.get(arm, arm) else "losses"] += 1
        judged = counts["wins"] + counts["ties"] + counts["losses"]
        arms[arm] = {**counts, "win_rate": counts["wins"] / judged if judged else None}
    found = agreement(judge_by_key, human_by_key) if human_by_key else None
    return {"pairwise": arms, "pairwise_agreement": found}
