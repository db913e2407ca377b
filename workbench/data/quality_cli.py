"""`python -m workbench quality REF …`: print the quality report; with --fix, write the fixed version(s)."""
from __future__ import annotations

import json

from .quality import FIXES
from .quality_labels import label_problems


def register(verbs) -> None:
    p = verbs.add_parser("quality", help="duplicates, near-duplicates, leakage, empty/too long rows, labels, "
                                         "languages; --fix writes new versions")
    p.add_argument("ref", help="DATASET or DATASET@VERSION")
    p.add_argument("--fields", help="comma-separated columns to compare and measure (default: every user column)")
    p.add_argument("--label", help="column whose label balance is shown")
    p.add_argument("--max-tokens", type=int, help="rows longer than this (fields summed) are too long")
    p.add_argument("--tokenizer", help="model id whose tokenizer counts tokens (default: characters)")
    p.add_argument("--threshold", type=float, default=0.8, help="near-duplicate Jaccard threshold, 0.5-0.95")
    p.add_argument("--required", help="comma-separated fields whose blank makes a row empty")
    p.add_argument("--fix", nargs="+", choices=FIXES, default=[],
                   help="drop rows, one new version per fix, in the order given")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=_quality)


def _quality(args, ws) -> int:
    from .quality_fixes import QualityOptions, apply_fix, cached_report, report_for_version

    version = ws.resolve(args.ref)
    options = QualityOptions(fields=_names(args.fields), label_field=args.label, max_tokens=args.max_tokens,
                             tokenizer=args.tokenizer, near_threshold=args.threshold,
                             required_fields=_names(args.required))
    report = cached_report(version, options) or report_for_version(ws, version, options)
    print(json.dumps(report.summary(), ensure_ascii=False) if args.json else describe(report, args.lang))
    current = version  # each fix starts from the one before; the first must start from the newest
    for kind in args.fix:
        present = set(ws.read(current, ["_id"]).column("_id").to_pylist())
        count = len(report.rows_to_drop(kind, present))
        if not count:
            print(f"fix {kind}: nothing to drop in {current.ref}")
            continue
        current = apply_fix(ws, current, report, kind)
        print(f"fix {kind}: dropped {count:,} rows -> {current.ref} ({current.rows:,} rows)")
    return 0


def describe(report, lang: str = "en") -> str:
    """The summary as lines a person reads; the problems found in the labels in the user's language."""
    s, settings = report.summary(), report.settings
    lines = [f"quality of {report.ref} ({report.rows:,} rows; fields {', '.join(report.fields)}; "
             f"{sum(report.seconds.values()):.1f} s)",
             f"  exact duplicates: {s['exact_duplicate_rows']:,} rows to drop in {s['exact_groups']:,} groups",
             f"  near duplicates (Jaccard >= {settings['near_threshold']}, character {settings['ngram']}-grams): "
             f"{s['near_duplicate_rows']:,} rows to drop, exact ones included ({s['near_groups']:,} groups "
             f"beyond exact copies)",
             f"  leakage (validation/test rows matching a train row): {s['leaked_rows']:,}",
             f"  empty ({', '.join(report.empty['required_fields'])} blank): {s['empty_rows']:,} rows; blank cells "
             + ", ".join(f"{name} {count:,}" for name, count in s["empty_per_field"].items())]
    if report.too_long:
        unit = report.too_long["unit"] + (f" of {settings.get('tokenizer')}" if settings.get("tokenizer") else "")
        lines.append(f"  too long (> {report.too_long['max']:,} {unit}): {s['too_long_rows']:,} rows; "
                     f"longest {report.too_long['longest']:,}")
    if report.labels:
        top = ", ".join(f"{c['label']!r} {c['count']:,}" for c in report.labels["counts"][:5])
        blank = f", {report.labels['blank']:,} blank" if report.labels.get("blank") else ""
        lines.append(f"  labels ({report.labels['field']}): {report.labels['distinct']:,} distinct, largest/smallest "
                     f"{report.labels['imbalance']}; {top}{blank}")
        lines += [f"    ! {problem}" for problem in label_problems(report.labels, lang)]
    lines.append("  languages: " + ", ".join(f"{name} {count:,}" for name, count in s["languages"].items()))
    return "\n".join(lines)


def _names(text: str | None) -> list[str] | None:
    names = [name.strip() for name in (text or "").replace("，", ",").split(",") if name.strip()]
    return names or None
