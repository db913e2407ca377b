"""`python -m workbench augment REF --strategy S --endpoint E [-x N] [--wait]`."""
from __future__ import annotations


def register(verbs) -> None:
    from .core import STRATEGIES

    p = verbs.add_parser("augment", help="add LLM-generated rows to a dataset (background job)")
    p.add_argument("ref"), p.add_argument("--strategy", required=True, choices=sorted(STRATEGIES))
    p.add_argument("--endpoint", required=True, help="an LLM endpoint name, e.g. local:smollm2-135m-instruct")
    p.add_argument("-x", "--multiplier", type=int, default=2)
    p.add_argument("--language", default="auto", choices=("auto", "zh", "en"))
    p.add_argument("--style", default=""), p.add_argument("--domain", default="")
    p.add_argument("--split"), p.add_argument("--max-rows", type=int)
    p.add_argument("--near-duplicate", type=float, default=0.85, help="0 turns the check off")
    p.add_argument("--similarity", type=float, nargs=2, metavar=("LOW", "HIGH"))
    p.add_argument("--wait", action="store_true", help="wait for the job and say what it saved and what it dropped (exit 1 when nothing was kept)")
    p.set_defaults(handler=_augment)


def _augment(args, ws) -> int:
    from .. import jobs
    from ..i18n import in_language
    from .core import AugmentConfig, start_augment
    from .jobs import outcome

    config = AugmentConfig(args.strategy, args.endpoint, args.multiplier, args.language, args.style, args.domain,
                           args.max_rows, args.split, near_duplicate=args.near_duplicate or None,
                           similarity=tuple(args.similarity) if args.similarity else None)
    job_id = start_augment(ws, args.ref, config)
    if not args.wait:
        print(f"started job {job_id} (see `jobs list`)")
        return 0
    info = jobs.wait(ws, job_id)
    if info.state != "succeeded":
        print(f"job {job_id}: {info.state}: {in_language(info.error or info.message, args.lang)}")
        return 1
    said, hint = outcome(info.result, args.lang, answers=str(info.folder / "results.jsonl"))
    print(f"job {job_id}: {said}" + (f"\n{hint}" if hint else ""))
    return 0 if info.result.get("ref") else 1
