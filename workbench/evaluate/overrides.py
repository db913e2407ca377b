"""Human review: an annotator's score or pairwise winner, kept in the catalog beside the judge's.

An override is keyed by (dataset_id, row_id, arm, metric), chosen so it survives re-running the
evaluation — a new inference job, a new judge job, a new dataset version:
- dataset_id: the dataset, not a version (a row keeps its `_id` across versions);
- row_id: the row's `_id`, as text;
- arm: what produced the answer — `arm_key(model id, system prompt)`: the model id alone, or with
  "+sys:<hash>" when the arm overrides the system prompt (prompt variants are separate arms);
  for a pairwise winner `pair_arm(arm_a, arm_b)`, the same whichever arm was shown first;
- metric: what was judged — `JudgeConfig.metric` ("judge:pointwise:judge_persona_style_zh"): the rubric
  id without its version and without the judge model, so a better judge or an edited rubric keeps them.
  Where no judge scored (a report of similarity/lexical scores only) the human still reviews: a score per answer
  under `HUMAN_SCORE` (on `HUMAN_SCALE`) and a pick per pair under `HUMAN_PICK` (`review_metrics`).

Agreement is Cohen's κ between judge and human over the items both scored. Scores are ordinal — a judge's
7 against a human's 8 is a near miss, 1 against 10 a full disagreement — so scores use quadratic-weighted
κ over the scale's points (0-1 scores binned to tenths); winners (arm A, arm B, tie) are nominal: plain κ.
"""
from __future__ import annotations

import hashlib
import math
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .judge_parse import SCALES, normalize_verdict
from .judge_strings import both, pair

PAIR_SEPARATOR = " vs "
TIE = "tie"
HUMAN_SCORE = "human:pointwise"  # a human score where no judge scored (no rubric: the annotator's own judgement)
HUMAN_PICK = "human:pairwise"    # a human pick of the better answer where no A/B judge compared
HUMAN_SCALE = "1-10"


def arm_key(model: str, system_prompt: str | None = None) -> str:
    """The arm's id: model id, plus a hash of the system prompt when the arm sets its own."""
    if not system_prompt:
        return model
    digest = hashlib.sha256(system_prompt.encode("utf-8")).hexdigest()[:12]
    return f"{model}+sys:{digest}"


def pair_arm(arm_a: str, arm_b: str) -> str:
    """Order-free id of a compared pair (A/B positions are swapped by the judge anyway)."""
    return PAIR_SEPARATOR.join(sorted((arm_a, arm_b)))


@dataclass(frozen=True)
class OverrideKey:
    dataset_id: str
    row_id: str
    arm: str
    metric: str

    def __post_init__(self):
        object.__setattr__(self, "row_id", str(self.row_id))  # rows' _id are ints in datasets, text here
        if not all(str(part).strip() for part in (self.dataset_id, self.row_id, self.arm, self.metric)):
            raise ValueError(both("override.bad_key"))


@dataclass(frozen=True)
class Override:
    key: OverrideKey
    score: float | None
    winner: str | None
    scale: str | None
    note: str
    updated_at: float

    @property
    def value(self) -> float | str:
        return self.score if self.score is not None else self.winner


