"""`python -m workbench quality REF …`: print the quality report; with --fix, write the fixed version(s)."""
from __future__ import annotations

import json

from ..i18n import t
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
        fix = t(f"quality.cli.fix.{kind}", args.lang)
        if not count:
            print(t("quality.cli.fix_none", args.lang, fix=fix, ref=current.ref))
            continue
        current = apply_fix(ws, current, report, kind)
        print(t("quality.cli.fixed", args.lang, fix=fix, count=f"{count:,}", ref=current.ref, rows=f"{current.rows:,}"))
    return 0


def describe(report, lang: str = "en") -> str:
    """The summary as lines a person reads, in the user's language (labels found in the data stay as they are)."""
    s, settings = report.summary(), report.settings
    comma = t("quality.cli.separator", lang)
    lines = [t("quality.cli.head", lang, ref=report.ref, rows=f"{report.rows:,}", fields=comma.join(report.fields),
               seconds=f"{sum(report.seconds.values()):.1f}"),
             t("quality.cli.exact", lang, rows=f"{s['exact_duplicate_rows']:,}", groups=f"{s['exact_groups']:,}"),
             t("quality.cli.near", lang, threshold=settings["near_threshold"], ngram=settings["ngram"],
               rows=f"{s['near_duplicate_rows']:,}", groups=f"{s['near_groups']:,}"),
             t("quality.cli.leakage", lang, rows=f"{s['leaked_rows']:,}") if report.languages.get("by_split")
             else t("quality.cli.no_split", lang),
             t("quality.cli.empty", lang, fields=comma.join(report.empty["required_fields"]),
               rows=f"{s['empty_rows']:,}",
               cells=comma.join(f"{name} {count:,}" for name, count in s["empty_per_field"].items()))]
    if report.too_long:
        tokenizer, unit = settings.get("tokenizer"), report.too_long["unit"]
        unit = (t("quality.cli.tokens_of", lang, tokenizer=tokenizer) if tokenizer and unit == "tokens"
                else t(f"quality.cli.{unit}", lang))
        lines.append(t("quality.cli.too_long", lang, max=f"{report.too_long['max']:,}", unit=unit,
                       rows=f"{s['too_long_rows']:,}", longest=f"{report.too_long['longest']:,}"))
    if report.labels:
        lines.append(t("quality.cli.labels", lang, field=report.labels["field"],
                       parts=t("quality.cli.part_separator", lang).join(_label_parts(report.labels, lang))))
        lines += [f"    ! {problem}" for problem in label_problems(report.labels, lang)]
    lines.append(t("quality.cli.languages", lang, counts=comma.join(
        t("quality.cli.language_count", lang, language=t(f"quality.cli.lang.{name}", lang), count=f"{count:,}")
        for name, count in s["languages"].items())))
    return "\n".join(lines)


def _label_parts(labels: dict, lang: str) -> list[str]:
    """Distinct labels and largest/smallest; then the five largest and the blank ones (each only when there are)."""
    comma = t("quality.cli.separator", lang)
    parts = [t("quality.cli.distinct", lang, count=f"{labels['distinct']:,}")]
    if labels.get("imbalance") is not None:
        parts[0] += comma + t("quality.cli.imbalance", lang, imbalance=labels["imbalance"])
    top = comma.join(t("quality.cli.label_count", lang, label=repr(c["label"]), count=f"{c['count']:,}")
                     for c in labels["counts"][:5])
    blank = t("quality.cli.blank_labels", lang, count=f"{labels['blank']:,}") if labels.get("blank") else ""
    if top or blank:
        parts.append(comma.join(part for part in (top, blank) if part))
    return parts


def _names(text: str | None) -> list[str] | None:
    names = [name.strip() for name in (text or "").replace("，", ",").split(",") if name.strip()]
    return names or None
