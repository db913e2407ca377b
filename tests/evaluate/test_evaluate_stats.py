"""Bootstrap intervals, win rates and Cohen's κ, with missing values left out and counted."""
import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from workbench.evaluate.stats import bootstrap_means, cohen_kappa, mean_ci, present, win_rate, win_rates


def test_mean_ci_excludes_missing_and_is_seeded():
    """None and NaN are left out (and counted); the same seed gives the same interval, around the mean."""
    values = [0.2, None, 0.4, float("nan"), 0.9, 0.5, 0.7, 0.1, 0.6]
    ci = mean_ci(values, seed=3)
    data = np.array([0.2, 0.4, 0.9, 0.5, 0.7, 0.1, 0.6])
    assert (ci.n, ci.excluded) == (7, 2)
    assert ci.mean == pytest.approx(data.mean())
    assert ci.low < ci.mean < ci.high
    assert mean_ci(values, seed=3) == ci
    spread = list(np.random.default_rng(0).random(40))
    assert mean_ci(spread, seed=4) != mean_ci(spread, seed=5)


def test_bootstrap_interval_covers_like_the_normal_approximation():
    """For 400 normal values the percentile interval is close to mean ± 1.96 standard errors."""
    data = np.random.default_rng(0).normal(5.0, 2.0, 400)
    ci = mean_ci(list(data), resamples=5000, seed=1)
    half = 1.96 * data.std(ddof=1) / math.sqrt(len(data))
    assert ci.low == pytest.approx(data.mean() - half, abs=0.05)
    assert ci.high == pytest.approx(data.mean() + half, abs=0.05)
    narrower = mean_ci(list(data), confidence=0.5, resamples=5000, seed=1)
    assert ci.low < narrower.low < narrower.high < ci.high


def test_bootstrap_chunks_give_the_same_draws(monkeypatch):
    """Chunking the resamples (to bound memory) does not change the result for a given seed."""
    import workbench.evaluate.stats as stats

    data = np.arange(50, dtype=float)
    whole = bootstrap_means(data, 300, seed=7)
    monkeypatch.setattr(stats, "BOOTSTRAP_CHUNK", 50 * 7)  # 7 resamples per chunk
    chunked = stats.bootstrap_means(data, 300, seed=7)
    assert whole.shape == chunked.shape == (300,)
    assert np.allclose(np.sort(whole), np.sort(chunked), atol=3)  # same distribution
    assert abs(whole.mean() - chunked.mean()) < 1.5


def test_edge_cases():
    """No value: everything None; one value: a zero-width interval; invalid confidence is refused."""
    empty = mean_ci([None, float("nan")])
    assert empty.mean is None and empty.low is None and (empty.n, empty.excluded) == (0, 2)
    single = mean_ci([None, 0.5])
    assert (single.mean, single.low, single.high, single.n) == (0.5, 0.5, 0.5, 1)
    with pytest.raises(ValueError):
        mean_ci([1, 2], confidence=95)
    assert present([1, None, np.nan, 0])[1] == 2


def test_win_rate_counts_ties_separately_and_skips_missing_rows():
    """Wins, ties and losses row by row; a row missing on either side is excluded."""
    tuned = [0.9, 0.5, 0.7, None, 0.3, 0.8]
    base = [0.6, 0.5, 0.9, 0.4, None, 0.2]
    result = win_rate("tuned", tuned, "base", base)
    assert (result.wins, result.ties, result.losses, result.excluded, result.n) == (2, 1, 1, 2, 4)
    assert result.win_rate == pytest.approx(0.5) and result.tie_rate == pytest.approx(0.25)
    assert result.loss_rate == pytest.approx(0.25)
    loose = win_rate("tuned", tuned, "base", base, tolerance=0.25)
    assert (loose.wins, loose.ties, loose.losses) == (2, 2, 0)
    lower = win_rate("tuned", tuned, "base", base, higher_is_better=False)
    assert (lower.wins, lower.losses) == (1, 2)
    assert win_rate("a", [None], "b", [1.0]).win_rate is None


def test_win_rates_against_a_baseline_and_all_pairs():
    scores = {"base": [1, 2, 3], "tuned": [2, 2, 4], "prompt": [0, 2, 3]}
    against = win_rates(scores, baseline="base")
    assert [(r.arm, r.other, r.wins, r.ties, r.losses) for r in against] == [("tuned", "base", 2, 1, 0),
                                                                            ("prompt", "base", 0, 2, 1)]
    assert [(r.arm, r.other) for r in win_rates(scores)] == [("base", "tuned"), ("base", "prompt"),
                                                            ("tuned", "prompt")]
    with pytest.raises(ValueError):
        win_rates(scores, baseline="nope")


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_kappa_agrees_with_sklearn(weights):
    """On random 1-10 ratings, with and without weights, κ equals sklearn's cohen_kappa_score."""
    rng = np.random.default_rng(11)
    judge = rng.integers(1, 11, 200)
    human = np.clip(judge + rng.integers(-2, 3, 200), 1, 10)
    ours = cohen_kappa(list(judge), list(human), weights=weights)
    assert ours.kappa == pytest.approx(cohen_kappa_score(judge, human, weights=weights), abs=1e-12)
    assert ours.n == 200 and ours.excluded == 0


def test_kappa_textbook_example_and_missing_values():
    """Wikipedia's example (20 yes-yes, 15 no-no, 5 + 10 disagreements: κ = 0.4); None pairs are excluded."""
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b).kappa == pytest.approx(0.4)
    result = cohen_kappa(a + [None, "yes"], b + ["no", float("nan")])
    assert result.kappa == pytest.approx(0.4) and (result.n, result.excluded) == (50, 2)
    assert cohen_kappa(a, b, labels=["no", "yes"]).kappa == pytest.approx(
        cohen_kappa_score(a, b, labels=["no", "yes"]))


def test_kappa_undefined_cases():
    """Both raters always give the same single category: κ is undefined (None), not 1 or NaN."""
    assert cohen_kappa(["A", "A"], ["A", "A"]).kappa is None
    assert cohen_kappa([None], ["A"]).kappa is None and cohen_kappa([], []).n == 0
    with pytest.raises(ValueError):
        cohen_kappa(["A"], ["A"], weights="cubic")
