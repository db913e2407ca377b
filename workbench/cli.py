"""`python -m workbench VERB ...`: the same operations as the pages, on the same config files.

Configs are YAML files of the typed models (FieldMapping, SplitConfig); user errors print located
problems and exit 2; programming bugs still raise.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from . import config_file
from .i18n import t
from .llm.types import LLMError
from .model_convert import ModelError
from .problems import ReadError, print_problems
from .workspace import StaleVersionError

EXIT_USER_ERROR = 2
NO_WORKSPACE_VERBS = {"embed", "embeddings"}  # they read no catalog, so they create no workspace folder


def _workspace(args):
    from .workspace import Workspace

    return Workspace(args.workspace, recover=args.verb != "jobs" or args.action != "run")


def cmd_import(args, ws) -> int:
    from .data.importer import commit_staged, discard_staged, stage_file
    from .data.read import ReadOptions

    options = ReadOptions(format=args.format, encoding=args.encoding, sheet=args.sheet)
    staged = stage_file(ws, args.file, options, display_name=Path(args.file).name)
    print(t("import.cli_read", args.lang, rows=staged.rows, source=staged.source, format=staged.info.get("format"),
            encoding=staged.info.get("encoding"), bad=len(staged.error_rows), skipped=staged.lines_skipped))
    print_problems(staged.problems, args.lang)
    if (staged.error_rows or staged.lines_skipped) and not args.drop_bad and not args.keep_bad:
        print(t("import.cli_refused", args.lang))
        discard_staged(ws, staged.id)
        return EXIT_USER_ERROR
    version = commit_staged(ws, staged.id, args.name or Path(args.file).stem, drop_error_rows=args.drop_bad)
    print(t("import.cli_done", args.lang, rows=version.rows, ref=version.ref))
    return 0


def cmd_validate(args, ws) -> int:
    from .data.operations import validate_version

    report = validate_version(ws, ws.resolve(args.ref), args.schema)
    print(json.dumps(report.summary(), ensure_ascii=False))
    print_problems(report.problems, args.lang)
    return 0 if report.ok else 1


def cmd_map(args, ws) -> int:
    from .data.mapping import FieldMapping
    from .data.operations import map_fields

    if args.mapping:
        mapping = config_file.load(FieldMapping, args.mapping)
    elif args.use:
        saved = ws.mappings()
        if args.use not in saved:
            raise ValueError(f"no saved mapping '{args.use}'; saved: {', '.join(saved) or '(none)'} / "
                             f"没有名为“{args.use}”的映射；已保存：{'、'.join(saved) or '（无）'}")
        mapping = FieldMapping(**saved[args.use])
    else:
        pairs = args.set or []
        bad = [item for item in pairs if "=" not in item]
        if bad:
            raise ValueError(f"--set takes target=source (e.g. instruction=prompt), got {bad[0]!r} / "
                             f"--set 的写法是 目标字段=源列（如 instruction=prompt），收到 {bad[0]!r}")
        mapping = FieldMapping(**dict(item.split("=", 1) for item in pairs))
    new = map_fields(ws, ws.resolve(args.ref), mapping, save_as=args.save_as)
    print(t("cli.mapped", args.lang, ref=new.ref, rows=new.rows, columns=", ".join(new.columns)))
    return 0


def cmd_split(args, ws) -> int:
    from .data.operations import split_version
    from .data.split import SplitConfig, split_summary

    options = {key: getattr(args, key) for key in ("train", "validation", "test", "seed", "stratify", "group")}
    config = config_file.load(SplitConfig, args.config, **options) if args.config else SplitConfig(
        **{key: value for key, value in options.items() if value is not None})
    new = split_version(ws, ws.resolve(args.ref), config)
    summary = split_summary(ws.read(new), config.stratify)
    print(t("cli.split", args.lang, ref=new.ref, summary=json.dumps(summary, ensure_ascii=False)))
    return 0


def cmd_export(args, ws) -> int:
    from .data.export import export_format, left_out_fields
    from .data.operations import export_version

    fmt = export_format(args.format)
    if fmt is None:
        _error(args.lang, t("cli.unknown_format", args.lang, name=args.format, formats=_format_names(args.lang)))
        return EXIT_USER_ERROR
    version = ws.resolve(args.ref)
    left_out = left_out_fields(version.columns, fmt)
    if left_out:  # said before writing, so an interrupted export still told the user
        print(t("export.left_out", args.lang, format=fmt, fields=t("cli.format_separator", args.lang).join(left_out)),
              file=sys.stderr)
    out = export_version(ws, version, fmt, split=args.split, out=Path(args.out))
    print(t("cli.exported", args.lang, ref=version.ref, out=out))
    return 0


def _format_names(lang: str) -> str:
    """The export formats with the short names that also choose them."""
    from .data.export import EXPORT_FORMATS, FORMAT_ALIASES

    names = []
    for fmt in EXPORT_FORMATS:
        aliases = [alias.replace("_", "-") for alias, target in FORMAT_ALIASES.items() if target == fmt]
        names.append(t("cli.format_aliases", lang, format=fmt, aliases=t("cli.format_separator", lang).join(aliases))
                     if aliases else fmt)
    return t("cli.format_separator", lang).join(names)


def cmd_datasets(args, ws) -> int:
    for info in ws.datasets():
        print(f"{info.id}\t{info.name}\tv{info.head}\t{info.rows} rows")
    return 0


def cmd_versions(args, ws) -> int:
    for version in ws.versions(ws.resolve(args.ref).dataset_id):
        print(f"{version.ref}\t{version.op}\tparent={version.parent}\t{version.rows} rows\t"
              f"{json.dumps(version.params, ensure_ascii=False)[:120]}")
    return 0


def cmd_diff(args, ws) -> int:
    from .data.diff import diff_tables

    old, new = ws.resolve(args.old), ws.resolve(args.new)
    result = diff_tables(ws.read(old), ws.read(new))
    print(json.dumps({"old": old.ref, "new": new.ref, **result.counts}, ensure_ascii=False))
    return 0


def cmd_restore(args, ws) -> int:
    version = ws.resolve(args.ref)
    new = ws.restore(version.dataset_id, version.number, ws.dataset(version.dataset_id).head)
    print(t("cli.restored", args.lang, old=version.ref, ref=new.ref))
    return 0


def cmd_stats(args, ws) -> int:
    from . import jobs

    job_id = jobs.start(ws, "stats", {"ref": args.ref, "tokenizer": args.tokenizer}, args.ref)
    print(f"started job {job_id}")
    if args.background:
        return 0
    info = jobs.wait(ws, job_id, timeout=24 * 3600)
    print(json.dumps(info.result, ensure_ascii=False, indent=2)[:4000] if info.result else info.message)
    return 0 if info.state == "succeeded" else 1


def cmd_jobs(args, ws) -> int:
    from . import jobs

    if args.action == "run":
        return jobs.run(ws, args.job_id)
    if args.action == "cancel":
        print("cancel requested" if jobs.cancel(ws, args.job_id) else "job is not running")
        return 0
    if args.action == "resume":
        jobs.resume(ws, args.job_id)
        print(f"resumed {args.job_id}")
        return 0
    for info in jobs.list_jobs(ws):
        fraction = f"{100 * info.fraction:.0f}%" if info.fraction is not None else "-"
        print(f"{info.id}\t{info.kind}\t{info.state}\t{fraction}\t{info.subject}\t{info.message}")
    return 0


def cmd_models(args, ws) -> int:
    from . import jobs
    from .models import list_models, needs_conversion, register_local, unregister_local

    if args.action == "add":
        spec = register_local(ws, args.target, args.label)
        print(f"added {spec.id} ({spec.path})")
        return 0
    if args.action == "remove":
        print("removed" if unregister_local(ws, args.target) else "not in the list")
        return 0
    if args.action == "convert":
        job_id = jobs.start(ws, "convert_model", {"model": args.target}, args.target)
        info = jobs.wait(ws, job_id) if args.wait else None
        print(f"job {job_id}" + (f": {info.state} {info.result or ''}" if info else " started (see `jobs list`)"))
        return 0 if info is None or info.state == "succeeded" else 1
    for spec in list_models(ws):
        ready = "unavailable" if not spec.available else ("to convert" if needs_conversion(ws, spec) else "ready")
        print(f"{spec.id}\t{spec.kind}\t{ready}\t{spec.languages}\t{spec.label}\t{spec.notes}")
    return 0


def cmd_embeddings(args, ws) -> int:
    from .embeddings import list_embedders, resolve_embedder

    for spec in [resolve_embedder(args.target)] if args.target else list_embedders():
        print(f"{spec.id}\t{spec.kind}\t{'available' if spec.available else 'unavailable'}\t{spec.dims or '?'} dims\t"
              f"{spec.languages}\t{spec.notes}")
    return 0


def cmd_embed(args, ws) -> int:
    from .embeddings import embed, resolve_embedder

    spec = resolve_embedder(args.model)
    vectors = embed(args.texts, spec, role=args.role)
    print(f"cosine similarity, {spec.id}, role {args.role} ({vectors.shape[1]} dims; blank texts score 0)")
    for number, text in enumerate(args.texts, 1):
        print(f"[{number}] {text}")
    print("\t" + "\t".join(f"[{number}]" for number in range(1, len(args.texts) + 1)))
    for number, row in enumerate(vectors @ vectors.T, 1):
        print(f"[{number}]\t" + "\t".join(f"{value:.3f}" for value in row))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workbench", description=__doc__)
    parser.add_argument("--workspace", default=os.environ.get("WORKBENCH_WORKSPACE", "workspace"))
    parser.add_argument("--lang", choices=("zh", "en"), default=os.environ.get("WORKBENCH_LANG", "en"))
    verbs = parser.add_subparsers(dest="verb", required=True)

    p = verbs.add_parser("import", help="read, validate and save a file as a new dataset")
    p.add_argument("file"), p.add_argument("--name"), p.add_argument("--format"), p.add_argument("--encoding")
    p.add_argument("--sheet")
    p.add_argument("--drop-bad", action="store_true", help="drop rows with errors")
    p.add_argument("--keep-bad", action="store_true", help="save rows with errors as they are")
    p = verbs.add_parser("validate", help="check a version against the row schema")
    p.add_argument("ref"), p.add_argument("--schema", default="auto", choices=("auto", "alpaca", "chat"))
    p = verbs.add_parser("map", help="map source columns to instruction/input/output/system/history")
    p.add_argument("ref"), p.add_argument("--mapping", help="YAML file of a FieldMapping")
    p.add_argument("--use", help="name of a saved mapping"), p.add_argument("--save-as")
    p.add_argument("--set", nargs="*", help="target=source, e.g. instruction=prompt")
    p = verbs.add_parser("split", help="assign train/validation/test")
    p.add_argument("ref"), p.add_argument("--config", help="YAML file of a SplitConfig")
    for key in ("train", "validation", "test"):
        p.add_argument(f"--{key}", type=float)
    p.add_argument("--seed", type=int), p.add_argument("--stratify"), p.add_argument("--group")
    p = verbs.add_parser("export", help="write a version (or one split) in a training format")
    p.add_argument("ref"), p.add_argument("--out", required=True)
    p.add_argument("--format", required=True, help="alpaca_json (alpaca), sharegpt_json (sharegpt), jsonl, csv, "
                                                   "hf_datasets (hf), llamafactory")
    p.add_argument("--split")
    verbs.add_parser("datasets", help="list datasets")
    p = verbs.add_parser("versions", help="version history of a dataset")
    p.add_argument("ref")
    p = verbs.add_parser("diff", help="rows added/removed/changed between two versions")
    p.add_argument("old"), p.add_argument("new")
    p = verbs.add_parser("restore", help="make an older version the newest (as a new version)")
    p.add_argument("ref")
    p = verbs.add_parser("stats", help="validation + length statistics as a background job")
    p.add_argument("ref"), p.add_argument("--tokenizer"), p.add_argument("--background", action="store_true")
    p = verbs.add_parser("jobs", help="list, cancel or resume background jobs")
    p.add_argument("action", nargs="?", default="list", choices=("list", "cancel", "resume", "run"))
    p.add_argument("job_id", nargs="?")
    p = verbs.add_parser("models", help="list models, add/remove a local folder or .gguf, convert a GGUF once")
    p.add_argument("action", nargs="?", default="list", choices=("list", "add", "remove", "convert"))
    p.add_argument("target", nargs="?", help="a path (add) or a model id (remove, convert)")
    p.add_argument("--label"), p.add_argument("--wait", action="store_true", help="wait for the conversion")
    p = verbs.add_parser("embeddings", help="list the embedding models, or check a sentence-transformers folder")
    p.add_argument("target", nargs="?", help="an embedder id or a sentence-transformers folder to check")
    p = verbs.add_parser("embed", help="pairwise cosine similarity of texts with an embedding model")
    p.add_argument("texts", nargs="+"), p.add_argument("--model", default="e5-small-multilingual",
                                                       help="an id from `embeddings`, or a sentence-transformers folder")
    p.add_argument("--role", default="query", choices=("query", "passage"),
                   help="E5 prefix; its card asks for query on both sides of a similarity")
    _feature_verbs(verbs)
    return parser


# Features keep their verbs beside their code: a module with `register(verbs)` that adds subparsers
# and sets `handler=function(args, ws) -> exit code` on each.
FEATURE_CLIS = ("workbench.llm.cli", "workbench.extract.cli", "workbench.templates.cli", "workbench.data.quality_cli",
                "workbench.augment.cli", "workbench.train.cli", "workbench.infer.cli", "workbench.serve.cli",
                "workbench.evaluate.cli")


def _feature_verbs(verbs) -> None:
    import importlib

    for name in FEATURE_CLIS:
        importlib.import_module(name).register(verbs)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verb == "jobs" and args.action != "list" and not args.job_id:
        print("a job id is needed", file=sys.stderr)
        return EXIT_USER_ERROR
    if args.verb == "models" and args.action != "list" and not args.target:
        print("a path or model id is needed", file=sys.stderr)
        return EXIT_USER_ERROR
    ws = None if args.verb in NO_WORKSPACE_VERBS else _workspace(args)
    handler = getattr(args, "handler", None) or globals()[f"cmd_{args.verb}"]
    try:
        return handler(args, ws)
    except ReadError as error:
        print(f"{t('cli.error', args.lang)}: {t('cli.unreadable', args.lang)}", file=sys.stderr)
        print_problems(error.problems, args.lang, file=sys.stderr)
        return EXIT_USER_ERROR
    except ValidationError as error:  # options given on the command line (config files are located by config_file)
        _error(args.lang, "\n".join(config_file.problems(error)))
        return EXIT_USER_ERROR
    except StaleVersionError as error:  # the page says "reload"; here the user named an older version
        _error(args.lang, _stale_message(error, args))
        return EXIT_USER_ERROR
    except (KeyError, ValueError, ModelError) as error:
        _error(args.lang, str(error))  # NotFoundError: its message, not a quoted repr
        return EXIT_USER_ERROR
    except LLMError as error:
        _error(args.lang, str(error))
        return 1
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as other command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _stale_message(error: StaleVersionError, args) -> str:
    action = getattr(args, "action", None)
    command = args.verb + (f" {action}" if isinstance(action, str) else "")
    return t("cli.stale", args.lang, old=f"{error.dataset_id}@{error.parent}", new=f"{error.dataset_id}@{error.head}",
             dataset=error.dataset_id, command=command)


def _error(lang: str, message: str) -> None:
    print(f"{t('cli.error', lang)}: {message}", file=sys.stderr)
