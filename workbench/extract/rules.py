"""Rule mode: find question/answer pairs in documents with patterns, no LLM.

    rule = Rule(preset="qa_colon")                       # 问：…答：… / Q: … A: … / Question: … Answer: …
    rule = Rule(preset="faq_headings")                   # "## 如何退款？" followed by its section
    rule = Rule(preset="numbered")                       # "1. …？", "1、…？", "（1）…？", "Q1. …?" + answer
    rule = Rule(preset="custom", pattern=r"^Q\\d+ (?P<question>.+)\\n(?P<answer>.+)")
    rule = Rule(preset="auto")                           # all presets; overlapping finds keep the first preset's
    rule = rule_from(preset="custom", pattern=text)      # user input: ValueError with the bilingual reason only
    pairs = find_pairs(document.text, rule, document_id=document.id, source=document.source)
    preview(text, rule, limit=20)                        # for a live preview while the user edits the rule

Every preset is one regular expression with the named groups `question` and `answer` (built in
`rule_patterns`, which also says where an answer ends), so the page can show it as the starting point of a
custom rule. Each Pair keeps its lineage: the document, the exact character spans of question and answer,
the lines they stand on (`chunk_id`, "<document id>:L<first>-<last>", the row's `_chunk`) and the rule.
An answer over Rule.max_answer_chars is taken for a mis-parse: dropped, with a warning naming its question.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from ..problems import Problem
from .rule_patterns import looks_like_question, preset_pattern

try:  # the `regex` package (installed with transformers) can stop a runaway user pattern; `re` cannot
    import regex as _user_re
except ImportError:  # pragma: no cover
    _user_re = None

PRESETS = ("qa_colon", "faq_headings", "numbered")
TRIM = " \t\n\r\f\v\u3000*"  # stripped around questions and answers (the full-width space too)
AUTO_ORDER = PRESETS  # when presets overlap, the more explicit one wins
PREVIEW_TIMEOUT_S, EXTRACT_TIMEOUT_S = 2.0, 120.0
NO_PAIRS_HINT = (" Questions may have another shape (numbered, FAQ headings): try the rule 'auto' (--preset auto; "
                 "on the page: All of the above).",
                 "问题可能是其他格式（编号问题、FAQ 标题）：可尝试规则“auto”（--preset auto；页面上选“以上全部”）。")


@lru_cache(maxsize=64)
def _compiled(pattern: str, user: bool):
    engine = _user_re if user and _user_re is not None else re
    return engine.compile(pattern, engine.MULTILINE)


def pattern_problem(pattern: str | None) -> Problem | None:
    """Why a custom pattern cannot be used (none, invalid, or without both named groups), or None."""
    if not (pattern or "").strip():
        return Problem("extract_pattern_missing", field="pattern")
    try:
        compiled = _compiled(pattern or "", True)
    except Exception as error:  # re.error / regex.error
        return Problem("extract_pattern_invalid", field="pattern", params={"detail": str(error)})
    missing = [g for g in ("question", "answer") if g not in compiled.groupindex]
    if missing:
        return Problem("extract_pattern_groups", field="pattern", params={"missing": ", ".join(missing)})
    return None


class Rule(BaseModel):
    """A rule-mode extraction; stored with the dataset version it produced (op "extract")."""

    preset: Literal["qa_colon", "faq_headings", "numbered", "custom", "auto"] = "qa_colon"
    pattern: str | None = Field(None, description="custom only: a regex with (?P<question>…) and (?P<answer>…)")
    answer_until: Literal["paragraph", "next_question"] = Field(
        "paragraph", description="qa_colon/numbered: an answer ends at a blank line, or runs to the next question")
    questions_only: bool = Field(True, description="faq_headings: keep headings that read as questions only")
    min_question_chars: int = Field(2, ge=1)
    min_answer_chars: int = Field(1, ge=1)
    max_answer_chars: int = Field(20_000, ge=1, description="longer answers are taken for a mis-parse and dropped")
    dedupe: bool = Field(True, description="one pair per identical question+answer in a document")

    @model_validator(mode="after")
    def custom_needs_pattern(self):
        if self.preset == "custom":
            problem = pattern_problem(self.pattern)
            if problem is not None:
                raise ValueError(f"{problem.message_en} / {problem.message_zh}")
        return self

    @property
    def name(self) -> str:
        return self.preset

    def patterns(self) -> list[tuple[str, str]]:
        """(rule name, regex) to run, in priority order."""
        if self.preset == "custom":
            return [("custom", self.pattern)]
        names = AUTO_ORDER if self.preset == "auto" else (self.preset,)
        return [(name, preset_pattern(name, self.answer_until)) for name in names]


def rule_from(**fields) -> Rule:
    """A Rule, or ValueError carrying only the bilingual reasons (the page and the CLI show it; no pydantic dump)."""
    try:
        return Rule(**fields)
    except ValidationError as error:
        reasons = [str(item["ctx"]["error"]) if "error" in item.get("ctx", {})
                   else f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors()]
        raise ValueError("; ".join(reasons)) from None


@dataclass(slots=True)
class Pair:
    question: str
    answer: str
    document_id: str
    source: str
    rule: str                          # the preset (or "custom") that found it
    start: int                         # the whole match, as offsets into the document text
    end: int
    question_span: tuple[int, int]     # text[question_span[0]:question_span[1]] == question
    answer_span: tuple[int, int]
    chunk_id: str = ""                 # "<document id>:L<first>-<last>": the lines it stands on (1-based)
    page: int | None = None            # PDF page of the question


class PatternTimeout(Exception):
    """A custom pattern ran past its time limit (catastrophic backtracking)."""


def find_pairs(text: str, rule: Rule, document_id: str = "text", source: str = "", limit: int | None = None,
               timeout_s: float = EXTRACT_TIMEOUT_S) -> list[Pair]:
    """The pairs `rule` finds in `text`, in text order; raises PatternTimeout for a runaway custom pattern."""
    return _find(text, rule, document_id, source, limit, timeout_s)[0]


def _find(text, rule, document_id, source, limit, timeout_s) -> tuple[list[Pair], list[Pair]]:
    """(the pairs, the pairs dropped for an answer over max_answer_chars whose question no kept pair holds)."""
    taken: list[Pair] = []
    too_long: dict[int, Pair] = {}
    for name, pattern in rule.patterns():
        found, long_ones = _run(text, name, pattern, rule, document_id, source, limit, timeout_s)
        taken = found if not taken else _without_overlaps(taken, found)
        for pair in long_ones:
            too_long.setdefault(pair.question_span[0], pair)
    if rule.dedupe:
        seen, unique = set(), []
        for pair in taken:
            key = (pair.question, pair.answer)
            if key not in seen:
                seen.add(key)
                unique.append(pair)
        taken = unique
    kept = taken[:limit] if limit is not None else taken
    _set_line_spans(text, kept)
    return kept, _outside(too_long, taken)


def _set_line_spans(text: str, pairs: list[Pair]) -> None:
    """Give each pair its chunk id: the document id and the lines from its question to its answer's end."""
    bounds = {id(pair): (min(pair.question_span[0], pair.answer_span[0]),
                         max(pair.question_span[1], pair.answer_span[1]) - 1) for pair in pairs}
    line_at, line, counted = {}, 1, 0
    for position in sorted({position for both in bounds.values() for position in both}):
        line += text.count("\n", counted, position)  # one pass through the text, in order
        line_at[position], counted = line, position
    for pair in pairs:
        first, last = bounds[id(pair)]
        pair.chunk_id = f"{pair.document_id}:L{line_at[first]}-{line_at[last]}"


