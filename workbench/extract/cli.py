"""`python -m workbench extract …`: rule-mode extraction into a dataset, chunk a document, fetch a URL."""
from __future__ import annotations

import json
import sys
from functools import wraps
from pathlib import Path

from ..problems import ReadError, print_problems

ALLOW_PRIVATE_HELP = ("also fetch URLs on loopback, private and link-local addresses (an intranet wiki, localhost), "
                      "for this command only: the workspace settings are not changed. Cloud metadata addresses stay "
                      "refused. (The Extract page's setting 'Allow private network URLs' does this for every fetch.)")


def register(verbs) -> None:
    p = verbs.add_parser("extract", help="QA pairs from documents and URLs: rules, chunks, fetch")
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("rules", help="extract QA pairs with a rule and save them as a new dataset")
    a.add_argument("sources", nargs="+", help="files (.txt .md .pdf .docx .html), URLs, or - for stdin")
    a.add_argument("--preset", choices=("auto", "qa_colon", "faq_headings", "numbered", "custom"),
                   help="which shapes of question to read (default: auto, every preset, as on the Extract page; "
                        "custom when --pattern is given)")
    a.add_argument("--pattern", help="custom: a regex with (?P<question>…) and (?P<answer>…) (implies --preset custom)")
    a.add_argument("--answer-until", default="paragraph", choices=("paragraph", "next_question"))
    a.add_argument("--name", help="dataset name (default: the first source's name)")
    a.add_argument("--encoding", help="text files: the encoding (default: detected)")
    a.add_argument("--expected", help="JSONL of the pairs you expect (question/answer or instruction/output): "
                                      "prints precision and coverage")
    a.add_argument("--preview", type=int, metavar="N", help="print the first N pairs and save nothing")
    a.add_argument("--background", action="store_true", help="run as a background job (many or large sources)")
    a.add_argument("--allow-private-urls", action="store_true", help=ALLOW_PRIVATE_HELP)
    a.set_defaults(handler=_cli_wording(_rules))
    a = actions.add_parser("llm", help="N questions per chunk with an LLM, answers grounded in the chunk (a job)")
    a.add_argument("sources", nargs="+", help="files (.txt .md .pdf .docx .html), URLs, or - for stdin")
    a.add_argument("--endpoint", required=True, help="a saved endpoint's name or local:<model id>")
    a.add_argument("--per-chunk", type=int, default=3, help="questions per chunk (1-20)")
    a.add_argument("--size", type=int, default=1000, help="chunk size in characters")
    a.add_argument("--overlap", type=int, default=100)
    a.add_argument("--grounded", default="none", choices=("none", "similarity", "judge"),
                   help="keep only answers the chunk supports, checked by embeddings or by the LLM")
    a.add_argument("--max-new-tokens", type=int, default=512)
    a.add_argument("--expected", help="labelled pairs (JSONL/JSON/CSV/XLSX/Parquet): prints precision and coverage")
    a.add_argument("--save", metavar="NAME", help="save every candidate as a dataset (review them in the browser "
                                                  "to accept only some)")
    a.add_argument("--detach", action="store_true", help="start the job and return (see `jobs list`)")
    a.add_argument("--allow-private-urls", action="store_true", help=ALLOW_PRIVATE_HELP)
    a.set_defaults(handler=_cli_wording(_llm))
    a = actions.add_parser("chunks", help="print the chunks of a document")
    a.add_argument("source")
    a.add_argument("--size", type=int, default=1000), a.add_argument("--overlap", type=int, default=100)
    a.add_argument("--tokenizer", help="a model id: sizes in its tokens instead of characters")
    a.add_argument("--encoding")
    a.add_argument("--width", type=int, default=60, help="characters of text shown per chunk")
    a.add_argument("--allow-private-urls", action="store_true", help=ALLOW_PRIVATE_HELP)
    a.set_defaults(handler=_cli_wording(_chunks))
    a = actions.add_parser("fetch", help="print a URL's main text (or why it is refused)")
    a.add_argument("url")
    a.add_argument("--allow-private-urls", action="store_true", help=ALLOW_PRIVATE_HELP)
    a.set_defaults(handler=_cli_wording(_fetch))


