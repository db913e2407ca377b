"""`python -m workbench train config.yaml` and `python -m workbench runs list|show|diff|config`."""
from __future__ import annotations

import json
import sys


def register(verbs) -> None:
    p = verbs.add_parser("train", help="train a model from a config.yaml (a background job through accelerate launch)")
    p.add_argument("config", help="config YAML (see `runs config` for a commented template)")
    p.add_argument("--accelerate-config", help="accelerate/DeepSpeed config file for several GPUs or nodes")
    p.add_argument("--num-processes", type=int, default=1, help="local processes when no accelerate config is given")
    p.add_argument("--detach", action="store_true", help="start the job and return; follow it with `jobs list`")
    p.add_argument("--estimate", action="store_true", help="print the data gate and a measured time estimate only")
    p.set_defaults(handler=_train)
    r = verbs.add_parser("runs", help="list, show and compare training runs")
    sub = r.add_subparsers(dest="runs_verb", required=True)
    sub.add_parser("list").set_defaults(handler=_list)
    show = sub.add_parser("show")
    show.add_argument("run"), show.set_defaults(handler=_show)
    diff = sub.add_parser("diff")
    diff.add_argument("runs", nargs="+"), diff.set_defaults(handler=_diff)
    template = sub.add_parser("config", help="print a run's config.yaml (to train it again), or a commented template")
    template.add_argument("run", nargs="?", help="a run id; without it, a template")
    template.add_argument("--dataset", default="DATASET"), template.add_argument("--preset")
    template.set_defaults(handler=_template)


def _train(args, ws) -> int:
    from .. import jobs, models
    from .config import read_config
    from .jobs import start_training
    from .preflight import check_launch, estimate, quality_gate

    try:
        config = read_config(args.config)
    except ValueError as error:  # located 'file:line: knob: message' lines
        print(error, file=sys.stderr)
        return 2
    problems = check_launch(ws, config)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    if args.estimate:
        tokenizer = models.load_tokenizer(ws, models.resolve(ws, config.base_model).base or config.base_model)
        print(json.dumps({"gate": quality_gate(ws, config, tokenizer), "estimate": estimate(ws, config)},
                         ensure_ascii=False, indent=1))
        return 0
    run, job_id = start_training(ws, config, args.accelerate_config, args.num_processes)
    print(f"run {run.id} ({run.name}), job {job_id}")
    if args.detach:
        return 0
    info = jobs.follow(ws, job_id, out=lambda message: print(message, flush=True))
    print(f"{info.state}: {json.dumps(info.result or {'error': info.error}, ensure_ascii=False)}")
    return 0 if info.state == "succeeded" else 1


def _list(args, ws) -> int:
    from .runs import list_runs

    for run in list_runs(ws):
        summary = run.summary
        print(f"{run.id}  {run.state:<11} {run.dataset_id}@{run.dataset_version}  {run.base_model}  "
              f"steps={summary.get('steps', '-')} loss={summary.get('train_loss', '-')} "
              f"eval={summary.get('eval_loss', '-')}  {run.name}")
    return 0


def _show(args, ws) -> int:
    from .runs import get_run, read_metrics

    run = get_run(ws, args.run)
    metrics = read_metrics(run.folder)
    print(json.dumps({"id": run.id, "name": run.name, "state": run.state, "folder": str(run.folder),
                      "adapter": str(run.adapter) if run.adapter.is_dir() else None, "summary": run.summary,
                      "last_metrics": metrics[-3:]}, ensure_ascii=False, indent=1))
    return 0


def _diff(args, ws) -> int:
    from .runs import config_diff, get_run
    from .views import distinct_names

    rows = config_diff(distinct_names([get_run(ws, r) for r in args.runs]))
    print(json.dumps(rows, ensure_ascii=False, indent=1) if rows else "same configuration")
    return 0


def _template(args, ws) -> int:
    from .config import PRESETS, TrainConfig, to_yaml
    from .runs import get_run

    config = get_run(ws, args.run).config if args.run else TrainConfig(dataset=args.dataset,
                                                                        **PRESETS.get(args.preset or "", {}))
    print(to_yaml(config), end="")
    return 0
