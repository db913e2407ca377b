"""ROUGE-1/2/L and BLEU-4 of answers against references, x100, per row and averaged over rows.

The convention is LLaMA-Factory's (src/llamafactory/train/sft/metric.py, `ComputeSimilarity`):
- ROUGE: both texts segmented with jieba (whitespace tokens dropped), F1 of ROUGE-1, ROUGE-2 and ROUGE-L.
  LLaMA-Factory scores the segmented texts with rouge-chinese; we use rouge-score's scorer on the same tokens.
  They agree except where rouge-chinese departs from the standard definition: it counts each distinct n-gram
  once and takes a summary-level LCS over sentences; rouge-score clips repeated n-grams and takes the LCS of the
  whole text (Lin 2004), so texts that repeat words or hold several sentences can differ slightly.
- BLEU-4: nltk's `sentence_bleu` over characters (`list(text)`, spaces included) with `SmoothingFunction().method3`
  (NIST geometric smoothing) — LLaMA-Factory's exact call, so a candidate sharing no character scores 0.
- Each row is scored on its own and the corpus figure is the mean of the rows (not corpus-level BLEU).

Rows: a blank candidate ("" or whitespace) scores 0 on every metric, like LLaMA-Factory; a missing candidate
(None: the generation failed) or a blank reference cannot be scored and gets None, left out of the averages
and counted. Texts are cleaned first (bytes decoded as UTF-8 with replacement, lone surrogates and NULs
replaced, ends stripped), so odd text never raises.
"""
from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

METRICS = ("rouge-1", "rouge-2", "rouge-l", "bleu-4")
_ROUGE_KEYS = {"rouge1": "rouge-1", "rouge2": "rouge-2", "rougeL": "rouge-l"}


@dataclass(frozen=True)
class LexicalSummary:
    means: dict[str, float | None]   # metric -> mean over the scored rows (x100); None when no row was scored
    n: int                           # rows scored
    excluded: int                    # rows left out: failed candidate or blank reference


def clean_text(value) -> str | None:
    """The text to score, or None for a missing value (None, NaN). Never raises on odd input."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", errors="replace")
    elif not isinstance(value, str):
        value = str(value)
    # Lone surrogates (text decoded with surrogateescape) cannot be encoded; NUL confuses C tokenizers.
    value = value.encode("utf-8", errors="replace").decode("utf-8")
    return value.replace("\x00", " ").strip()


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it logs its dictionary loading at INFO on first use
    return jieba


def segment(text: str) -> list[str]:
    """jieba words of `text` without whitespace tokens (what rouge-chinese sees after `" ".join(...).split()`)."""
    return [word for word in _jieba().lcut(text) if word.strip()]


class _JiebaTokenizer:
    """rouge-score's tokenizer interface (`tokenize(text) -> list[str]`) over jieba; keeps case and punctuation."""

    def tokenize(self, text: str) -> list[str]:
        return segment(text)


@lru_cache(maxsize=1)
def _rouge_scorer():
    from rouge_score.rouge_scorer import RougeScorer

    return RougeScorer(list(_ROUGE_KEYS), tokenizer=_JiebaTokenizer())


def rouge_scores(candidate: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2/L F1 x100 of two cleaned texts; 0 when either has no word (rouge-score's own rule)."""
    scores = _rouge_scorer().score(reference, candidate)  # rouge-score takes (target, prediction)
    return {name: scores[key].fmeasure * 100 for key, name in _ROUGE_KEYS.items()}


def bleu4(candidate: str, reference: str) -> float:
    """Character BLEU-4 x100 with NIST smoothing (nltk method3), LLaMA-Factory's call; 0 for a blank side."""
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    if not candidate or not reference:
        return 0.0
    with warnings.catch_warnings():  # nltk warns about zero n-gram counts that the smoothing handles
        warnings.simplefilter("ignore")
        return float(sentence_bleu([list(reference)], list(candidate),
                                   smoothing_function=SmoothingFunction().method3)) * 100


def lexical_scores(candidate, reference) -> dict[str, float] | None:
    """{metric: score x100} for one pair, or None when it cannot be scored (failed candidate, blank reference)."""
    candidate, reference = clean_text(candidate), clean_text(reference)
    if candidate is None or not reference:
        return None
    if not candidate:
        return {name: 0.0 for name in METRICS}
    return {**rouge_scores(candidate, reference), "bleu-4": bleu4(candidate, reference)}


def score_pairs(candidates: Sequence, references: Sequence) -> list[dict[str, float] | None]:
    """`lexical_scores` of each (candidate, reference) pair, in order."""
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates but {len(references)} references / 候选与参考数量不一致")
    return [lexical_scores(c, r) for c, r in zip(candidates, references)]


def summarize(rows: Iterable[dict[str, float] | None]) -> LexicalSummary:
    """Mean of each metric over the scored rows (LLaMA-Factory's average of sentence scores)."""
    rows = list(rows)
    scored = [row for row in rows if row is not None]
    means = {name: (sum(row[name] for row in scored) / len(scored) if scored else None) for name in METRICS}
    return LexicalSummary(means, len(scored), len(rows) - len(scored))
