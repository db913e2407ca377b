"""The product's outcome on CPU: train on huanhuan's train split, then base vs tuned on its held-out test split.

    .venv/bin/python bench/outcome.py [--steps 100] [--rows 100] [--judge ENDPOINT]
                                      [--workspace /tmp/outcome-ws] [--max-new-tokens 64]

Everything goes through the product's own paths, as the Train and Evaluate pages do: import + split
huanhuan (the default 70/15/15 split), a LoRA run on the train split (`start_training`), then "before/after" in
one click (`start_before_after`: base model and tuned run answer the first N test rows, then
similarity next to its chance baseline, ROUGE/BLEU with jieba, and a persona-style LLM judge).
Prints each arm's mean with its 95% bootstrap interval, whether the intervals overlap, and the
compute time of each stage. A judge call that fails or gives no parsable score is left out of the
judge average (and counted as failed).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HUANHUAN = ROOT.parent / "shared" / "data" / "huanhuan.json"
PERSONA = "甄嬛，《甄嬛传》中的莞嫔、熹贵妃：说话端庄、含蓄、有宫廷礼数，自称“本宫”或“臣妾”。"
METRICS = ("similarity", "rouge-1", "rouge-l", "bleu-4", "judge")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", help="workspace folder (default: a new temporary one)")
    parser.add_argument("--model", default="smollm2-135m-instruct", help="base model id")
    parser.add_argument("--steps", type=int, default=100, help="LoRA optimizer steps (batch 8)")
    parser.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    parser.add_argument("--rows", type=int, default=100, help="test rows answered and scored")
    parser.add_argument("--max-new-tokens", type=int, default=64, help="answer length cap")
    parser.add_argument("--judge", default="none",
                        help="persona-style judge: a saved endpoint's name or local:<model>; 'none' (default) = no "
                             "judge (the bundled 135M model repeats the prompt instead of scoring)")
    parser.add_argument("--judge-tokens", type=int, default=160, help="judge answer length cap (reason + JSON)")
    return parser.parse_args(argv)


def prepare(folder: Path) -> None:
    from workbench.cli import main

    for argv in (["import", str(HUANHUAN), "--name", "huanhuan"], ["split", "huanhuan"]):
        if main(["--workspace", str(folder), *argv]) not in (0, None):
            raise SystemExit(f"could not {argv[0]} huanhuan")


def train(ws, args):
    from workbench import jobs
    from workbench.train.config import TrainConfig
    from workbench.train.jobs import start_training

    config = TrainConfig(dataset="huanhuan", base_model=args.model, max_steps=args.steps, learning_rate=args.lr,
                         batch_size=8, eval_split=None, eval_steps=0, save_steps=50, name="outcome")
    run, job_id = start_training(ws, config)
    info = jobs.follow(ws, job_id, print, poll=5.0)
    if info.state != "succeeded":
        raise SystemExit(f"training {info.state}:\n{info.log_tail(40)}")
    return run


def judge_config(args):
    from workbench.evaluate.judge_config import JudgeConfig

    if args.judge == "none":
        return None
    return JudgeConfig(judge=args.judge, rubric="judge_persona_style_zh", variables={"persona": PERSONA},
                       max_new_tokens=args.judge_tokens)


def before_after(ws, run, args) -> dict:
    from workbench import jobs
    from workbench.evaluate.jobs import start_before_after
    from workbench.evaluate.store import get_report

    report_id, job_id = start_before_after(ws, run.id, "test", args.rows, judge_config(args),
                                           max_new_tokens=args.max_new_tokens)
    info = jobs.follow(ws, job_id, print, poll=5.0)
    if info.state != "succeeded":
        raise SystemExit(f"before/after {info.state}:\n{info.log_tail(40)}")
    return {"id": report_id, **get_report(ws, report_id).summary}


def overlap(a: dict, b: dict) -> bool:
    return not (a["low"] > b["high"] or b["low"] > a["high"])


def table(summary: dict) -> list[str]:
    arms = summary["arms"]
    lines = [f"{'metric':<16}" + "".join(f"{arm:>28}" for arm in arms) + "   95% intervals overlap?"]
    for metric in METRICS:
        cells = [arms[arm].get(metric) for arm in arms]
        if any(not isinstance(c, dict) or c.get("mean") is None for c in cells):
            continue
        text = "".join(f"{c['mean']:>9.3f} [{c['low']:.3f}, {c['high']:.3f}] n={c['n']:<3}"
                       + (f" ({c['excluded']} failed)" if c.get("excluded") else "") for c in cells)
        lines.append(f"{metric:<16}{text}   {'yes' if overlap(*cells[:2]) else 'no'}")
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    from workbench.workspace import Workspace

    folder = Path(args.workspace) if args.workspace else Path(tempfile.mkdtemp(prefix="outcome-ws-"))
    timings = {}
    start = time.perf_counter()
    prepare(folder)
    ws = Workspace(folder)
    timings["import + split"] = time.perf_counter() - start
    start = time.perf_counter()
    run = train(ws, args)
    timings[f"train ({args.steps} steps)"] = time.perf_counter() - start
    start = time.perf_counter()
    summary = before_after(ws, run, args)
    timings[f"answer {args.rows} test rows x 2 + score"] = time.perf_counter() - start
    print(f"\nworkspace {folder}, run {run.id}, report {summary['id']}, dataset {summary['dataset']}, "
          f"split {summary['split']}, rows {summary['rows']}")
    print("\n".join(table(summary)))
    for arm, sim in (summary.get("similarity") or {}).get("arms", {}).items():
        print(f"similarity {arm}: {sim['mean']:.3f}, chance baseline {sim['baseline']:.3f}, lift {sim['lift']:+.3f}")
    for note in summary.get("notes", []):
        print("note:", note)
    for stage, seconds in timings.items():
        print(f"{stage:<40} {seconds:8.1f} s")
    print(f"{'total compute':<40} {sum(timings.values()):8.1f} s")
    print(json.dumps({"arms": summary["arms"], "timings": timings}, ensure_ascii=False, default=str)[:4000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
