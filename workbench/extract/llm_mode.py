"""LLM mode: N questions per chunk, then an answer to each grounded in that chunk, then filters.

Runs as the resumable background job `extract_llm`: every LLM call goes through `llm.batch`
(nothing generated twice across cancel/resume). Its output is a list of *candidates* in the job
folder (`candidates.jsonl`) that the annotator reviews; only accepted rows become a dataset
(`save_reviewed`). Each candidate keeps its lineage: document, chunk id and span, plus the chunk
text so the review table can show it beside the pair.

Filters (optional): `grounded` keeps an answer only when it is close enough to its chunk —
"similarity" compares embeddings against a chance baseline (embeddings.relative_similarity), "judge"
asks the LLM whether the chunk supports the answer; `dedupe` drops repeated questions.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from ..jobs import job_kind
from ..llm import GenerationParams, LLMError, backend_for, parse_json_answer
from ..llm.batch import ResultLog, run_batch
from ..problems import ReadError
from .chunk import ChunkConfig, chunk_documents
from .jobs import _read, start_extract_job
from .policy import fetch_policy_for

KIND = "extract_llm"

QUESTION_PROMPT = (
    "You write questions for a question-answering dataset. Read the passage and write {{ n }} distinct questions "
    "that the passage itself answers. Use the passage's language (Chinese passage → Chinese questions).\n"
    "Return only a JSON array of strings.\n\nPassage:\n{{ chunk }}")
ANSWER_PROMPT = (
    "Answer the question using only the passage. If the passage does not contain the answer, reply exactly "
    "NOT_IN_PASSAGE. Answer in the question's language, completely but concisely.\n\n"
    "Passage:\n{{ chunk }}\n\nQuestion: {{ question }}")
JUDGE_PROMPT = (
    "Does the passage support the answer to the question? Reply with a JSON object {\"supported\": true|false}.\n\n"
    "Passage:\n{{ chunk }}\n\nQuestion: {{ question }}\nAnswer: {{ answer }}")
NOT_IN_PASSAGE = "NOT_IN_PASSAGE"


@dataclass(frozen=True)
class LLMExtractConfig:
    endpoint: str
    questions_per_chunk: int = 3
    chunk_size: int = 1000
    chunk_overlap: int = 100
    question_prompt: str = QUESTION_PROMPT
    answer_prompt: str = ANSWER_PROMPT
    grounded: str = "none"              # "none" | "similarity" | "judge"
    min_grounding: float = 0.2          # similarity mode: baseline-adjusted score an answer must reach
    dedupe: bool = True
    max_new_tokens: int = 512
    temperature: float = 0.3

    def __post_init__(self):
        if not 1 <= self.questions_per_chunk <= 20:
            raise ValueError("questions per chunk must be 1-20 / 每段问题数必须在 1 到 20 之间")
        if self.grounded not in ("none", "similarity", "judge"):
            raise ValueError("grounding must be none, similarity or judge / 依据检查必须是 none、similarity 或 judge")
        for name, text, needed in (("question prompt", self.question_prompt, {"chunk", "n"}),
                                   ("answer prompt", self.answer_prompt, {"chunk", "question"})):
            check_prompt(name, text, needed)


_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def check_prompt(name: str, text: str, needed: set[str]) -> None:
    """A clear error for a prompt that does not parse or lacks a variable it must use."""
    from jinja2 import TemplateSyntaxError, meta

    try:
        found = meta.find_undeclared_variables(_ENV.parse(text))
    except TemplateSyntaxError as error:
        raise ValueError(f"{name}: syntax error on line {error.lineno}: {error.message} / "
                         f"{name} 第 {error.lineno} 行语法错误：{error.message}") from None
    missing = needed - found
    if missing:
        raise ValueError(f"{name} must use {sorted(missing)} / {name} 必须包含变量 {sorted(missing)}")


def render(text: str, **values) -> str:
    return _ENV.from_string(text).render(**values)


def start_llm_job(ws, items, config: LLMExtractConfig, name: str, allow_private_urls: bool = False) -> str:
    """Start the LLM extraction job on `items` (see jobs.start_extract_job). Returns its id."""
    return start_extract_job(ws, KIND, items, {"config": asdict(config)}, name, allow_private_urls)


def parse_questions(text: str, limit: int) -> list[str]:
    """Questions from the model's answer: a JSON array, else one question per non-empty line."""
    try:
        value = parse_json_answer(text)
        items = value if isinstance(value, list) else value.get("questions", []) if isinstance(value, dict) else []
    except LLMError:
        items = [re.sub(r"^\s*(?:[-*•]|\d+[.、)]|Q\d*[:：])\s*", "", line) for line in text.splitlines()]
    questions = [str(q).strip() for q in items if isinstance(q, (str, int, float)) and str(q).strip()]
    return questions[:limit]


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).casefold())


