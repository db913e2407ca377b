"""Extracted pairs -> dataset rows (Alpaca + lineage columns) -> a new dataset version (op "extract").

A row: instruction = the question, input = "", output = the answer, and the lineage columns of
`records.LINEAGE_COLUMNS` (kept through mapping and splitting, left out of exports):
  _source  JSON text {"document_id", "source", "kind", "title"}
  _chunk   where in the document it came from: the chunk id "<document id>:<index>" (LLM mode), or the
           lines of the question and answer "<document id>:L<first>-<last>" (rule mode; 1-based)
  _span    JSON text {"start", "end", "question": [s, e], "answer": [s, e], "rule", "page"} — offsets
           into the document text, so the page can show the exact span a row came from.
"""
from __future__ import annotations

import json

import pyarrow as pa

ROW_COLUMNS = ("instruction", "input", "output", "_source", "_chunk", "_span")


def pair_row(pair, document=None) -> dict:
    """One dataset row for a Pair (and the Document it came from, for kind and title)."""
    source = {"document_id": pair.document_id, "source": pair.source}
    if document is not None:
        source.update(kind=document.kind, title=document.title)
    span = {"start": pair.start, "end": pair.end, "question": list(pair.question_span),
            "answer": list(pair.answer_span), "rule": pair.rule}
    if pair.page is not None:
        span["page"] = pair.page
    return {"instruction": pair.question, "input": "", "output": pair.answer,
            "_source": json.dumps(source, ensure_ascii=False), "_chunk": pair.chunk_id or "",
            "_span": json.dumps(span, ensure_ascii=False)}


def pairs_to_rows(pairs, documents=()) -> list[dict]:
    by_id = {document.id: document for document in documents}
    return [pair_row(pair, by_id.get(pair.document_id)) for pair in pairs]


def rows_table(rows: list[dict]) -> pa.Table:
    """The rows as an all-text Arrow table in the column order above."""
    return pa.table({column: pa.array([str(row.get(column, "") or "") for row in rows], pa.string())
                     for column in ROW_COLUMNS})


def source_summaries(documents, pairs) -> list[dict]:
    """What each source gave, for the version's params (and the page's summary table)."""
    counts: dict[str, int] = {}
    for pair in pairs:
        counts[pair.document_id] = counts.get(pair.document_id, 0) + 1
    return [{"id": d.id, "source": d.source, "kind": d.kind, "title": d.title, "chars": len(d.text),
             "pairs": counts.get(d.id, 0)} for d in documents]


def save_extraction(ws, rows: list[dict], name: str, sources: list[dict], rule, problems=(),
                    mode: str = "rules", extra: dict | None = None):
    """Save rows as version 1 of a new dataset; the version's params record sources, rule and counts.

    `extra` adds keys to the params (the job id of a background extraction, an LLM endpoint, …).
    """
    if not rows:
        raise ValueError("No question/answer pairs to save / 没有可保存的问答对")
    by_rule: dict[str, int] = {}
    for row in rows:
        rule_name = json.loads(row.get("_span") or "{}").get("rule", "")
        by_rule[rule_name] = by_rule.get(rule_name, 0) + 1
    params = {
        "mode": mode,
        "rule": rule.model_dump() if hasattr(rule, "model_dump") else rule,
        "sources": sources,
        "counts": {"documents": len(sources), "pairs": len(rows), "by_rule": by_rule,
                   "problems": len(problems)},
        "problems": [p.to_dict() if hasattr(p, "to_dict") else p for p in list(problems)[:100]],
        **(extra or {}),
    }
    return ws.create_dataset(name, rows_table(rows), op="extract", params=params,
                             description=f"{len(rows)} pairs extracted from {len(sources)} source(s)")


def extract_to_dataset(ws, items, rule, name: str, policy=None):
    """Read the sources, extract with `rule` and save: the one-call path for the CLI and small inputs.

    Returns (version or None when nothing was found, the RuleResult, the SourcesResult).
    """
    from .policy import fetch_policy_for
    from .rules import extract_pairs
    from .sources import read_sources

    read = read_sources(items, policy or fetch_policy_for(ws))
    result = extract_pairs(read.documents, rule)
    problems = read.problems + result.problems
    if not result.pairs:
        return None, result, read
    version = save_extraction(ws, pairs_to_rows(result.pairs, read.documents), name,
                              source_summaries(read.documents, result.pairs), rule, problems)
    return version, result, read
