"""The Datasets page on a 1M-row version: time to the first rows in a real browser, side by side.

    .venv/bin/python bench/dataset_page.py [--rows 1000000]

Builds (once, cached under bench/data/) a workspace holding a 1M-row dataset from the JSONL that
bench/import_validate_split.py generates, starts `streamlit run` on 127.0.0.1, and opens the page in
headless Chromium (Playwright) until the rows table is on screen: first as a new browser session on a
freshly started app (cold) and then as a second session (warm). Printed beside it: the server-side
work of one page (`browse.page`) and the naive way of showing a page (read the whole version with
pandas, take 50 rows), measured in this same run.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "data"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def build_workspace(rows: int) -> Path:
    from bench.import_validate_split import generate
    from workbench.data.read import read_file
    from workbench.workspace import Workspace

    root = DATA / f"workspace_{rows}"
    if root.exists() and Workspace(root).datasets():
        return root
    shutil.rmtree(root, ignore_errors=True)
    source = DATA / f"alpaca_v2_{rows}.jsonl"
    if not source.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        generate(rows, source)
    Workspace(root).create_dataset("bench", read_file(source).table, "import", {"source": source.name})
    return root


def server_side(root: Path) -> dict:
    import pandas as pd

    from workbench.data.browse import page
    from workbench.workspace import Workspace

    ws = Workspace(root)
    version = ws.version(ws.datasets()[0].id)
    start = time.perf_counter()
    rows, total = page(version.path, 0, 50)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    naive = pd.read_parquet(version.path).head(50)
    baseline = time.perf_counter() - start
    assert rows.num_rows == len(naive) == 50 and total == version.rows
    return {"rows": version.rows, "page": ours, "naive": baseline}


def _rows_on_screen(page) -> None:
    page.get_by_text("matching rows").first.wait_for(timeout=60_000)
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)


def browser_times(root: Path, port: int = 8611) -> dict:
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "WORKBENCH_WORKSPACE": str(root), "WORKBENCH_LANG": "en", "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            start = time.perf_counter()  # a new browser tab straight onto the page: loads the whole app too
            page.goto(f"http://127.0.0.1:{port}/datasets")
            _rows_on_screen(page)
            times = {"new_tab": time.perf_counter() - start, "navigate": []}
            for _ in range(3):  # what a user does in the app: Home -> Datasets in the sidebar
                page.get_by_role("link", name="Home").first.click()
                page.get_by_text("Get started").first.wait_for(timeout=60_000)
                page.wait_for_timeout(1000)
                start = time.perf_counter()
                page.get_by_role("link", name="Datasets").first.click()
                _rows_on_screen(page)
                times["navigate"].append(time.perf_counter() - start)
            browser.close()
        return times
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    root = build_workspace(args.rows)
    side = server_side(root)
    print(f"dataset: {side['rows']:,} rows in {root}")
    print(f"one page, server side : browse.page {side['page'] * 1000:7.1f} ms   "
          f"naive pandas read + head {side['naive'] * 1000:7.1f} ms   ratio {side['naive'] / side['page']:.0f}x")
    if not os.path.exists(CHROMIUM):
        print("chromium not installed: browser timing skipped")
        return
    times = browser_times(root)
    navigate = times["navigate"]
    print(f"Datasets page in Chromium, click in the sidebar -> first rows on screen: "
          f"{', '.join(f'{t:.2f}' for t in navigate)} s (first after app start, then warm; target <= 1.5 s)")
    print(f"  a new browser tab opened straight on the page (includes loading the app itself): {times['new_tab']:.2f} s")

if __name__ == "__main__":
    main()
