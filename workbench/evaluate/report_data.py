"""What reading a report takes from disk — the inference's answers and the report's scores — kept while the files
are unchanged, so a page render, its review sections and both exports read each file once, not once per section.

Keyed by the file's path, modification time and size: a re-run, a resumed inference or a new judge pass writes the
file and the next read sees it. Each caller gets its own copy (callers add columns and change types).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from . import scoring

KEPT = 8  # frames kept: a page shows one report (and compares it with one other); more is memory for nothing
_kept: OrderedDict[tuple, tuple[tuple, pd.DataFrame]] = OrderedDict()
_lock = threading.Lock()  # Streamlit renders sessions and builds deferred downloads on other threads


def report_answers(ws, inference) -> pd.DataFrame:
    """`scoring.answers` of the inference (one row per dataset row x arm), read again only when its files change."""
    folder = Path(inference.folder)
    return _read(("answers", str(folder.resolve())), _stamp(folder / "rows.jsonl", folder / "outputs.jsonl"),
                 lambda: scoring.answers(ws, inference))


def report_scores(folder) -> pd.DataFrame:
    """`scoring.read_scores` of a report folder (scores.parquet), read again only when the file changes."""
    path = Path(folder) / "scores.parquet"
    return _read(("scores", str(path.resolve())), _stamp(path), lambda: scoring.read_scores(folder))


def _stamp(*paths: Path) -> tuple:
    found = []
    for path in paths:
        try:
            status = path.stat()
        except FileNotFoundError:
            found.append(None)
        else:
            found.append((status.st_mtime_ns, status.st_size))
    return tuple(found)


def _read(key: tuple, stamp: tuple, load: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    with _lock:
        kept = _kept.get(key)
        if kept is not None and kept[0] == stamp:
            _kept.move_to_end(key)
            return kept[1].copy()
    frame = load()  # stamped before reading: a file written meanwhile has a new stamp and is read again next time
    with _lock:
        _kept[key] = (stamp, frame)
        _kept.move_to_end(key)
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return frame.copy()
