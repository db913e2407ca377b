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


def score_extraction(found_pairs, expected_pairs, answer_threshold: float = 0.5) -> Score:
    found = [as_pair(item) for item in found_pairs]
    expected = [as_pair(item) for item in expected_pairs]
    by_question: dict[str, list[int]] = {}
    for index, pair in enumerate(expected):
        by_question.setdefault(normalize_question(pair["question"]), []).append(index)
    used, matched, unmatched_found = set(), [], []
    for pair in found:
        candidates = [i for i in by_question.get(normalize_question(pair["question"]), []) if i not in used]
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
