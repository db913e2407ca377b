"""By-hand speed check for read_file on ~1M JSONL rows (not a test; timings depend on the machine).

    .venv/bin/python bench/read_speed.py [--rows 1000000] [--repeat 3] [--keep]

Writes the JSONL of bench/import_validate_split.py (huanhuan rows, every third English) into a temp
folder, then prints read_file's time next to bare `pyarrow.json.read_json` on the same file.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.import_validate_split import generate  # noqa: E402  (the same data as the import bench)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the generated file and print its path")
    args = parser.parse_args()
    import pyarrow as pa
    import pyarrow.json as pj

    from workbench.data.read import read_file

    folder = Path(tempfile.mkdtemp(prefix="perf-read-"))
    path = folder / "rows.jsonl"
    generate(args.rows, path)
    print(f"{args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB, {pa.cpu_count()} CPU threads")
    for attempt in range(args.repeat):
        start = time.perf_counter()
        table = pj.read_json(path, read_options=pj.ReadOptions(block_size=16 << 20))
        bare = time.perf_counter() - start
        start = time.perf_counter()
        result = read_file(path)
        ours = time.perf_counter() - start
        assert result.table.num_rows == table.num_rows == args.rows and not result.problems
        print(f"run {attempt + 1}: read_file {ours:.2f} s   bare pyarrow read_json {bare:.2f} s")
    if args.keep:
        print(path)
    else:
        path.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
