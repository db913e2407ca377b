"""Summary statistics of per-row scores: mean with a bootstrap confidence interval, pairwise win rates and
Cohen's κ. Missing values (None, NaN: a failed generation or judge call) are left out explicitly and every
result says how many values it used and how many it left out.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

BOOTSTRAP_CHUNK = 4_000_000  # resampled values held in memory at once (32 MB of float64)


@dataclass(frozen=True)
class MeanCI:
    mean: float | None      # None when no value was present
    low: float | None       # percentile bootstrap interval; equals the mean for a single value
    high: float | None
    n: int                  # values used
    excluded: int           # values left out (None / NaN)
    confidence: float = 0.95


@dataclass(frozen=True)
class WinRate:
    arm: str
    other: str
    wins: int               # rows where `arm` scored higher than `other` (by more than the tolerance)
    ties: int
    losses: int
    excluded: int           # rows where either score is missing

    @property
    def n(self) -> int:
        return self.wins + self.ties + self.losses

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.n if self.n else None

    @property
    def tie_rate(self) -> float | None:
        return self.ties / self.n if self.n else None

    @property
    def loss_rate(self) -> float | None:
        return self.losses / self.n if self.n else None


@dataclass(frozen=True)
class Kappa:
    kappa: float | None     # None when undefined: no pair, or both raters used one single category
    n: int                  # pairs used
    excluded: int           # pairs where either rating is missing
    weights: str | None = None


def is_missing(value) -> bool:
    """None or NaN: a value that was not produced, as opposed to a score of 0."""
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value))


def present(values: Sequence) -> tuple[np.ndarray, int]:
    """(the non-missing values as float64, how many were missing)."""
    kept = [float(v) for v in values if not is_missing(v)]
    return np.asarray(kept, dtype=np.float64), len(values) - len(kept)


def mean_ci(values: Sequence, confidence: float = 0.95, resamples: int = 1000, seed: int = 0) -> MeanCI:
    """Mean and percentile-bootstrap interval over the present values; seeded, so a report is reproducible."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1 / 置信水平必须在 0 与 1 之间")
    data, excluded = present(values)
    n = len(data)
    if n == 0:
        return MeanCI(None, None, None, 0, excluded, confidence)
    mean = float(data.mean())
    if n == 1 or resamples < 1:
        return MeanCI(mean, mean, mean, n, excluded, confidence)
    means = bootstrap_means(data, resamples, seed)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return MeanCI(mean, float(low), float(high), n, excluded, confidence)


def bootstrap_means(data: np.ndarray, resamples: int, seed: int = 0) -> np.ndarray:
    """Means of `resamples` resamples with replacement, drawn in chunks so memory stays bounded."""
    rng = np.random.default_rng(seed)
    n = len(data)
    per_chunk = max(1, BOOTSTRAP_CHUNK // n)
    means = []
    for start in range(0, resamples, per_chunk):
        rows = min(per_chunk, resamples - start)
        means.append(data[rng.integers(0, n, size=(rows, n))].mean(axis=1))
    return np.concatenate(means)


def win_rate(arm: str, scores: Sequence, other: str, other_scores: Sequence, tolerance: float = 0.0,
             higher_is_better: bool = True) -> WinRate:
    """Row-by-row comparison of two arms' scores; |difference| <= tolerance is a tie."""
    if len(scores) != len(other_scores):
        raise ValueError(f"{arm} has {len(scores)} scores but {other} has {len(other_scores)} / 两组分数数量不一致")
    both = [(float(a), float(b)) for a, b in zip(scores, other_scores) if not is_missing(a) and not is_missing(b)]
    difference = np.array([a - b for a, b in both], dtype=np.float64)
    if not higher_is_better:
        difference = -difference
    wins, losses = int((difference > tolerance).sum()), int((difference < -tolerance).sum())
    return WinRate(arm, other, wins, len(both) - wins - losses, losses, len(scores) - len(both))


def win_rates(scores_by_arm: Mapping[str, Sequence], baseline: str | None = None, tolerance: float = 0.0,
              higher_is_better: bool = True) -> list[WinRate]:
    """Every arm against `baseline` (each other arm vs it), or every pair in the mapping's order when None."""
    arms = list(scores_by_arm)
    if baseline is not None:
        if baseline not in scores_by_arm:
            raise ValueError(f"unknown baseline arm '{baseline}' / 未知的基准：{baseline}")
        pairs = [(arm, baseline) for arm in arms if arm != baseline]
    else:
        pairs = list(combinations(arms, 2))
    return [win_rate(a, scores_by_arm[a], b, scores_by_arm[b], tolerance, higher_is_better) for a, b in pairs]


def cohen_kappa(ratings_a: Sequence, ratings_b: Sequence, labels: Sequence | None = None,
                weights: str | None = None) -> Kappa:
    """Cohen's κ between two raters over the items both rated (sklearn's definition, also its weighted forms).

    `weights`: None (nominal categories), "linear" or "quadratic" (ordinal scores; categories in `labels` order,
    default sorted)."""
    if weights not in (None, "linear", "quadratic"):
        raise ValueError("weights must be None, 'linear' or 'quadratic' / weights 只能是 None、linear 或 quadratic")
    if len(ratings_a) != len(ratings_b):
        raise ValueError(f"{len(ratings_a)} ratings against {len(ratings_b)} / 两组评分数量不一致")
    both = [(a, b) for a, b in zip(ratings_a, ratings_b) if not is_missing(a) and not is_missing(b)]
    excluded = len(ratings_a) - len(both)
    categories = list(labels) if labels is not None else _sorted({x for pair in both for x in pair})
    index = {category: i for i, category in enumerate(categories)}
    both = [(a, b) for a, b in both if a in index and b in index]  # sklearn also ignores ratings outside labels
    if not both:
        return Kappa(None, 0, excluded, weights)
    k = len(categories)
    observed = np.zeros((k, k))
    np.add.at(observed, ([index[a] for a, _ in both], [index[b] for _, b in both]), 1)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    distance = np.abs(np.subtract.outer(np.arange(k), np.arange(k))).astype(np.float64)
    penalty = {None: (distance > 0).astype(np.float64), "linear": distance, "quadratic": distance ** 2}[weights]
    chance = float((penalty * expected).sum())
    kappa = None if chance == 0 else 1 - float((penalty * observed).sum()) / chance
    return Kappa(kappa, len(both), excluded, weights)


def _sorted(values: set) -> list:
    try:
        return sorted(values)
    except TypeError:  # mixed kinds (3 and "3"): any fixed order will do for nominal categories
        return sorted(values, key=lambda value: (type(value).__name__, str(value)))
