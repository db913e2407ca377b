"""How good an extraction is against a known list of pairs: precision, coverage (recall), and what differs.

    score = score_extraction(found_pairs, expected_pairs)
    score.precision, score.recall, score.unmatched_found, score.unmatched_expected

A found pair matches an expected one when their questions are equal after normalisation (Unicode
NFKC, case, punctuation and spaces ignored, so "如何退款？" == "如何退款") and their answers overlap
enough (F1 of Chinese characters + words >= `answer_threshold`). Each expected pair matches once.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+")


@dataclass
class Score:
    precision: float
    recall: float                                   # = coverage: the share of expected pairs found
    matched: list[tuple[dict, dict]] = field(default_factory=list)     # (found, expected)
    unmatched_found: list[dict] = field(default_factory=list)          # found but not expected, with "reason"
    unmatched_expected: list[dict] = field(default_factory=list)       # expected but not found

    @property
    def coverage(self) -> float:
        return self.recall

    def summary(self) -> dict:
        return {"precision": round(self.precision, 4), "coverage": round(self.recall, 4),
                "matched": len(self.matched), "found": len(self.matched) + len(self.unmatched_found),
                "expected": len(self.matched) + len(self.unmatched_expected)}


def normalize_question(text: str) -> str:
    """Letters and digits only, NFKC, lower case: the key two questions are compared by."""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def answer_overlap(first: str, second: str) -> float:
    """F1 of the two answers' tokens (each Chinese character is a token, other words are tokens)."""
    a, b = _tokens(first), _tokens(second)
    if not a or not b:
        return 1.0 if a == b else 0.0
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def _tokens(text: str) -> Counter:
    return Counter(TOKEN.findall(unicodedata.normalize("NFKC", str(text)).lower()))


def as_pair(item) -> dict:
    """{"question", "answer"} from a Pair, a dataset row (instruction/output), a dict or a (q, a) tuple."""
    if isinstance(item, (tuple, list)):
        return {"question": str(item[0]), "answer": str(item[1])}
    if isinstance(item, dict):
        question = item.get("question", item.get("instruction", ""))
        return {**item, "question": str(question), "answer": str(item.get("answer", item.get("output", "")))}
    return {"question": item.question, "answer": item.answer, "source": getattr(item, "source", ""),
            "span": list(getattr(item, "question_span", ()))}


def score_extraction(found_pairs, expected_pairs, answer_threshold: float = 0.5,
                     question_threshold: float = 1.0) -> Score:
    """Match found pairs to expected ones (each expected pair at most once).

    `question_threshold` 1.0 asks for the same question after normalisation (rule mode copies the
    document's questions); below 1.0 a question matches when the token overlap of the two questions
    reaches it (LLM mode words its own questions), the best-overlapping free expected pair first.
    """
    found = [as_pair(item) for item in found_pairs]
    expected = [as_pair(item) for item in expected_pairs]
    by_question: dict[str, list[int]] = {}
    for index, pair in enumerate(expected):
        by_question.setdefault(normalize_question(pair["question"]), []).append(index)
    used, matched, unmatched_found = set(), [], []
    for pair in found:
        if question_threshold >= 1.0:
            candidates = [i for i in by_question.get(normalize_question(pair["question"]), []) if i not in used]
        else:
            near = [(answer_overlap(pair["question"], expected[i]["question"]), i)
                    for i in range(len(expected)) if i not in used]
            candidates = [i for overlap, i in near if overlap >= question_threshold]
        if not candidates:
            unmatched_found.append({**pair, "reason": "question not expected / 问题不在预期列表中"})
            continue
        overlap, best = max((answer_overlap(pair["answer"], expected[i]["answer"]), i) for i in candidates)
        if overlap < answer_threshold:
            unmatched_found.append({**pair, "reason": f"answer differs (overlap {overlap:.2f}) / 答案不同",
                                    "expected_answer": expected[best]["answer"]})
            continue
        used.add(best)
        matched.append((pair, expected[best]))
    unmatched_expected = [pair for i, pair in enumerate(expected) if i not in used]
    precision = len(matched) / len(found) if found else (1.0 if not expected else 0.0)
    recall = len(matched) / len(expected) if expected else 1.0
    return Score(precision, recall, matched, unmatched_found, unmatched_expected)


QUESTION_COLUMNS, ANSWER_COLUMNS = ("question", "instruction", "prompt", "q"), ("answer", "output", "response", "a")


def load_expected(path, display_name: str | None = None) -> list[dict]:
    """The labelled pairs of a JSON / JSONL / CSV / XLSX / Parquet file: a question column (question,
    instruction, prompt or q) and an answer column (answer, output, response or a). Raises ReadError,
    located, when the file cannot be read, lacks a column, or holds no pair."""
    from ..data.read import read_file
    from ..problems import Problem, ReadError

    result = read_file(path, display_name=display_name)
    file = display_name or Path(path).name
    errors = [p for p in result.problems if p.severity == "error"]
    if errors:
        raise ReadError(errors)
    names = {name.lower(): name for name in result.table.column_names}
    pick = [next((names[c] for c in choices if c in names), None) for choices in (QUESTION_COLUMNS, ANSWER_COLUMNS)]
    names_of = (("question", "问题"), ("answer", "答案"))
    for column, choices, what in zip(pick, (QUESTION_COLUMNS, ANSWER_COLUMNS), names_of):
        if column is None:
            raise ReadError([Problem("extract_expected_column", file=file, params={
                "what": what[0], "what_zh": what[1], "choices": ", ".join(choices),
                "columns": ", ".join(result.info.get("columns", [])) or "-"})])
    pairs = [{"question": str(q).strip(), "answer": str(a or "").strip(), "row": index + 1}
             for index, (q, a) in enumerate(zip(result.table.column(pick[0]).to_pylist(),
                                                result.table.column(pick[1]).to_pylist()))
             if q is not None and str(q).strip()]
    if not pairs:
        raise ReadError([Problem("extract_expected_empty", file=file)])
    return pairs


LLM_QUESTION_THRESHOLD = 0.5  # LLM mode: half of the question's tokens shared (it words questions its own way)


def score_for_mode(found_pairs, expected_pairs, mode: str) -> Score:
    """`score_extraction` as each mode needs it: rules match questions exactly (after normalisation),
    LLM mode by token overlap (`LLM_QUESTION_THRESHOLD`)."""
    return score_extraction(found_pairs, expected_pairs,
                            question_threshold=LLM_QUESTION_THRESHOLD if mode == "llm" else 1.0)


def score_review(rows: list[dict], sample_name: str, sample_bytes: bytes, mode: str = "rules") -> Score:
    """Precision / coverage of the accepted rows of a review against an uploaded labelled sample
    (`score_for_mode`). Raises ReadError (located) for a sample that cannot be used."""
    import tempfile

    suffix = Path(sample_name).suffix.lower() or ".jsonl"
    with tempfile.TemporaryDirectory(prefix="wb-sample-") as folder:
        path = Path(folder) / f"sample{suffix}"
        path.write_bytes(sample_bytes)
        expected = load_expected(path, display_name=Path(sample_name).name)
    return score_for_mode([r for r in rows if r.get("accept", True)], expected, mode)


def score_tables(score: Score) -> tuple[list[dict], list[dict]]:
    """(pairs found but not in the sample, with the reason; sample pairs not found) for display."""
    extra = [{"question": p["question"], "answer": p["answer"], "reason": p.get("reason", ""),
              "expected_answer": p.get("expected_answer", "")} for p in score.unmatched_found]
    missed = [{"question": p["question"], "answer": p["answer"]} for p in score.unmatched_expected]
    return extra, missed
