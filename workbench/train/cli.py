"""`python -m workbench train config.yaml` and `python -m workbench runs list|show|diff|config`."""
from __future__ import annotations

import json
import sys

from ..i18n import duration, in_language, t
from .views import figure


def register(verbs) -> None:
    p = verbs.add_parser("train", help="train a model from a config.yaml (a background job through accelerate launch)")
    p.add_argument("config", help="config YAML (see `runs config` for a commented template)")
    p.add_argument("--accelerate-config", help="accelerate/DeepSpeed config file for several GPUs or nodes")
    p.add_argument("--num-processes", type=int, default=1, help="local processes when no accelerate config is given")
    p.add_argument("--detach", action="store_true", help="start the job and return; follow it with `jobs list`")
    p.add_argument("--estimate", action="store_true",
                   help="print the data gate and a time estimate from a few measured training steps; start nothing")
    p.add_argument("--json", action="store_true", help="with --estimate: print the gate and the estimate as JSON")
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
    """Check the config, the launch and the data (the Train page's gate), then estimate, or start and follow."""
    from .config import read_config
    from .jobs import start_training
    from .preflight import estimate, gate_blocks, quality_gate, steps_for
    from .trainer import load_run_tokenizer
    from .views import base_of, launch_problems

    lang = args.lang
    if args.json and not args.estimate:
        print(t("train.cli.json_needs_estimate", lang), file=sys.stderr)
        return 2
    try:
        config = read_config(args.config)
    except ValueError as error:  # located 'file:line: knob: message' lines
        print(error, file=sys.stderr)
        return 2
    problems = launch_problems(ws, config, args.accelerate_config or "", args.num_processes)
    if problems:
        print("\n".join([t("train.cannot_start", lang)] + [f"- {problem}" for problem in problems]), file=sys.stderr)
        return 2
    tokenizer_model = base_of(ws, config.base_model)
    gate = quality_gate(ws, config, load_run_tokenizer(ws, tokenizer_model))
    if not args.json:
        print("\n".join(gate_lines(gate, tokenizer_model, lang)), flush=True)
    blocked = gate_blocks(gate, lang)
    if blocked:
        print(t("train.cannot_start", lang) + "\n- " + blocked, file=sys.stderr)
        return 2
    if args.estimate:
        result = estimate(ws, config)
        print(json.dumps({"gate": gate, "estimate": result}, ensure_ascii=False, indent=1) if args.json else
              t("train.estimate.result", lang, minutes=result["minutes"], steps=f"{result['steps']:,}",
                tokens=f"{result['tokens']:,}", speed=f"{result['tokens_per_s']:,}", device=result["device"],
                precision=result["precision"]))
        return 0
    run, job_id = start_training(ws, config, args.accelerate_config, args.num_processes)
    print(t("train.cli.started", lang, run=run.id, name=run.name, job=job_id), flush=True)
    if args.detach:
        print(t("train.cli.detached", lang, run=run.id))
        return 0
    return follow_run(ws, run.id, job_id, steps_for(gate["kept"], config), lang)