@job_kind(KIND, resumable=True)
def extract_llm_job(ctx, params: dict) -> dict:
    config = LLMExtractConfig(**params["config"])
    documents, problems = [], []
    policy = fetch_policy_for(ctx.ws, params.get("allow_private_urls", False))
    for spec in params["sources"]:
        try:
            documents.append(_read(spec, policy))
        except ReadError as error:
            problems += [p.to_dict() for p in error.problems]
            ctx.log(f"cannot read {spec.get('url') or spec.get('name')}: {error}")
    chunks = chunk_documents(documents, ChunkConfig(size=config.chunk_size, overlap=config.chunk_overlap))
    ctx.log(f"{len(documents)} documents, {len(chunks)} chunks")
    params_gen = GenerationParams(max_new_tokens=config.max_new_tokens, temperature=config.temperature, seed=0)
    backend = backend_for(ctx.ws, config.endpoint)
    try:
        asked = run_batch(ctx, backend, [
            {"key": f"q:{c.id}", "messages": [{"role": "user", "content": render(
                config.question_prompt, chunk=c.text, n=config.questions_per_chunk)}]} for c in chunks],
            params_gen, ResultLog(ctx.folder / "questions.jsonl"), label="chunks")
        questions = ResultLog(ctx.folder / "questions.jsonl").done()
        pending = []
        for chunk in chunks:
            record = questions.get(f"q:{chunk.id}")
            if record and record["ok"]:
                for index, question in enumerate(parse_questions(record["text"], config.questions_per_chunk)):
                    pending.append({"chunk": chunk, "question": question, "key": f"a:{chunk.id}:{index}"})
        run_batch(ctx, backend, [{"key": p["key"], "messages": [{"role": "user", "content": render(
            config.answer_prompt, chunk=p["chunk"].text, question=p["question"])}]} for p in pending],
            params_gen, ResultLog(ctx.folder / "answers.jsonl"), label="questions")
        answers = ResultLog(ctx.folder / "answers.jsonl").done()
        candidates = []
        for item in pending:
            record = answers.get(item["key"])
            if not record or not record["ok"] or NOT_IN_PASSAGE in record["text"]:
                continue
            candidates.append({**item, "answer": record["text"].strip()})
        if config.grounded == "judge":
            run_batch(ctx, backend, [{"key": f"j:{c['key']}", "messages": [{"role": "user", "content": render(
                JUDGE_PROMPT, chunk=c["chunk"].text, question=c["question"], answer=c["answer"])}]}
                for c in candidates], GenerationParams(max_new_tokens=32), ResultLog(ctx.folder / "judge.jsonl"),
                label="answers to judge")
            verdicts = ResultLog(ctx.folder / "judge.jsonl").done()
            candidates = [c for c in candidates if _supported(verdicts.get(f"j:{c['key']}"))]
    finally:
        backend.close()
    if config.grounded == "similarity" and candidates:
        from ..embeddings import relative_similarity

        scores = relative_similarity([c["answer"] for c in candidates], [c["chunk"].text for c in candidates],
                                     pool=[c.text for c in chunks] if len(chunks) > 1 else None)
        for candidate, score in zip(candidates, scores.adjusted):
            candidate["grounding"] = round(float(score), 3)
        candidates = [c for c in candidates if c["grounding"] >= config.min_grounding]
    if config.dedupe:
        seen, unique = set(), []
        for candidate in candidates:
            if _norm(candidate["question"]) not in seen:
                seen.add(_norm(candidate["question"]))
                unique.append(candidate)
        candidates = unique
    by_id = {d.id: d for d in documents}
    rows = [candidate_row(c, by_id[c["chunk"].document_id]) for c in candidates]
    with open(ctx.folder / "candidates.jsonl", "wb") as handle:
        for row in rows:
            handle.write(orjson.dumps(row) + b"\n")
    ctx.log(f"{len(rows)} candidate pairs ready for review")
    return {"candidates": len(rows), "chunks": len(chunks), "documents": [
        {"id": d.id, "source": d.source, "kind": d.kind, "title": d.title, "chars": len(d.text)} for d in documents],
        "problems": problems, "questions_failed": asked["failed"]}