def _items(sources: list[str]) -> list:
    from .sources import Pasted

    return [Pasted(sys.stdin.read(), "stdin") if source == "-" else source for source in sources]


def _rule(args):
    """The rule the flags ask for; ValueError with a bilingual reason (exit 2) when they do not make one."""
    from .rules import rule_from

    preset = args.preset or ("custom" if args.pattern else "auto")
    if args.pattern and preset != "custom":
        raise ValueError(f"--pattern is only read with --preset custom, not --preset {preset}: drop one of them / "
                         f"--pattern 只用于 --preset custom，不能与 --preset {preset} 同用：请去掉其中一个")
    if preset == "custom" and not args.pattern:
        raise ValueError("--pattern is required with --preset custom: a regex with (?P<question>…) and "
                         "(?P<answer>…) / 使用 --preset custom 时必须提供 --pattern：含 (?P<question>…) 和 "
                         "(?P<answer>…) 的正则表达式")
    return rule_from(preset=preset, pattern=args.pattern, answer_until=args.answer_until)


def _rules(args, ws) -> int:
    from ..i18n import t
    from .rules import extract_pairs
    from .sources import read_sources

    rule = _rule(args)
    name = args.name or (Path(args.sources[0]).stem if args.sources[0] != "-" else "extracted")
    if args.background:
        from .jobs import start_rules_job

        job = start_rules_job(ws, _items(args.sources), rule, name, args.allow_private_urls)
        print(t("extract.cli_started", args.lang, job=job))
        return 0
    read = read_sources(_items(args.sources), _policy(ws, args), encoding=args.encoding)
    result = extract_pairs(read.documents, rule)
    print_problems(_cli_problems(read.problems + result.problems), args.lang, file=sys.stderr)
    if not read.documents:  # with or without --preview: nothing was read, so the command failed
        print(t("extract.cli_unreadable", args.lang), file=sys.stderr)
        return 1
    counts = result.counts()
    for document in read.documents:
        print(t("extract.cli_document", args.lang, source=document.source, kind=document.kind,
                chars=len(document.text), pairs=counts["per_document"].get(document.id, 0)))
    print(t("extract.cli_summary", args.lang, pairs=counts["pairs"], read=len(read.documents),
            total=len(args.sources), seconds=result.seconds, by_rule=json.dumps(counts["by_rule"])))
    if args.expected:
        _print_score(result.pairs, args.expected)
    if args.preview is not None:
        for pair in result.pairs[:args.preview]:
            print(json.dumps({"question": pair.question, "answer": pair.answer, "rule": pair.rule,
                              "span": pair.question_span}, ensure_ascii=False))
        return 0
    if not result.pairs:
        print(t("extract.cli_nothing_saved", args.lang))
        return 1
    from .dataset import pairs_to_rows, save_extraction, source_summaries

    version = save_extraction(ws, pairs_to_rows(result.pairs, read.documents), name,
                              source_summaries(read.documents, result.pairs), rule, read.problems + result.problems)
    print(t("extract.cli_saved", args.lang, rows=version.rows, ref=version.ref))
    return 0