def set_override(ws, key: OverrideKey, *, score: float | None = None, winner: str | None = None,
                 scale: str | None = None, note: str = "") -> Override:
    """Record (or replace) the human's score or winner for `key`; bad input raises a bilingual ValueError."""
    if (score is None) == (winner is None):
        raise ValueError(both("override.need_one"))
    if score is not None:
        score = _checked_score(score, scale)
    else:
        winner = _checked_winner(winner, key.arm)
    now = time.time()
    with ws.connect(write=True) as con:
        con.execute("INSERT OR REPLACE INTO overrides (dataset_id, row_id, arm, metric, score, winner, scale, note, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (key.dataset_id, key.row_id, key.arm, key.metric, score, winner, scale, note or "", now))
    return Override(key, score, winner, scale, note or "", now)


def clear_override(ws, key: OverrideKey) -> bool:
    """Remove the human's value (the judge's counts again); False when there was none."""
    with ws.connect(write=True) as con:
        cursor = con.execute("DELETE FROM overrides WHERE dataset_id=? AND row_id=? AND arm=? AND metric=?",
                             (key.dataset_id, key.row_id, key.arm, key.metric))
        return cursor.rowcount > 0


def overrides_for(ws, dataset_id: str, metric: str | None = None,
                  arms: Iterable[str] | None = None) -> dict[OverrideKey, Override]:
    """Every override of a dataset, optionally of one metric and some arms only."""
    sql, params = "SELECT * FROM overrides WHERE dataset_id=?", [dataset_id]
    if metric is not None:
        sql, params = sql + " AND metric=?", params + [metric]
    wanted = set(arms) if arms is not None else None
    found = {}
    with ws.connect() as con:
        for row in con.execute(sql + " ORDER BY updated_at", params):
            if wanted is not None and row["arm"] not in wanted:
                continue
            key = OverrideKey(row["dataset_id"], row["row_id"], row["arm"], row["metric"])
            found[key] = Override(key, row["score"], row["winner"], row["scale"], row["note"], row["updated_at"])
    return found


def review_metrics(judge=None, pairwise=None) -> tuple[str, str]:
    """(score metric, pick metric) a report's human review is stored under: the judges' when the report has them,
    else the judge-free `HUMAN_SCORE` / `HUMAN_PICK`, so a human can review a report that no LLM judged."""
    return (judge.metric if judge is not None else HUMAN_SCORE,
            pairwise.metric if pairwise is not None else HUMAN_PICK)


def pick_key(dataset_id: str, row_id, arm_a: str, arm_b: str, metric: str) -> OverrideKey:
    """The key of a human pick between two arms (arm keys) on a row, the same whichever arm is first."""
    return OverrideKey(dataset_id, str(row_id), pair_arm(arm_a, arm_b), metric)


def stored_scores(ws, dataset_id: str, metric: str, arms: Iterable[str]) -> dict[tuple[str, str], float]:
    """(row id, arm key) -> the human's score of `metric`, for the given arms."""
    found = overrides_for(ws, dataset_id, metric, arms)
    return {(k.row_id, k.arm): o.score for k, o in found.items() if o.score is not None}


def stored_winners(ws, dataset_id: str, metric: str) -> dict[tuple[str, str], str]:
    """(row id, pair of arm keys) -> the human's pick (an arm key or "tie") of `metric`."""
    return {(k.row_id, k.arm): o.winner for k, o in overrides_for(ws, dataset_id, metric).items() if o.winner}


def human_values(overrides: Mapping[OverrideKey, Override] | Iterable[Override]) -> dict[tuple[str, str], object]:
    """(row_id, arm) -> the human's score or winner, to set beside `judge_values`."""
    items = overrides.values() if isinstance(overrides, Mapping) else overrides
    return {(o.key.row_id, o.key.arm): o.value for o in items}


def judge_values(judgements: Iterable) -> dict[tuple[str, str], object]:
    """(row_id, arm) -> the judge's score (Judgement) or winner (PairJudgement); failed ones are left out."""
    values = {}
    for judgement in judgements:
        if judgement.status != "ok":
            continue
        if hasattr(judgement, "winner"):
            values[(str(judgement.row_id), pair_arm(judgement.arm_a, judgement.arm_b))] = judgement.winner
        else:
            values[(str(judgement.row_id), judgement.arm)] = judgement.score
    return values


# --- agreement ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Agreement:
    kappa: float | None  # None when undefined: fewer than 2 items, or a single value on both sides
    weights: str | None  # "quadratic" for scores, None (plain κ) for winners
    compared: int        # items with both a judge value and a human value
    overridden: int      # items the human set
    exact: float | None  # share of compared items where both say the same (scores after binning)

    def message(self, lang: str = "en") -> str:
        if self.kappa is None:
            return pair("override.agreement_undefined")[lang == "zh"]
        return pair("override.agreement", kappa=f"{self.kappa:.2f}", compared=self.compared,
                    overridden=self.overridden)[lang == "zh"]


def agreement(judge_scores: Mapping, human_scores: Mapping, scale: str | None = None) -> Agreement:
    """Cohen's κ between judge and human over the keys both have (see the module docstring for weighting)."""
    from sklearn.metrics import cohen_kappa_score

    keys = [k for k in human_scores if judge_scores.get(k) is not None and human_scores[k] is not None]
    judge, human = [judge_scores[k] for k in keys], [human_scores[k] for k in keys]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in judge + human)
    if numeric:
        judge, human = [_bin(v, scale) for v in judge], [_bin(v, scale) for v in human]
        labels, weights = _points(scale, judge + human), "quadratic"
    else:
        judge, human = [str(v) for v in judge], [str(v) for v in human]
        labels, weights = sorted(set(judge + human)), None
    exact = sum(a == b for a, b in zip(judge, human)) / len(keys) if keys else None
    kappa = None
    if len(keys) >= 2 and len(set(judge + human)) > 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a constant rater: κ is undefined, reported as None
            value = float(cohen_kappa_score(judge, human, labels=labels, weights=weights))
        kappa = value if math.isfinite(value) else None
    return Agreement(kappa, weights, len(keys), len(human_scores), exact)


def agreement_for(ws, dataset_id: str, metric: str, judgements: Iterable, scale: str | None = None) -> Agreement:
    """Agreement between a judge run's results and the human overrides stored for the same metric."""
    return agreement(judge_values(judgements), human_values(overrides_for(ws, dataset_id, metric)), scale)


# --- helpers --------------------------------------------------------------------------------------------
def _checked_score(score, scale: str | None) -> float:
    try:
        value = float(score)
    except (TypeError, ValueError):
        value = math.nan
    low, high = SCALES.get(scale or "", (-math.inf, math.inf))
    if isinstance(score, bool) or not math.isfinite(value) or not low <= value <= high:
        raise ValueError(both("override.bad_score", score=score, scale=scale or "?"))
    return value


def _checked_winner(winner: str, arm: str) -> str:
    """An arm of the pair, or "tie" ("平局" and "Tie" are read as a tie)."""
    arms = arm.split(PAIR_SEPARATOR)
    text = str(winner).strip()
    if text in arms:
        return text
    if normalize_verdict(text) == TIE:
        return TIE
    raise ValueError(both("override.bad_winner", winner=winner, arms=", ".join(arms)))


def _bin(value: float, scale: str | None) -> int:
    """Scores as integer categories: points of a 1-5/1-10 scale, tenths of a 0-1 scale (half rounds up)."""
    return math.floor(value * (10 if scale == "0-1" else 1) + 0.5)


def _points(scale: str | None, seen: list[int]) -> list[int]:
    if scale in SCALES:
        low, high = SCALES[scale]
        factor = 10 if scale == "0-1" else 1
        return list(range(int(low * factor), int(high * factor) + 1))
    return sorted(set(seen))