def _outside(too_long: dict[int, Pair], taken: list[Pair]) -> list[Pair]:
    """The over-long pairs whose question lies in no kept pair (another preset may have read that text)."""
    import bisect

    starts = [pair.start for pair in taken]  # text order, no overlaps: only the pair before can hold a question
    return [pair for start, pair in sorted(too_long.items())
            if (index := bisect.bisect_right(starts, start) - 1) < 0 or taken[index].end <= start]


def _run(text, name, pattern, rule, document_id, source, limit, timeout_s) -> tuple[list[Pair], list[Pair]]:
    user = name == "custom"
    if user:
        compiled, shift = _compiled(pattern, True), 0
        matches = compiled.finditer(text, timeout=timeout_s) if _user_re is not None else compiled.finditer(text)
    else:
        # A preset starts at a line start. Written as a literal "\n" (on text with one put in front) instead
        # of "^", the regex engine skips ahead to newlines instead of trying every position: ~2x faster.
        compiled, shift = _compiled("\n" + pattern[1:], False), 1
        matches = compiled.finditer("\n" + text)
    question_group, answer_group = compiled.groupindex["question"], compiled.groupindex["answer"]
    check_question = name == "faq_headings" and rule.questions_only
    shortest_question, shortest_answer, longest_answer = (rule.min_question_chars, rule.min_answer_chars,
                                                          rule.max_answer_chars)
    pairs, too_long = [], []
    try:
        for match in matches:
            q_start, q_end = _trimmed(text, match.start(question_group) - shift, match.end(question_group) - shift)
            a_start, a_end = _trimmed(text, match.start(answer_group) - shift, match.end(answer_group) - shift)
            if (q_end - q_start < shortest_question or a_end - a_start < shortest_answer
                    or (check_question and not looks_like_question(text[q_start:q_end]))):
                continue
            # shifted, a preset's match starts at the "\n" put before its line: that index is the line start
            pair = Pair(text[q_start:q_end], text[a_start:a_end], document_id, source, name, match.start(),
                        match.end() - shift, (q_start, q_end), (a_start, a_end))
            (too_long if a_end - a_start > longest_answer else pairs).append(pair)
            if limit is not None and len(pairs) >= limit * 2:  # room for dedupe and overlaps
                break
    except TimeoutError:
        raise PatternTimeout() from None
    return pairs, too_long


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding whitespace and markdown emphasis (`**`)."""
    if start < 0:  # a group that did not take part in the match
        return 0, 0
    piece = text[start:end]
    inner = piece.lstrip(TRIM)
    start += len(piece) - len(inner)
    return start, start + len(inner.rstrip(TRIM))


def _without_overlaps(taken: list[Pair], found: list[Pair]) -> list[Pair]:
    """`taken` plus the pairs of `found` that overlap none of them, in text order."""
    import bisect

    kept = sorted(taken, key=lambda p: p.start)
    starts = [p.start for p in kept]
    extra = []
    for pair in found:
        index = bisect.bisect_left(starts, pair.end)
        if index == 0 or kept[index - 1].end <= pair.start:  # the previous kept pair ends before this one
            extra.append(pair)
    return sorted(kept + extra, key=lambda p: p.start)


# --- preview and many documents ---------------------------------------------------------------------
@dataclass
class RuleResult:
    pairs: list[Pair]
    problems: list[Problem]      # per document: no pairs found (warning), runaway pattern (error)
    seconds: float = 0.0

    def counts(self) -> dict:
        per_document: dict[str, int] = {}
        for pair in self.pairs:
            per_document[pair.document_id] = per_document.get(pair.document_id, 0) + 1
        by_rule: dict[str, int] = {}
        for pair in self.pairs:
            by_rule[pair.rule] = by_rule.get(pair.rule, 0) + 1
        return {"pairs": len(self.pairs), "per_document": per_document, "by_rule": by_rule}


def preview(text, rule: Rule, limit: int = 20) -> RuleResult:
    """The first `limit` pairs of a text or Document, fast enough to run on every edit of the rule."""
    document_id, source = getattr(text, "id", "preview"), getattr(text, "source", "")
    body = getattr(text, "text", text)
    return extract_pairs([(document_id, source, body)], rule, limit=limit, timeout_s=PREVIEW_TIMEOUT_S)


def extract_pairs(documents, rule: Rule, limit: int | None = None, timeout_s: float = EXTRACT_TIMEOUT_S) -> RuleResult:
    """Pairs from many Documents (or (id, source, text) tuples); a document without pairs gets a warning."""
    started, pairs, problems = time.perf_counter(), [], []
    for document in documents:
        document_id, source, text = (document if isinstance(document, tuple)
                                     else (document.id, document.source, document.text))
        try:
            found, too_long = _find(text, rule, document_id, source, limit, timeout_s)
        except PatternTimeout:
            problems.append(Problem("extract_pattern_timeout", file=source or None, field="pattern",
                                    params={"seconds": timeout_s}))
            continue
        problems += [_too_long_problem(text, pair, rule) for pair in too_long]
        page_at = getattr(document, "page_at", None)
        if page_at is not None and document.meta.get("page_starts"):
            found = [_with_page(pair, page_at(pair.question_span[0])) for pair in found]
        if not found:
            hint = NO_PAIRS_HINT if rule.preset != "auto" else ("", "")
            problems.append(Problem("extract_no_pairs", severity="warning", file=source or None,
                                    params={"rule": rule.name, "hint": hint[0], "hint_zh": hint[1]}))
        pairs += found
        if limit is not None and len(pairs) >= limit:
            pairs = pairs[:limit]
            break
    return RuleResult(pairs, problems, time.perf_counter() - started)


def _too_long_problem(text: str, pair: Pair, rule: Rule) -> Problem:
    """A warning that names the dropped pair's question and line, so a long answer is never lost unseen."""
    question = pair.question if len(pair.question) <= 60 else pair.question[:59] + "…"
    return Problem("extract_answer_too_long", severity="warning", file=pair.source or None,
                   line=text.count("\n", 0, pair.question_span[0]) + 1, field="answer",
                   params={"question": question, "chars": len(pair.answer), "limit": rule.max_answer_chars})


def _with_page(pair: Pair, page: int | None) -> Pair:
    from dataclasses import replace

    return replace(pair, page=page)
