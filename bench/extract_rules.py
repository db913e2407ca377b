"""Rule-mode extraction of ~10 MB of mixed Chinese/English FAQ text: Workbench vs a line-by-line loop.

    .venv/bin/python bench/extract_rules.py [--mb 10] [--repeat 3]

Generates a Markdown file (bench/data/, git-ignored) from huanhuan's rows: questions and answers in
the four shapes the presets read (问：/答：, Q:/A:, "## question" sections, numbered "1. …？"), a third
in English, between noise paragraphs and notes with colons. The generator keeps the true pairs, so
both sides are also scored (precision / coverage). Target from the product issue: <= 5 s for 10 MB.
Baseline: the usual hand-written approach — a Python loop over lines, a regex match per line and a
small state machine for the same four shapes.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HUANHUAN = ROOT.parent / "shared" / "data" / "huanhuan.json"
DATA = ROOT / "bench" / "data"
WORDS = ("the app keeps your notes in plain files and syncs them between devices when you ask it to with a "
         "short delay so that every change is saved safely before the next one starts").split()


def generate(megabytes: float, path: Path) -> list[dict]:
    """Write the document; return the pairs it holds.

    Laid out as an FAQ page would be: numbering restarts in every chapter, answers are statements (no "?"),
    and the noise after a "## question" section sits under its own (non-question) heading.
    """
    rows = json.loads(HUANHUAN.read_text(encoding="utf-8"))
    answers = [r["output"].strip() for r in rows if r["output"].strip() and not re.search(r"[?？]", r["output"])]
    rng = random.Random(0)
    expected, parts, size, number = [], [], 0, 0
    while size < megabytes * 1_000_000:
        number += 1
        if number % 3 == 0:
            question = " ".join(rng.choices(WORDS, k=rng.randint(5, 12))).capitalize() + f" ({number})?"
            answer = " ".join(rng.choices(WORDS, k=rng.randint(12, 40))).capitalize() + "."
        else:
            question = rows[number % len(rows)]["instruction"].strip().rstrip("。！.？?") + f"（{number}）？"
            answer = answers[number % len(answers)]
        shape, label = number % 4, number % 50 + 1
        if number % 50 == 0:
            parts.append(f"# 第 {number // 50} 章\n\n")
        if shape == 0:
            block = f"问：{question}\n答：{answer}\n" if number % 3 else f"Q: {question}\nA: {answer}\n"
        elif shape == 1:
            block = f"## {question}\n\n{answer}\n\n### 说明 {number}\n"
        elif shape == 2:
            block = f"{label}. {question}\n{answer}\n"
        else:
            block = f"{label}、{question} {answer}\n"
        noise = rows[(number * 7) % len(rows)]["output"]
        if number % 5 == 0:
            noise += f"\n注意：第 {number} 条说明仅供参考。Note: see section {number}."
        chunk = f"{block}\n{noise}\n\n"
        parts.append(chunk)
        size += len(chunk.encode("utf-8"))
        expected.append({"question": question, "answer": answer})
    DATA.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(parts), encoding="utf-8")
    return expected


# --- the baseline: a line loop -------------------------------------------------------------------------
Q_LINE = re.compile(r"^\s*(?:问题?|Q(?:uestion)?)\s*\d*\s*[:：]\s*(.*)$", re.I)
A_LINE = re.compile(r"^\s*(?:答案?|A(?:nswer)?)\s*\d*\s*[:：]\s*(.*)$", re.I)
HEADING = re.compile(r"^#{2,3}\s+(.+?)\s*$")
NUMBERED = re.compile(r"^\s*(?:\d{1,4}[.、)]|[（(]\d{1,3}[）)]|Q\d{1,3}\.?)\s*(.*[?？])\s*(.*)$")


def baseline(path: Path) -> list[tuple[str, str]]:
    pairs, question, answer, mode = [], None, [], None

    def flush():
        nonlocal question, answer, mode
        if question and answer:
            pairs.append((question, "\n".join(answer).strip()))
        question, answer, mode = None, [], None

    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if not line.strip():
                if mode == "answer" or (mode == "heading" and answer):
                    flush()
                continue
            match = Q_LINE.match(line)
            if match:
                flush()
                question, mode = match.group(1).strip(), "question"
                continue
            match = A_LINE.match(line)
            if match and question is not None and mode == "question":
                answer, mode = [match.group(1).strip()], "answer"
                continue
            match = HEADING.match(line)
            if match:
                flush()
                if match.group(1).endswith(("?", "？")):  # only question headings start a pair
                    question, mode = match.group(1), "heading"
                continue
            match = NUMBERED.match(line)
            if match:
                flush()
                question, mode = match.group(1), "answer"
                answer = [match.group(2)] if match.group(2) else []
                continue
            if mode in ("answer", "heading") and question is not None:
                answer.append(line)
            elif mode == "question":  # text before the answer marker: not a pair
                flush()
    flush()
    return pairs


def ours(path: Path, preset: str):
    from workbench.extract import Rule, extract_pairs, read_path

    started = time.perf_counter()
    document = read_path(path)
    read_seconds = time.perf_counter() - started
    result = extract_pairs([document], Rule(preset=preset))
    return result.pairs, read_seconds, time.perf_counter() - started


def best_of(repeat: int, function, *args):
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = function(*args)
        times.append(time.perf_counter() - started)
    return value, min(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from workbench.extract import score_extraction

    path = DATA / f"extract_faq_{args.mb:g}mb.md"
    expected = generate(args.mb, path)
    megabytes = path.stat().st_size / 1e6
    print(f"{path.name}: {megabytes:.1f} MB, {len(expected):,} true pairs (4 shapes, a third English)")

    (pairs, read_s, _), low, high = best_of(args.repeat, ours, path, "auto")
    base, base_low, base_high = best_of(args.repeat, baseline, path)
    ours_score = score_extraction(pairs, expected).summary()
    base_score = score_extraction(base, expected).summary()
    header = f"time (best..worst of {args.repeat})"
    print(f"{'':28}{header:>28}{'pairs':>10}{'precision':>11}{'coverage':>10}")
    print(f"{'workbench rules, preset auto':28}{f'{low:.2f}..{high:.2f} s':>28}{len(pairs):>10,}"
          f"{ours_score['precision']:>11.3f}{ours_score['coverage']:>10.3f}   (read+decode {read_s:.2f} s)")
    print(f"{'line-by-line Python loop':28}{f'{base_low:.2f}..{base_high:.2f} s':>28}{len(base):>10,}"
          f"{base_score['precision']:>11.3f}{base_score['coverage']:>10.3f}")
    faster, slower = ("workbench", "the loop") if low < base_low else ("the loop", "workbench")
    print(f"ratio: {faster} is {max(low, base_low) / min(low, base_low):.1f}x faster than {slower}; "
          f"target <= 5 s for 10 MB: {'met' if low * 10 / megabytes <= 5 else 'NOT met'} "
          f"({low / megabytes * 10:.2f} s per 10 MB)")
    for preset in ("qa_colon", "faq_headings", "numbered"):
        (found, _, _), low_one, _ = best_of(1, ours, path, preset)
        print(f"  preset {preset:13} {low_one:.2f} s, {len(found):,} pairs")
    fixture_quality()


def fixture_quality() -> None:
    """The same two extractors on the test fixture: known pairs among realistic noise (zh + en)."""
    from workbench.extract import Rule, extract_pairs, read_sources, score_extraction

    folder = ROOT / "tests" / "extract" / "fixtures"
    expected = [json.loads(line) for line in (folder / "expected.jsonl").read_text(encoding="utf-8").splitlines()]
    paths = [folder / "faq_zh.md", folder / "faq_en.txt"]
    found = extract_pairs(read_sources(paths).documents, Rule(preset="auto")).pairs
    looped = [pair for path in paths for pair in baseline(path)]
    for label, pairs in (("workbench rules, preset auto", found), ("line-by-line Python loop", looped)):
        score = score_extraction(pairs, expected).summary()
        print(f"fixture ({score['expected']} known pairs in noise): {label:28} precision {score['precision']:.3f}, "
              f"coverage {score['coverage']:.3f} ({score['found']} found)")


if __name__ == "__main__":
    main()
