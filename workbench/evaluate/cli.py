"""`evaluate CONFIG.yaml`, `evaluate before-after RUN`, `reports list|show|export|compare`: the Evaluate page's verbs."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def register(verbs) -> None:
    p = verbs.add_parser("evaluate", help="score an inference's answers (similarity, ROUGE/BLEU, accuracy, judge) "
                                          "into a report; or base vs tuned in one go",
                         description="evaluate CONFIG.yaml [--detach] | evaluate before-after RUN_ID [--split test] "
                                     "[--max-rows N] [--judge ENDPOINT]")
    p.add_argument("target", help="an evaluation config YAML, or before-after")
    p.add_argument("run", nargs="?", help="before-after: the run id")
    p.add_argument("--split", default="test", help="before-after: the split to answer (default test)")
    p.add_argument("--max-rows", type=int, help="before-after: only the first N rows")
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
    from .config import from_yaml
    from .jobs import start_before_after, start_evaluation

    try:
        if args.target == "before-after":
            if not args.run:
                print("before-after needs a run id / 需要训练记录 id", file=sys.stderr)
                return 2
            judge = None
            if args.judge:
                from .judge_config import JudgeConfig
                judge = JudgeConfig(judge=args.judge)
            report_id, job_id = start_before_after(ws, args.run, args.split, args.max_rows, judge)
        else:
            report_id, job_id = start_evaluation(ws, from_yaml(Path(args.target).read_text(encoding="utf-8")))
    except OSError as error:
        print(f"{args.target}: cannot read the file: {error} / 无法读取文件", file=sys.stderr)
        return 2
    except (KeyError, ValueError, InferInputError) as error:
        print(f"{args.target}: {error.args[0] if isinstance(error, KeyError) else error}", file=sys.stderr)
        return 2
    print(f"report {report_id}, job {job_id}")
    if args.detach:
        return 0
    info = jobs.follow(ws, job_id)
    print(info.state if info.state == "succeeded" else f"{info.state}: {info.error or info.message}")
    return 0 if info.state == "succeeded" else 1


def _reports(args, ws) -> int:
    from .report import compare_reports, export_csv, export_html, summary_table
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
            print(summary_table(info.summary).to_string(index=False))
            print(json.dumps({k: v for k, v in info.summary.items() if k not in ("arms",)}, ensure_ascii=False,
                             indent=1, default=str))
        elif args.action == "export":
            if not (args.html or args.csv):
                print("export needs --html and/or --csv / 请指定 --html 或 --csv", file=sys.stderr)
                return 2
            if args.html:
                Path(args.html).write_text(export_html(ws, args.ids[0]), encoding="utf-8")
                print(f"wrote {args.html}")
            if args.csv:
                Path(args.csv).write_bytes(export_csv(ws, args.ids[0]))
                print(f"wrote {args.csv}")
        else:
            diff = compare_reports(ws, *args.ids)
            print(diff["metrics"].to_string(index=False))
            print(json.dumps(diff["data"], ensure_ascii=False))
    except KeyError as error:
        print(error.args[0], file=sys.stderr)
        return 2
    return 0