def _supported(record) -> bool:
    if not record or not record["ok"]:
        return False
    try:
        value = parse_json_answer(record["text"])
    except LLMError:
        return False
    return isinstance(value, dict) and value.get("supported") is True


def candidate_row(candidate: dict, document) -> dict:
    chunk = candidate["chunk"]
    return {"accept": True, "instruction": candidate["question"], "output": candidate["answer"],
            "chunk_text": chunk.text, "grounding": candidate.get("grounding"),
            "_source": json.dumps({"document_id": document.id, "source": document.source, "kind": document.kind,
                                   "title": document.title}, ensure_ascii=False),
            "_chunk": chunk.id,
            "_span": json.dumps({"start": chunk.start, "end": chunk.end, "rule": "llm"}, ensure_ascii=False)}


def load_candidates(ws, job_id: str) -> list[dict]:
    path = ws.root / "jobs" / Path(job_id).name / "candidates.jsonl"
    if not path.exists():
        return []
    with open(path, "rb") as handle:
        return [orjson.loads(line) for line in handle if line.strip()]


def save_reviewed(ws, rows: list[dict], name: str, job_id: str | None = None, sources=(), mode: str = "llm",
                  rule=None):
    """Save the accepted (and possibly edited) rows of a review as a new dataset."""
    from .dataset import save_extraction

    accepted = [{"instruction": r["instruction"], "input": "", "output": r["output"], "_source": r.get("_source", ""),
                 "_chunk": r.get("_chunk", ""), "_span": r.get("_span", "")}
                for r in rows if r.get("accept") and str(r.get("instruction") or "").strip()
                and str(r.get("output") or "").strip()]
    extra = {"reviewed": len(rows), "accepted": len(accepted), "rejected": len(rows) - len(accepted)}
    if job_id:
        extra["job_id"] = job_id
    return save_extraction(ws, accepted, name, list(sources), rule, mode=mode, extra=extra)


def rule_candidates(documents, rule, limit: int | None = None):
    """Rule-mode pairs as review candidates (same shape as LLM mode's), and the RuleResult."""
    from .dataset import pairs_to_rows
    from .rules import extract_pairs

    result = extract_pairs(documents, rule, limit=limit)
    by_id = {d.id: d for d in documents}
    rows = []
    for pair, row in zip(result.pairs, pairs_to_rows(result.pairs, documents)):
        text = by_id[pair.document_id].text
        rows.append({"accept": True, "instruction": row["instruction"], "output": row["output"],
                     "chunk_text": text[pair.start:pair.end], "grounding": None, "_source": row["_source"],
                     "_chunk": row["_chunk"], "_span": row["_span"]})
    return rows, result
