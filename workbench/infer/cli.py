"""`python -m workbench infer config.yaml [--detach]`, `infer list`, `infer show ID [--csv out.csv]`, `infer template`."""
from __future__ import annotations

import json
import sys

ACTIONS = ("list", "show", "template")


def register(verbs) -> None:
    p = verbs.add_parser("infer", help="batch inference over several models (a background job); list, show, template",
                         description="infer CONFIG.yaml [--detach] | infer list | infer show ID [--csv FILE] | "
                                     "infer template [--dataset D] [--model M ...]")
    p.add_argument("target", help="a config YAML to run, or one of: list, show, template")
    p.add_argument("inference", nargs="?", help="inference id (for show)")
    p.add_argument("--detach", action="store_true", help="start the job and return; follow it with `jobs list`")
    p.add_argument("--csv", help="show: write every (arm, row) output to this CSV file (UTF-8 with BOM)")
    p.add_argument("--dataset", default="DATASET", help="template: the dataset id")
    p.add_argument("--model", action="append", help="template: a model or endpoint per arm (repeat)")
    p.set_defaults(handler=_infer)


def _infer(args, ws) -> int:
    if args.target == "list":
        return _list(ws)
    if args.target == "show":
        if not args.inference:
            print("infer show needs an inference id / 需要推理记录 id", file=sys.stderr)
            return 2
        return _show(ws, args.inference, args.csv)
    if args.target == "template":
        return _template(args)
    return _run(ws, args.target, args.detach)


def _run(ws, path: str, detach: bool) -> int:
    from .. import jobs
    from .config import read_config
    from .jobs import start_inference
    from .prompts import InferInputError

    try:
        config = read_config(path)  # its errors name the file and line
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        inference_id, job_id = start_inference(ws, config)
    except (KeyError, ValueError, InferInputError) as error:
        print("\n".join(f"{path}: {line}" for line in str(error).splitlines()), file=sys.stderr)
        return 2
    print(f"inference {inference_id}, job {job_id}")
    if detach:
        return 0
    info = jobs.follow(ws, job_id, lambda message: print(message, flush=True))
    print(f"{info.state}: {json.dumps(info.result or {'error': info.error}, ensure_ascii=False)}")
    return 0 if info.state == "succeeded" else 1


def _list(ws) -> int:
    from .store import list_inferences

    for info in list_inferences(ws):
        summary = info.summary
        counts = f"ok={summary.get('ok', '-')} failed={summary.get('failed', '-')}" if summary else "-"
        arms = ", ".join(arm.label for arm in info.config.arms)
        print(f"{info.id}  {info.state:<11} {info.dataset_ref}:{info.split or 'all'}  [{arms}]  {counts}  {info.name}")
    return 0


def _show(ws, inference_id: str, csv_path: str | None) -> int:
    from .results import inference_summary, read_outputs
    from .store import get_inference

    info = get_inference(ws, inference_id)
    print(json.dumps({"id": info.id, "name": info.name, "state": info.state, "dataset": info.dataset_ref,
                      "split": info.split or "all", "folder": str(info.folder), "job_id": info.job_id,
                      "summary": inference_summary(ws, info.id)}, ensure_ascii=False, indent=1))
    if csv_path:
        table = read_outputs(ws, info.id)
        table.to_csv(csv_path, index=False, encoding="utf-8-sig")
        print(f"wrote {len(table)} rows to {csv_path}")
    return 0


def _template(args) -> int:
    from .config import Arm, InferConfig, to_yaml

    models = args.model or ["smollm2-135m-instruct"]
    arms = [Arm(label=model.removeprefix("local:"), model=model) for model in models]
    print(to_yaml(InferConfig(dataset=args.dataset, arms=arms)), end="")
    return 0