def _llm(args, ws) -> int:
    from .. import jobs
    from ..i18n import t
    from ..problems import Problem
    from .llm_mode import LLMExtractConfig, load_candidates, save_reviewed, start_llm_job

    config = LLMExtractConfig(args.endpoint, args.per_chunk, args.size, min(args.overlap, args.size // 2),
                              grounded=args.grounded, max_new_tokens=args.max_new_tokens)
    job_id = start_llm_job(ws, _items(args.sources), config, args.save or "extract", args.allow_private_urls)
    if args.detach:
        print(t("extract.cli_started", args.lang, job=job_id))
        return 0
    info = jobs.follow(ws, job_id, print)
    if info.state != "succeeded":
        print(f"job {job_id} {info.state}:\n{info.log_tail(20)}", file=sys.stderr)
        return 1
    rows = load_candidates(ws, job_id)
    print_problems(_cli_problems([Problem.from_dict(p) for p in (info.result or {}).get("problems", [])]), args.lang,
                   file=sys.stderr)
    print(t("extract.cli_candidates", args.lang, pairs=len(rows), chunks=(info.result or {}).get("chunks", 0),
            failed=(info.result or {}).get("questions_failed", 0)))
    if args.expected:
        _print_score(rows, args.expected, mode="llm")
    if args.save:
        if not rows:
            print(t("extract.cli_nothing_saved", args.lang))
            return 1
        version = save_reviewed(ws, rows, args.save, job_id=job_id)
        print(t("extract.cli_saved", args.lang, rows=version.rows, ref=version.ref))
    return 0


def _print_score(pairs, path: str, mode: str = "rules") -> None:
    from .score import load_expected, score_for_mode

    score = score_for_mode(pairs, load_expected(path), mode)
    print(f"score: {json.dumps(score.summary())}")
    for item in score.unmatched_found[:10]:
        print(f"  not expected: {item['question'][:60]!r} ({item['reason']})")
    for item in score.unmatched_expected[:10]:
        print(f"  missed: {item['question'][:60]!r}")


def _chunks(args, ws) -> int:
    from .chunk import chunk_document
    from .sources import read_source

    document = read_source(_items([args.source])[0], _policy(ws, args), encoding=args.encoding)
    tokenizer = None
    if args.tokenizer:
        from ..models import load_tokenizer

        tokenizer = load_tokenizer(ws, args.tokenizer)
    chunks = chunk_document(document, args.size, args.overlap, tokenizer)
    unit = "tokens" if tokenizer is not None else "chars"
    print(f"{document.source}: {len(document.text):,} chars -> {len(chunks)} chunks (size {args.size} {unit}, "
          f"overlap {args.overlap})")
    for chunk in chunks:
        text = " ".join(chunk.text.split())
        shown = text if len(text) <= args.width else text[:args.width - 1] + "…"
        print(f"{chunk.id}\t[{chunk.start}:{chunk.end}]\t{chunk.heading_path or '-'}\t{shown}")
    return 0


def _fetch(args, ws) -> int:
    from .sources import read_url

    document = read_url(args.url, _policy(ws, args))
    meta = document.meta
    redirected = f" (redirected to {meta['final_url']})" if meta.get("final_url") != args.url else ""
    print(f"# {document.title} — {document.kind}, {meta.get('content_type')}, {len(document.text):,} chars{redirected}",
          file=sys.stderr)
    print(document.text)
    return 0


def _policy(ws, args):
    """The workspace's fetch policy, widened to private network URLs for this command by --allow-private-urls."""
    from .policy import fetch_policy_for

    return fetch_policy_for(ws, args.allow_private_urls)


def _cli_problems(problems: list) -> list:
    """The problems worded for the command line: a refused private URL names --allow-private-urls (the page's
    wording names its settings switch), and a cloud metadata refusal says the flag does not lift it."""
    from dataclasses import replace

    def worded(problem):
        if problem.code != "extract_url_blocked":
            return problem
        metadata = problem.params.get("kind") == "cloud metadata"
        return replace(problem, code="extract_url_blocked_metadata" if metadata else "extract_url_blocked_cli")

    return [worded(problem) for problem in problems]


def _cli_wording(handler):
    """The handler, with the problems of a source it cannot read worded for the command line (see _cli_problems)."""
    @wraps(handler)
    def run(args, ws) -> int:
        try:
            return handler(args, ws)
        except ReadError as error:
            raise ReadError(_cli_problems(error.problems)) from None
    return run
