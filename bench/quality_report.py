"""Quality report (exact + near duplicates, leakage, languages, lengths) on N rows: Workbench vs the
plain datasketch loop (MinHash per row with `update_batch`, then MinHashLSH insert + query), side by side.

    .venv/bin/python bench/quality_report.py [--rows 100000] [--baseline-rows 100000]

Rows come from huanhuan: instruction and output of different rows (mostly distinct), every third
row English from a word list, every tenth an exact copy of an earlier row and every tenth (offset 5)
an earlier row with two characters changed; split 70/15/15. Both sides use character 3-grams,
128 permutations and threshold 0.8; the baseline only finds near-duplicate pairs.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HUANHUAN = ROOT.parent / "shared" / "data" / "huanhuan.json"
WORDS = ("the model should answer politely and explain each step of the reasoning before it gives "
         "a short final answer about the weather travel cooking history science music and code").split()


def generate(rows: int, seed: int = 0) -> pa.Table:
    source = json.loads(HUANHUAN.read_text(encoding="utf-8"))
    rng = random.Random(seed)
    instructions, outputs = [], []
    for i in range(rows):
        if i % 10 == 0 and i:
            j = rng.randrange(i)
            instruction, output = instructions[j], outputs[j]
        elif i % 10 == 5:
            j = rng.randrange(i)
            chars = list(outputs[j])
            for _ in range(2):
                chars[rng.randrange(len(chars))] = rng.choice("的了是我你他她它们这那")
            instruction, output = instructions[j], "".join(chars)
        elif i % 3 == 2:
            instruction = " ".join(rng.choices(WORDS, k=12)) + "?"
            output = " ".join(rng.choices(WORDS, k=40)) + "."
        else:
            instruction = source[rng.randrange(len(source))]["instruction"]
            output = source[rng.randrange(len(source))]["output"]
        instructions.append(instruction)
        outputs.append(output)
    from workbench.data.split import SplitConfig, split_table

    table = pa.table({"_id": np.arange(rows, dtype=np.int64), "instruction": instructions,
                      "input": [""] * rows, "output": outputs})
    return split_table(table, SplitConfig(seed=42))


def ours(table: pa.Table, max_tokens: int | None) -> dict:
    from workbench.data.quality import quality_report

    start = time.perf_counter()
    report = quality_report(table, label_field=None, max_tokens=max_tokens)
    return {**report.summary(), "seconds": time.perf_counter() - start, "steps": report.seconds}


def baseline(table: pa.Table) -> dict:
    """Near-duplicate pairs the way datasketch's docs show it: one MinHash per row, LSH insert + query
    (with the same recall-tilted bands as ours)."""
    from datasketch import MinHash, MinHashLSH

    from workbench.data.near_duplicates import RECALL_WEIGHTS, shingles

    start = time.perf_counter()
    texts = [f"{a}\x00{b}\x00{c}" for a, b, c in zip(*(table.column(n).to_pylist() for n in ("instruction", "input", "output")))]
    sketches = MinHash.bulk([[s.encode("utf-8") for s in shingles(t)] for t in texts], num_perm=128)
    lsh = MinHashLSH(threshold=0.8, num_perm=128, weights=RECALL_WEIGHTS)
    with lsh.insertion_session() as session:
        for key, sketch in enumerate(sketches):
            session.insert(key, sketch, check_duplication=False)
    pairs = sum(len(lsh.query(sketch)) - 1 for sketch in sketches) // 2
    return {"seconds": time.perf_counter() - start, "candidate_pairs": pairs}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=None, help="rows for the baseline (default: --rows; 0 skips it)")
    parser.add_argument("--max-chars", type=int, default=None, help="also check lengths (characters)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of ours; the fastest is shown")
    args = parser.parse_args()
    table = generate(args.rows)
    chars = sum(len(text) for name in ("instruction", "output") for text in table.column(name).to_pylist())
    print(f"{args.rows:,} rows, {chars / args.rows:.0f} characters a row on average")
    ours(table.slice(0, 100), None)  # imports (datasketch pulls in scipy: ~1 s) are not the report's time
    result = min((ours(table, args.max_chars) for _ in range(args.repeat)), key=lambda r: r["seconds"])
    print(f"ours      {args.rows:>9,} rows: {result['seconds']:.2f} s  steps {result['steps']}")
    print(f"          exact dup rows {result['exact_duplicate_rows']:,}, near dup rows {result['near_duplicate_rows']:,}, "
          f"leaked {result['leaked_rows']:,}, languages {result['languages']}")
    rows = args.rows if args.baseline_rows is None else args.baseline_rows
    if rows:
        other = baseline(table.slice(0, rows))
        print(f"datasketch {rows:>8,} rows: {other['seconds']:.2f} s (near-duplicate pairs only)")
        if rows == args.rows:
            print(f"ratio: {other['seconds'] / result['seconds']:.1f}x")


if __name__ == "__main__":
    main()