def gate_lines(gate: dict, model: str, lang: str) -> list[str]:
    """The data gate as the CLI prints it: what was checked, the counts, one warning line per problem found."""
    def count(value: int) -> str:
        return f"{value:,}"

    rows, longest = count(gate["rows"]), gate["max_length"]
    lines = [t("train.gate.title", lang, ref=gate["ref"], split=gate["split"] or t("train.every_row", lang),
               model=model),
             t("train.cli.rows", lang, rows=rows, kept=count(gate["kept"])),
             t("train.gate.lengths", lang, mean=f"{gate['mean_tokens']:.0f}", p95=gate["p95"], longest=gate["longest"],
               max=longest)]
    warnings = [t("train.cli.cut", lang, cut=count(gate["cut"]), rows=rows, max=longest) if gate["cut"] else "",
            t("train.cli.dropped", lang, rows=_rows(gate["dropped"], lang), max=longest) if gate["dropped"] else "",
            t("train.cli.empty", lang, rows=_rows(gate["empty_outputs"], lang)) if gate["empty_outputs"] else "",
            t("train.cli.unusable", lang, rows=_rows(gate["unusable"], lang)) if gate["unusable"] else "",
            t("train.cli.duplicates", lang, exact=count(gate["exact_duplicates"]),
              near=count(gate["near_duplicates"]), ref=gate["ref"])
            if gate["exact_duplicates"] or gate["near_duplicates"] else "",
            t("train.cli.leaked", lang, rows=_rows(gate["leaked_rows"], lang)) if gate["leaked_rows"] else ""]
    warnings = [warning for warning in warnings if warning]
    if gate["eval_split"] and not gate["eval_rows"]:
        warnings.append(t("train.cli.no_eval", lang, ref=gate["ref"], split=gate["eval_split"]))
    lines += [t("train.cli.warning", lang, message=warning) for warning in warnings]
    if any(gate[name] for name in ("empty_outputs", "exact_duplicates", "near_duplicates", "leaked_rows")):
        lines.append(t("train.cli.fix_data", lang, ref=gate["ref"]))
    if gate["cut"] or gate["dropped"]:
        lines.append(t("train.cli.fix_length", lang))
    if not warnings:
        lines.append(t("train.gate.clean", lang))
    return lines


def _rows(count: int, lang: str) -> str:
    return t("train.cli.one_row", lang) if count == 1 else t("train.cli.n_rows", lang, count=f"{count:,}")


def follow_run(ws, run_id: str, job_id: str, total: int, lang: str, poll: float = 1.0) -> int:
    """Print the run's metric rows as they are written (step/total, loss, tokens/s, ETA; validation losses) until
    its job ends, then the outcome. Ctrl+C stops following only: the run is a background job."""
    from .. import jobs
    from .runs import get_run, read_metrics

    folder, seen = get_run(ws, run_id).folder, {"rows": 0}

    def show_new_rows(info) -> None:
        rows = read_metrics(folder)
        for row in rows[min(seen["rows"], len(rows)):]:
            if "loss" in row:
                steps = int(info.total or total)
                print(step_line(row, steps, info.eta_at(row["step"], row["time"], steps), lang), flush=True)
            elif "eval_loss" in row:
                print(t("train.cli.eval", lang, step=row["step"], loss=figure(row["eval_loss"])), flush=True)
        seen["rows"] = len(rows)

    print(t("train.waiting", lang) + " " + t("train.cli.follow_hint", lang), flush=True)
    try:
        info = jobs.watch(ws, job_id, show_new_rows, poll)
    except KeyboardInterrupt:
        print("\n" + t("train.cli.left", lang, run=run_id, job=job_id), file=sys.stderr)
        return 130
    return _outcome(get_run(ws, run_id), info, lang)


def step_line(row: dict, total: int, eta_seconds: float | None, lang: str) -> str:
    """One metric row in the user's words. `eta_seconds`: the job's ETA when the row was written
    (`JobInfo.eta_at`, the computation the Train page's ETA uses)."""
    return t("train.cli.step", lang, step=row["step"], total=total, loss=figure(row["loss"]),
             speed=f"{row.get('tokens_per_s', 0):,.0f}", eta=duration(eta_seconds))


def _outcome(run, info, lang: str) -> int:
    if info.state == "succeeded":
        summary = run.summary or {}
        print(t("train.cli.summary", lang, steps=summary.get("steps", "–"), loss=figure(summary.get("train_loss")),
                eval_loss=figure(summary.get("eval_loss")), speed=f"{summary.get('tokens_per_s', 0):,.0f}",
                seconds=duration(summary.get("train_seconds")), rows=f"{summary.get('rows', 0):,}",
                cut=f"{summary.get('rows_cut', 0):,}"))
        print(t("train.done", lang, model=run.model_id))
        return 0
    state = t(f"job.state.{info.state}", lang)
    print(t("train.ended", lang, state=state, message=in_language(info.error or info.message or "", lang)),
          file=sys.stderr)
    return 1


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
