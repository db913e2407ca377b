"""`evaluate CONFIG.yaml`, `evaluate before-after RUN`, `reports list|show|export|compare`: the Evaluate page's verbs."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def register(verbs) -> None:
    p = verbs.add_parser("evaluate", help="score an inference's answers (similarity, ROUGE/BLEU, accuracy, judge) "
                                          "into a report; or base vs tuned in one go",
                         description="evaluate CONFIG.yaml [--detach] | evaluate before-after RUN_ID [--split test] "
                                     "[--max-rows N] [--max-new-tokens N] [--classification auto|on|off] "
                                     "[--judge ENDPOINT]")
    p.add_argument("target", help="an evaluation config YAML, or before-after")
    p.add_argument("run", nargs="?", help="before-after: the run id")
    p.add_argument("--split", default="test", help="before-after: the split to answer (default test)")
    p.add_argument("--max-rows", type=int, help="before-after: only the first N rows")
    p.add_argument("--max-new-tokens", type=int,
                   help="before-after: longest answer in tokens (default: the inference default, 256); a label "
                        "classifier needs few")
    p.add_argument("--classification", choices=("auto", "on", "off"), default="auto",
                   help="before-after: accuracy, macro-F1 and a confusion matrix; auto = on when the references "
                        "look like labels (at least 4 rows)")
    p.add_argument("--judge", help="before-after: also score with this judge (endpoint name or local:<model>)")
    p.add_argument("--detach", action="store_true", help="start the job and return; follow it with `jobs list`")
    p.set_defaults(handler=_evaluate)
    r = verbs.add_parser("reports", help="evaluation reports: list, show, export (HTML/CSV), compare",
                         description="reports list | reports show ID | reports export ID [--html F] [--csv F] | "
                                     "reports compare A B")
    r.add_argument("action", choices=("list", "show", "export", "compare"))
    r.add_argument("ids", nargs="*", help="report id(s)")
    r.add_argument("--html", help="export: write a standalone HTML file")
    r.add_argument("--csv", help="export: write the side-by-side rows as CSV (UTF-8 with BOM)")
    r.set_defaults(handler=_reports)


def _evaluate(args, ws) -> int:
    from .. import jobs
    from ..infer.prompts import InferInputError
    from .config import read_config
    from .jobs import start_before_after, start_evaluation
    from .store import get_report

    try:
        if args.target == "before-after":
            if not args.run:
                print("before-after needs a run id / 需要训练记录 id", file=sys.stderr)
                return 2
            judge = None
            if args.judge:
                from .judge_config import JudgeConfig
                judge = JudgeConfig(judge=args.judge)
            tokens = {} if args.max_new_tokens is None else {"max_new_tokens": args.max_new_tokens}
            report_id, job_id = start_before_after(ws, args.run, args.split, args.max_rows, judge,
                                                   classification=args.classification, **tokens)
        else:
            try:
                config = read_config(args.target)  # its errors name the file and line
            except ValueError as error:
                print(error, file=sys.stderr)
                return 2
            report_id, job_id = start_evaluation(ws, config)
    except (KeyError, ValueError, InferInputError) as error:
        print(f"{args.target}: {error}", file=sys.stderr)
        return 2
    print(f"report {report_id}, job {job_id}")
    if args.detach:
        return 0
    info = jobs.follow(ws, job_id)
    print(info.state if info.state == "succeeded" else f"{info.state}: {info.error or info.message}")
    if info.state != "succeeded":
        return 1
    _print_classification(get_report(ws, report_id).summary, args.lang)
    return 0


def _print_classification(summary: dict, lang: str) -> None:
    """Accuracy, macro-F1 and the confusion matrix per arm, or why auto mode left classification off."""
    from .report import classification_figures, confusion_table

    if summary.get("classification_off"):
        print(summary["classification_off"])
    figures = classification_figures(summary, lang).to_dict("records")
    for row, result in zip(figures, (summary.get("classification") or {}).values()):
        arm = row.pop("arm")
        print(f"{arm}: " + " · ".join(f"{name} {value}" for name, value in row.items()))
        print(confusion_table(result, lang).to_string())


def _reports(args, ws) -> int:
    from .report import (compare_notes, compare_reports, compare_table, export_csv, export_html, human_adjusted,
                         human_notes, localized, pairwise_table, summary_table)
    from .store import get_report, list_reports

    needed = {"list": 0, "show": 1, "export": 1, "compare": 2}[args.action]
    if len(args.ids) != needed:
        print(f"reports {args.action} needs {needed} id(s) / 需要 {needed} 个报告 id", file=sys.stderr)
        return 2
    try:
        if args.action == "list":
            for info in list_reports(ws):
                print(f"{info.id}  {info.state:<11} {info.name}")
        elif args.action == "show":
            info = get_report(ws, args.ids[0])
            print(f"{info.name} ({info.state})")
            human = human_adjusted(ws, info.id) if info.summary.get("arms") else None
            print(localized(summary_table(info.summary, human, args.lang), args.lang).to_string(index=False))
            if info.summary.get("pairwise"):
                print(pairwise_table(info.summary, human, args.lang).to_string(index=False))
            for line in human_notes(human, args.lang):
                print(line)
            _print_classification(info.summary, args.lang)
            print(json.dumps({k: v for k, v in info.summary.items() if k not in ("arms", "classification")},
                             ensure_ascii=False, indent=1, default=str))
        elif args.action == "export":
            if not (args.html or args.csv):
                print("export needs --html and/or --csv / 请指定 --html 或 --csv", file=sys.stderr)
                return 2
            for path, content in ((args.html, lambda: export_html(ws, args.ids[0], args.lang).encode("utf-8")),
                                  (args.csv, lambda: export_csv(ws, args.ids[0], args.lang))):
                if path:
                    try:
                        _write(Path(path), content())
                    except OSError as error:
                        print(f"{path}: cannot write the file: {error.strerror or error} / 无法写入文件",
                              file=sys.stderr)
                        return 2
                    print(f"wrote {path}")
        else:
            diff = compare_reports(ws, *args.ids)
            if diff["metrics"].empty:
                print(_nothing_to_compare(diff["arms"], *args.ids), file=sys.stderr)
                return 2
            for line in compare_notes(diff, args.lang):
                print(line)
            print(compare_table(diff, args.lang).to_string(index=False))
    except KeyError as error:
        print(error, file=sys.stderr)
        return 2
    return 0


def _write(path: Path, content: bytes) -> None:
    """Write an export, creating its folder first (as `export` does)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def _nothing_to_compare(arms: dict[str, list[str]], first: str, second: str) -> str:
    """Why two reports have no metric change to show: no arm in common (say which each has), or no shared metric."""
    a, b = ", ".join(arms["A"]) or "—", ", ".join(arms["B"]) or "—"
    if set(arms["A"]) & set(arms["B"]):
        return (f"reports {first} and {second} have no metric scored on the same arm / "
                f"报告 {first} 和 {second} 没有在同一对比项上计算过的相同指标")
    return (f"reports {first} and {second} share no arm: A ({first}) has {a}; B ({second}) has {b} / "
            f"报告 {first} 和 {second} 没有相同的对比项：A（{first}）为 {a}；B（{second}）为 {b}")
