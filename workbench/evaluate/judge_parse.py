"""Reading a judge's answer: a score or an A/B/tie verdict, or the reason none could be read.

Judges are asked for JSON with the reason first, but small and chatty models also write
"Score: 8", "分数：8分", "Rating: [[8]]" or broken JSON; the last such statement counts because
models often restate a draft score before their final one. A score outside the scale is not
clamped: it is unreadable, and the item is recorded as failed.

Only what the judge decided counts. Small models often repeat the prompt, which ends with the answer
format ({"reason": "一两句话说明理由", "score": 1到10的整数}). So lines and JSON copied from the prompt are
set aside, a score must stand alone (the "1" of "1到10" or "1-10" starts a range), a winner must be one
choice (not "A" 或 "B" 或 "tie"), and a placeholder reason marks a copied template; such an answer fails
with "the judge repeated the answer format".
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

# What a copied answer format looks like: the start of a range ("1到10", "1-10", "1 to 10", "1 或 2") ...
RANGE_AFTER = re.compile(r"\s*分?\s*(?:到|至|~|～|〜|-|－|–|—|\bto\b|\bor\b|或者?|、|\band\b|和)\s*-?\d", re.IGNORECASE)
# ... a list of choices ("A" 或 "B" 或 "tie", A or B or tie, A/B/tie, [[A]], [[B]] or [[C]]) ...
CHOICE = r"(?:(?:answer|回答|assistant|助手)\s*)?(?:(?<![A-Za-z])(?-i:A|B|C)(?![A-Za-z])|(?<![A-Za-z])(?:tie|draw)\b|平局|平手)"
OR = r"(?:或者?|还是|\bor\b|/|\||、)"
CLOSE, OPEN = r"[\s\"'*\]）)]*", r"[\s\"'*\[（(]*"
CHOICE_AFTER = re.compile(rf"{CLOSE}(?:[,，]{OPEN}{CHOICE}{CLOSE})*{OR}{OPEN}{CHOICE}", re.IGNORECASE)
CHOICE_BEFORE = re.compile(rf"{CHOICE}{CLOSE}(?:{OR}|[,，]){OPEN}$", re.IGNORECASE)
# ... or the format's own placeholder as the reason (the prompt's own placeholders are added per call)
PLACEHOLDERS = {"一两句话说明理由", "说明理由", "理由", "简要说明", "...", "…", "……", "one or two sentences",
                "one sentence", "reason", "your reason"}
REASON_VALUE = re.compile(r"[\"'](?:" + "|".join(REASON_KEYS) + r")[\"']\s*[:：]\s*[\"']([^\"'\n]*)[\"']", re.IGNORECASE)
FORMAT_OBJECT = re.compile(r"\{[^{}\n]*\}")
FORMAT_KEYS = re.compile(r"[\"'](?:score|winner|verdict|rating)[\"']|\[\[", re.IGNORECASE)
FORMAT_VALUE = re.compile(r"[\"'](score|winner|verdict)[\"']\s*[:：]\s*([^,}\n]*)", re.IGNORECASE)


@dataclass(frozen=True)
class Parsed:
    """A score (float), a verdict ("A", "B" or "tie"), or None with `error` saying why."""

    value: float | str | None
    reason: str = ""
    error: str = ""


def parse_score(text: str, scale: str, prompt: str = "") -> Parsed:
    """The judge's score on `scale` ("1-5", "1-10" or "0-1"); `prompt`: the text the judge was sent."""
    low, high = SCALES[scale]
    answer = _Answer(text, prompt)
    obj = answer.last_object(("score",), lambda value: _is_range(value["score"]))
    reason = _reason(obj)
    if obj is not None:
        raw, out_of = obj["score"], None
        number = _number(raw)
        if number is None and isinstance(raw, str):  # "8/10" inside JSON
            match = re.match(r"\s*(" + NUMBER + r")\s*/\s*(\d+)\s*$", raw)
            number, out_of = (float(match.group(1)), float(match.group(2))) if match else (None, None)
    else:
        own = answer.own_text()
        matches = [m for m in SCORE_TEXT.finditer(own) if not answer.rejected(own, m, _range_at(own, m.end(1)))]
        if not matches:
            return Parsed(None, "", answer.failure("judge.error.no_score"))
        last = matches[-1]
        number, out_of = float(last.group(1)), float(last.group(2)) if last.group(2) else None
        reason = own[:last.start()].strip()
    if number is None or not math.isfinite(number):
        return Parsed(None, reason, both("judge.error.no_score"))
    shown = _shown(number)
    if out_of is not None and out_of != high:
        return Parsed(None, reason, both("judge.error.scale_mismatch", score=shown, of=_shown(out_of), scale=scale))
    if not low <= number <= high:
        return Parsed(None, reason, both("judge.error.out_of_range", score=shown, scale=scale))
    return Parsed(number, reason)


def parse_verdict(text: str, prompt: str = "") -> Parsed:
    """The judge's pick in one A/B comparison: "A", "B" or "tie"; `prompt`: the text the judge was sent."""
    answer = _Answer(text, prompt)
    obj = answer.last_object(("winner", "verdict"), lambda value: _is_choice_list(_winner(value)))
    reason = _reason(obj)
    verdict = normalize_verdict(_winner(obj)) if obj is not None else None
    if verdict is None:
        own = answer.own_text()
        found = [(m.start(), m.group(1)) for pattern in VERDICT_TEXTS for m in pattern.finditer(own)
                 if not answer.rejected(own, m, _in_choice_list(own, m.start(1), m.end(1)))]
        verdict = normalize_verdict(max(found)[1]) if found else None
        if verdict is not None and not reason:
            reason = own[:max(found)[0]].strip()
    if verdict is None:
        return Parsed(None, reason if obj is not None else "", answer.failure("judge.error.no_verdict"))
    return Parsed(verdict, reason)


