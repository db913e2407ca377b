"""Reading a judge's answer: a score or an A/B/tie verdict, or the reason none could be read.

Judges are asked for JSON with the reason first, but small and chatty models also write
"Score: 8", "分数：8分", "Rating: [[8]]" or broken JSON; the last such statement counts because
models often restate a draft score before their final one. A score outside the scale is not
clamped: it is unreadable, and the item is recorded as failed.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from .judge_strings import both

SCALES: dict[str, tuple[float, float]] = {"1-5": (1, 5), "1-10": (1, 10), "0-1": (0, 1)}
NUMBER = r"-?\d+(?:\.\d+)?"
SCORE_TEXT = re.compile(
    r"(?:score|rating|grade|分数|评分|得分|打分)\W{0,3}?\s*(?:[:：=]|\bis\b|为|是)\s*[\"'*\[\s]*(" + NUMBER + r")"
    r"(?:\s*(?:/|out of|分?满分)\s*(\d+))?", re.IGNORECASE)
VERDICT_TEXTS = (  # A and B only in capitals: "the winner is a tie" must not read as A
    re.compile(r"(?:winner|verdict|better(?: answer)?|胜者|获胜|胜出|结论|更好的(?:回答)?)\W{0,3}?\s*"
               r"(?:[:：=]|\bis\b|为|是)?\s*[\"'*\[\s]*(?:an?\s+)?((?:answer|回答|assistant|助手)?\s*(?-i:A|B)\b"
               r"|tie\b|draw\b|平局|平手|相当)", re.IGNORECASE),
    re.compile(r"((?:answer|回答|assistant|助手)\s*(?-i:A|B))\s*(?:更好|更佳|更优|胜出|获胜|is better|wins)", re.IGNORECASE),
    re.compile(r"\[\[\s*((?-i:A|B|C)|tie)\s*\]\]", re.IGNORECASE),  # MT-Bench style: [[A]], [[B]], [[C]] = tie
)
TIE_WORDS = {"tie", "draw", "平局", "平手", "相当", "equal", "same", "c"}
REASON_KEYS = ("reason", "reasoning", "explanation", "rationale", "理由", "原因")


@dataclass(frozen=True)
class Parsed:
    """A score (float), a verdict ("A", "B" or "tie"), or None with `error` saying why."""

    value: float | str | None
    reason: str = ""
    error: str = ""


def parse_score(text: str, scale: str) -> Parsed:
    """The judge's score on `scale` ("1-5", "1-10" or "0-1")."""
    low, high = SCALES[scale]
    obj = _last_object(text, "score")
    reason = _reason(obj)
    if obj is not None:
        raw, out_of = obj["score"], None
        number = _number(raw)
        if number is None and isinstance(raw, str):  # "8/10" inside JSON
            match = re.match(r"\s*(" + NUMBER + r")\s*/\s*(\d+)\s*$", raw)
            number, out_of = (float(match.group(1)), float(match.group(2))) if match else (None, None)
    else:
        matches = list(SCORE_TEXT.finditer(text or ""))
        if not matches:
            return Parsed(None, reason, both("judge.error.no_score"))
        last = matches[-1]
        number, out_of = float(last.group(1)), float(last.group(2)) if last.group(2) else None
        reason = reason or (text[:last.start()].strip() if text else "")
    if number is None or not math.isfinite(number):
        return Parsed(None, reason, both("judge.error.no_score"))
    shown = _shown(number)
    if out_of is not None and out_of != high:
        return Parsed(None, reason, both("judge.error.scale_mismatch", score=shown, of=_shown(out_of), scale=scale))
    if not low <= number <= high:
        return Parsed(None, reason, both("judge.error.out_of_range", score=shown, scale=scale))
    return Parsed(number, reason)


def parse_verdict(text: str) -> Parsed:
    """The judge's pick in one A/B comparison: "A", "B" or "tie"."""
    obj = _last_object(text, "winner") or _last_object(text, "verdict")
    reason = _reason(obj)
    verdict = normalize_verdict(str(obj.get("winner", obj.get("verdict", "")))) if obj is not None else None
    if verdict is None:
        found = [(m.start(), m.group(1)) for pattern in VERDICT_TEXTS for m in pattern.finditer(text or "")]
        verdict = normalize_verdict(max(found)[1]) if found else None
        if verdict is not None and not reason:
            reason = text[:max(found)[0]].strip()
    if verdict is None:
        return Parsed(None, reason, both("judge.error.no_verdict"))
    return Parsed(verdict, reason)


def normalize_verdict(value: str) -> str | None:
    """"Answer A", "回答B", "[[A]]", "Tie", "平局" -> "A", "B" or "tie"; anything else -> None."""
    word = re.sub(r"[\s\[\]\"'*.。:：]", "", value or "").lower()
    word = re.sub(r"^(answer|回答|assistant|助手|model|模型)", "", word)
    if word in ("a", "b"):
        return word.upper()
    return "tie" if word in TIE_WORDS else None


# --- helpers -------------------------------------------------------------------------------------------
def _last_object(text: str, key: str) -> dict | None:
    """The last JSON object in `text` that has `key` (```json fences and chatter around it are fine)."""
    decoder, found, position = json.JSONDecoder(), None, 0
    text = text or ""
    while (start := text.find("{", position)) != -1:
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            position = start + 1
            continue
        if isinstance(value, dict) and key in value:
            found = value
        position = end
    return found


def _reason(obj: dict | None) -> str:
    if obj is not None:
        for key in REASON_KEYS:
            if isinstance(obj.get(key), str) and obj[key].strip():
                return obj[key].strip()
    return ""


def _number(value) -> float | None:
    if isinstance(value, bool):  # JSON true is not a score of 1
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"\s*" + NUMBER + r"\s*分?\s*", value):
        return float(value.strip().rstrip("分"))
    return None


def _shown(number: float) -> str:
    return str(int(number)) if number == int(number) else f"{number:g}"
