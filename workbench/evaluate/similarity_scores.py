"""Similarity rows of a report: each answer's cosine to its reference, next to its chance baseline.

E5 scores bunch together (unrelated Chinese pairs ≈ 0.70), so an arm's mean similarity means little alone: the
baseline is the same answers scored against the other rows' references (what a shuffled pairing would score),
and the lift is mean − baseline. Embeddings are cached in the workspace, so references are embedded once and a
re-run or resume embeds nothing new.
"""
from __future__ import annotations

import pandas as pd


def similarity_rows(ws, ok: pd.DataFrame, config) -> tuple[list[dict], dict]:
    """(score rows with metric "similarity", {"model", "label", "arms": {arm: {mean, baseline, lift, n}}})."""
    from ..embedding_cache import EmbeddingCache
    from .similarity import score_similarity

    rows_by_id = ok.drop_duplicates("row_id").set_index("row_id")["reference"]
    row_ids = list(rows_by_id.index)
    answers = {arm: group.set_index("row_id")["output"].reindex(row_ids).tolist()
               for arm, group in ok.groupby("arm", sort=False)}
    answers = {arm: [None if not isinstance(text, str) else text for text in texts] for arm, texts in answers.items()}
    result = score_similarity(rows_by_id.tolist(), answers, config.embedder,
                              cache=EmbeddingCache.for_workspace(ws))
    rows, arms = [], {}
    for arm, scored in result.arms.items():
        rows += [{"row_id": r, "arm": arm, "metric": "similarity", "value": s, "status": "ok",
                  "detail": f"chance {b:.3f}"} for r, s, b in zip(row_ids, scored.scores, scored.baselines)
                 if s is not None]
        if scored.mean is not None:
            arms[arm] = {"mean": scored.mean, "baseline": scored.baseline, "lift": scored.lift, "n": scored.n}
    return rows, {"model": result.model, "label": result.label, "arms": arms}