def normalize_verdict(value: str) -> str | None:
    """"Answer A", "回答B", "[[A]]", "Tie", "平局" -> "A", "B" or "tie"; anything else -> None."""
    word = re.sub(r"[\s\[\]\"'*.。:：]", "", value or "").lower()
    word = re.sub(r"^(answer|回答|assistant|助手|model|模型)", "", word)
    if word in ("a", "b"):
        return word.upper()
    return "tie" if word in TIE_WORDS else None


# --- what the judge itself wrote -------------------------------------------------------------------------
class _Answer:
    """The judge's answer next to the prompt it was sent: what it copied is set aside, and noted."""

    def __init__(self, text: str, prompt: str):
        self.text, self.copied, self.skipped, self.own = text or "", False, [], None
        self.prompt_flat = _flat(prompt or "")
        self.prompt_lines = {_flat(line) for line in (prompt or "").splitlines() if len(re.findall(r"\w", line)) >= 2}
        formats = [f for f in FORMAT_OBJECT.findall(prompt or "") if FORMAT_KEYS.search(f)]
        self.formats = [re.compile(r"\s*".join(map(re.escape, f.split()))) for f in formats]
        self.placeholders = PLACEHOLDERS | {_placeholder(v) for f in formats for v in REASON_VALUE.findall(f)}

    def last_object(self, keys: tuple[str, ...], templated) -> dict | None:
        """The last JSON object with one of `keys` that the judge wrote itself (not copied, no placeholder)."""
        for obj, start, end in reversed(_objects(self.text, keys)):
            copied = _flat(self.text[start:end]) in self.prompt_flat or self.placeholder(_reason(obj)) or templated(obj)
            if not copied:
                return obj
            self.copied = True
            self.skipped.append((start, end))
        return None

    def own_text(self) -> str:
        """The answer without skipped JSON, prompt lines repeated word for word, or the prompt's format."""
        text = self.text
        for start, end in self.skipped:
            text = text[:start] + "\n" * (end - start) + text[end:]
        lines = []
        for line in text.splitlines():
            if _flat(line) in self.prompt_lines:
                self.copied = self.copied or bool(FORMAT_KEYS.search(line) or _yields_value(line))
                line = ""
            for pattern in self.formats:
                line, count = pattern.subn("\n", line)
                self.copied = self.copied or count > 0
            lines.append(line)
        self.own = "\n".join(lines)
        return self.own

    def rejected(self, text: str, match: re.Match, templated: bool) -> bool:
        """A match that is part of a copied format: a range, a list of choices, or next to a placeholder reason."""
        opening = text.rfind("{", max(0, match.start() - 400), match.start())
        inside = text[opening:match.start()] if opening != -1 else "}"  # the object the match is in, if any
        values = [] if "}" in inside else REASON_VALUE.findall(inside)
        if templated or any(self.placeholder(value) for value in values):
            self.copied = True
            return True
        return False

    def placeholder(self, reason: str) -> bool:
        return bool(reason) and _placeholder(reason) in self.placeholders

    def failure(self, key: str) -> str:
        """Why nothing was read: the copied format when some was found (`{"score": <integer 1-10>}` too)."""
        own = self.text if self.own is None else self.own
        left = any(self.placeholder(value) for value in REASON_VALUE.findall(own)) or any(
            _is_range(value) if name.lower() == "score" else _is_choice_list(value)
            for name, value in FORMAT_VALUE.findall(own))
        return both("judge.error.copied_format" if self.copied or left else key)


def _objects(text: str, keys: tuple[str, ...]) -> list[tuple[dict, int, int]]:
    """Every JSON object in `text` that has one of `keys`, with its span (```json fences and chatter are fine)."""
    decoder, found, position = json.JSONDecoder(), [], 0
    while (start := text.find("{", position)) != -1:
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            position = start + 1
            continue
        if isinstance(value, dict) and any(key in value for key in keys):
            found.append((value, start, end))
        position = end
    return found


def _range_at(text: str, position: int) -> bool:
    return bool(RANGE_AFTER.match(text, position))


def _is_range(value) -> bool:
    """"1-10", "1到10的整数", "<integer 1-10>": the format's range, not a score."""
    return isinstance(value, str) and any(_range_at(value, m.end()) for m in re.finditer(NUMBER, value))


def _in_choice_list(text: str, start: int, end: int) -> bool:
    return bool(CHOICE_AFTER.match(text, end) or CHOICE_BEFORE.search(text[max(0, start - 40):start]))


def _is_choice_list(value: str) -> bool:
    return any(_in_choice_list(value, m.start(), m.end()) for m in re.finditer(CHOICE, value, re.IGNORECASE))


def _yields_value(line: str) -> bool:
    return bool(SCORE_TEXT.search(line) or any(pattern.search(line) for pattern in VERDICT_TEXTS))


def _winner(obj: dict | None) -> str:
    return "" if obj is None else str(obj.get("winner", obj.get("verdict", "")))


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _placeholder(reason: str) -> str:
    return re.sub(r"[\s<>\"'“”「」]+", " ", reason).strip().lower()


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
