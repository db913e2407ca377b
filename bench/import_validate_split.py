"""Import + validate + split 1M Alpaca rows: Workbench vs plain pandas, side by side in one run.

    .venv/bin/python bench/import_validate_split.py [--rows 1000000]

Generates ~230 MB of JSONL from huanhuan (a third of the rows English), then runs each pipeline in
its own subprocess (so peak RSS is its own) and prints time, peak RSS and the ratio.
Baseline: pandas.read_json(lines=True) + a Python loop with the same checks + DataFrame.sample split.
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HUANHUAN = ROOT.parent / "shared" / "data" / "huanhuan.json"
DATA = ROOT / "bench" / "data"
WORDS = ("the model should answer politely and explain each step of the reasoning before it gives "
         "a short final answer about the weather travel cooking history science music and code").split()


def generate(rows: int, path: Path) -> None:
    """huanhuan rows (every fifth with one history turn); every third row English from a word list."""
    source = json.loads(HUANHUAN.read_text(encoding="utf-8"))
    rng = random.Random(0)
    with open(path, "w", encoding="utf-8") as out:
        for i in range(rows):
            a, b = source[i % len(source)], source[(i * 7 + 3) % len(source)]
            if i % 3 == 2:
                row = {"instruction": " ".join(rng.choices(WORDS, k=12)) + "?", "input": "",
                       "output": " ".join(rng.choices(WORDS, k=40)) + "."}
            else:
                row = {"instruction": a["instruction"], "input": a["input"], "output": a["output"]}
                if i % 5 == 0:  # some multi-turn rows so the history checks have work to do
                    row["history"] = [[b["instruction"], b["output"]]]
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def ours(path: str) -> dict:
    from workbench.data.read import read_file
    from workbench.data.split import SplitConfig, split_table
    from workbench.data.validate import validate_table

    start = time.perf_counter()
    table = read_file(path).table
    read_done = time.perf_counter()
    report = validate_table(table, "alpaca")
    validate_done = time.perf_counter()
    table = split_table(table, SplitConfig(seed=42))
    end = time.perf_counter()
    return {"rows": table.num_rows, "errors": int(len(report.error_rows)), "seconds": end - start,
            "read": read_done - start, "validate": validate_done - read_done, "split": end - validate_done}


def baseline(path: str) -> dict:
    import pandas as pd

    start = time.perf_counter()
    frame = pd.read_json(path, lines=True, dtype=False)
    errors = 0
    for row in frame.itertuples(index=False):  # the same checks, one row at a time
        bad = False
        for name in ("instruction", "output"):
            value = getattr(row, name)
            bad |= not isinstance(value, str) or not value.strip()
        bad |= not isinstance(row.input, str)
        history = row.history if isinstance(row.history, list) else []  # absent in most rows (NaN)
        bad |= not isinstance(history, list) or any(
            not (isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)) for p in history)
        errors += bad
    train = frame.sample(frac=0.7, random_state=42)
    rest = frame.drop(train.index)
    validation = rest.sample(frac=0.5, random_state=42)
    rest.drop(validation.index)
    return {"rows": len(frame), "errors": errors, "seconds": time.perf_counter() - start}


def run_child(which: str, path: Path) -> dict:
    output = subprocess.run([sys.executable, __file__, "--child", which, str(path)], capture_output=True,
                            text=True, check=True, cwd=ROOT).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        result = {"ours": ours, "baseline": baseline}[args.child[0]](args.child[1])
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"alpaca_v2_{args.rows}.jsonl"
    if not path.exists():
        generate(args.rows, path)
    print(f"data: {path} ({path.stat().st_size / 1e6:.0f} MB, {args.rows:,} rows)")
    results = {name: run_child(name, path) for name in ("ours", "baseline")}
    for name, result in results.items():
        extra = "" if name == "baseline" else (
            f"  (read {result['read']:.2f} s, validate {result['validate']:.2f} s, split {result['split']:.2f} s)")
        print(f"{name:9s} {result['seconds']:6.2f} s  peak RSS {result['peak_rss_mb']:6.0f} MB"
              f"  rows {result['rows']:,}  rows with errors {result['errors']}{extra}")
    ratio = results["baseline"]["seconds"] / results["ours"]["seconds"]
    print(f"speed-up: {ratio:.1f}x   (target: >= 5x, ours <= 3 s and <= 1 GB)")


if __name__ == "__main__":
    main()
