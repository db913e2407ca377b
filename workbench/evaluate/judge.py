"""LLM-as-judge: pointwise scores and position-swapped pairwise verdicts through any LLM backend.

    config = JudgeConfig(judge="my-gpt", rubric="judge_persona_style_zh", variables={"persona": "甄嬛"})
    backend = judge_backend(ws, config)                       # an endpoint name or local:<model id>
    judgements = judge_pointwise(backend, config, [JudgeItem(17, "base", question, answer, reference)],
                                 ws=ws, on_result=log_it, done=keys_already_judged)

A call that fails after the backend's retries, or an answer without a readable score (a repeated
answer format counts as none: see judge_parse), is a judgement with status "failed" and the raw text
kept — never a 0 — and is left out of averages. Pairwise items are judged twice, A/B then B/A: the same
arm both times wins, a tie twice or two different picks is a tie, and a pair with an order that failed fails.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..i18n import in_language
from ..llm.types import LLMError
from ..templates import TemplateError
from .judge_config import (DEFAULT_RUBRICS, ITEM_FIELDS, PAIR_FIELDS, JudgeConfig, config_problems,  # noqa: F401
                           judge_backend, messages_for, rubric_and_scale, rubric_values)
from .judge_parse import Parsed, parse_score, parse_verdict
from .judge_strings import pair


class _OneArm:
    @property
    def key(self) -> str:
        return f"{self.row_id}\t{self.arm}"


class _TwoArms:
    @property
    def key(self) -> str:
        return f"{self.row_id}\t{self.arm_a}\t{self.arm_b}"


class _Logged:
    """To and from one line of the job's result log (workbench.llm.batch.ResultLog)."""

    def to_record(self) -> dict:
        return {"key": self.key, **dataclasses.asdict(self)}

    @classmethod
    def from_record(cls, record: Mapping):
        return cls(**{f.name: record[f.name] for f in dataclasses.fields(cls) if f.name in record})


@dataclass(frozen=True)
class JudgeItem(_OneArm):
    """One answer of one arm (model + system prompt) to one dataset row."""

    row_id: int | str
    arm: str
    question: str
    answer: str
    reference: str = ""
    variables: Mapping[str, str] = field(default_factory=dict)  # per-row rubric values, e.g. persona


@dataclass(frozen=True)
class PairItem(_TwoArms):
    """Two arms' answers to one row, to compare."""

    row_id: int | str
    arm_a: str
    arm_b: str
    question: str
    answer_a: str
    answer_b: str
    reference: str = ""
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Judgement(_OneArm, _Logged):
    """A pointwise result; `score` is None exactly when status is "failed" (then `error` says why)."""

    row_id: int | str
    arm: str
    status: Literal["ok", "failed"]
    score: float | None = None
    reason: str = ""
    raw: str = ""
    error: str = ""
    attempts: int = 0


@dataclass
class PairJudgement(_TwoArms, _Logged):
    """A pairwise result: `winner` is arm_a, arm_b or "tie" (None when failed); one verdict per order."""

    row_id: int | str
    arm_a: str
    arm_b: str
    status: Literal["ok", "failed"]
    winner: str | None = None
    consistent: bool | None = None  # both orders named the same winner (False = position bias, scored a tie)
    verdicts: list[dict] = field(default_factory=list)  # order "AB"/"BA": raw, verdict, picked arm, reason, error
    error: str = ""


# --- running --------------------------------------------------------------------------------------------
Callback = Callable[[object], None]


def judge_pointwise(backend, config: JudgeConfig, items: Iterable[JudgeItem], *, ws=None,
                    on_result: Callback | None = None, cancelled: Callable[[], bool] | None = None,
                    done: Iterable[str] | None = None) -> list[Judgement]:
    """Score every item whose key is not in `done`; `on_result` sees each Judgement as it finishes."""
    template, scale = rubric_and_scale(ws, config)
    todo, finished = _todo(items, done), _Finished(on_result)
    requests, owners = [], []
    for index, item in enumerate(todo):
        try:
            requests.append(messages_for(template, config, rubric_values(config, item, ITEM_FIELDS), scale))
            owners.append(index)
        except TemplateError as error:
            finished.add(index, Judgement(item.row_id, item.arm, "failed", error=str(error)))

    def collect(position: int, result) -> None:
        finished.add(owners[position], _scored(todo[owners[position]], result, scale, prompt_text(requests[position])))

    _run(backend, config, requests, collect, cancelled, lambda position: owners[position] in finished.by_index)
    return finished.in_order()


def judge_pairwise(backend, config: JudgeConfig, items: Iterable[PairItem], *, ws=None,
                   on_result: Callback | None = None, cancelled: Callable[[], bool] | None = None,
                   done: Iterable[str] | None = None) -> list[PairJudgement]:
    """Compare every pair not in `done`, in both orders; a pair is reported once both verdicts are in."""
    template, _ = rubric_and_scale(ws, config)
    todo, finished = _todo(items, done), _Finished(on_result)
    halves: dict[int, dict[str, object]] = {}
    prompts: dict[int, tuple[str, str]] = {}

    requests, owners = [], []
    for index, item in enumerate(todo):
        values = rubric_values(config, item, PAIR_FIELDS)
        swapped = {**values, "answer_a": values["answer_b"], "answer_b": values["answer_a"]}
        try:
            pair = [messages_for(template, config, v, None) for v in (values, swapped)]
        except TemplateError as error:
            finished.add(index, PairJudgement(item.row_id, item.arm_a, item.arm_b, "failed", error=str(error)))
            continue
        requests += pair
        owners += [(index, "AB"), (index, "BA")]
        prompts[index] = (prompt_text(pair[0]), prompt_text(pair[1]))

    def collect(position: int, result) -> None:
        index, order = owners[position]
        halves.setdefault(index, {})[order] = result
        if len(halves[index]) == 2:
            finished.add(index, combine_verdicts(todo[index], halves[index]["AB"], halves[index]["BA"], prompts[index]))

    _run(backend, config, requests, collect, cancelled, lambda position: owners[position][1] in
         halves.get(owners[position][0], {}))
    return finished.in_order()


class _Finished:
    """Results by item position, each handed to `on_result` once, as it finishes."""

    def __init__(self, on_result: Callback | None):
        self.by_index, self.on_result = {}, on_result

    def add(self, index: int, judgement) -> None:
        self.by_index[index] = judgement
        if self.on_result is not None:
            self.on_result(judgement)

    def in_order(self) -> list:
        return [self.by_index[i] for i in sorted(self.by_index)]


def _todo(items: Iterable, done: Iterable[str] | None) -> list:
    skip = set(done or ())
    return [item for item in items if item.key not in skip]


def _run(backend, config: JudgeConfig, requests: list, collect, cancelled, collected) -> None:
    """All requests through `complete_many` (N in flight); results a backend returned without calling back
    are collected afterwards, so no finished call is lost."""
    if not requests:
        return
    results = backend.complete_many(requests, config.params(), on_result=collect, cancelled=cancelled)
    for position, result in enumerate(results or []):
        if result is not None and not collected(position):
            collect(position, result)


def prompt_text(messages: list[dict]) -> str:
    """Everything the judge was sent, so its answer can be told apart from what it copied of it."""
    return "\n".join(str(message.get("content") or "") for message in messages)


def _scored(item: JudgeItem, result, scale: str, prompt: str = "") -> Judgement:
    if isinstance(result, LLMError):
        return Judgement(item.row_id, item.arm, "failed", error=str(result), attempts=result.attempts)
    parsed = parse_score(result.text, scale, prompt)
    status = "ok" if parsed.value is not None else "failed"
    return Judgement(item.row_id, item.arm, status, parsed.value, parsed.reason, result.text, parsed.error,
                     result.attempts)


def combine_verdicts(item: PairItem, first, second, prompts: tuple[str, str] = ("", "")) -> PairJudgement:
    """First = answers in order A/B, second = swapped (`prompts`: what each order sent); the same arm twice
    wins, a disagreement or a tie twice is a tie, and if either order has no verdict the pair fails."""
    verdicts = [_verdict(item, "AB", first, prompts[0]), _verdict(item, "BA", second, prompts[1])]
    failed = [v for v in verdicts if v["picked"] is None]
    if failed:
        error = _orders_failed(failed)
        return PairJudgement(item.row_id, item.arm_a, item.arm_b, "failed", verdicts=verdicts, error=error)
    consistent = verdicts[0]["picked"] == verdicts[1]["picked"]
    winner = verdicts[0]["picked"] if consistent else "tie"
    return PairJudgement(item.row_id, item.arm_a, item.arm_b, "ok", winner, consistent, verdicts)


def _orders_failed(failed: list[dict]) -> str:
    """"AB order: … ; BA order: … / AB 顺序：… ；BA 顺序：…" (each detail is already "English / 中文")."""
    english = [pair("judge.error.order", order=v["order"], detail=in_language(v["error"], "en"))[0] for v in failed]
    chinese = [pair("judge.error.order", order=v["order"], detail=in_language(v["error"], "zh"))[1] for v in failed]
    return "; ".join(english) + " / " + "；".join(chinese)


def _verdict(item: PairItem, order: str, result, prompt: str = "") -> dict:
    if isinstance(result, LLMError):
        parsed, raw, attempts = Parsed(None, error=str(result)), "", result.attempts
    else:
        parsed, raw, attempts = parse_verdict(result.text, prompt), result.text, result.attempts
    shown_first = item.arm_a if order == "AB" else item.arm_b  # the arm whose answer was shown as "A"
    shown_second = item.arm_b if order == "AB" else item.arm_a
    picked = {"A": shown_first, "B": shown_second, "tie": "tie"}.get(parsed.value)
    return {"order": order, "raw": raw, "verdict": parsed.value, "picked": picked, "reason": parsed.reason,
            "error": parsed.error, "attempts": attempts}


# --- summaries (failed items never count) ----------------------------------------------------------------
def scores_by_arm(judgements: Iterable[Judgement]) -> dict[str, list[float]]:
    """Each arm's readable scores; failed judgements are left out, not counted as 0."""
    scores: dict[str, list[float]] = {}
    for judgement in judgements:
        if judgement.status == "ok" and judgement.score is not None:
            scores.setdefault(judgement.arm, []).append(judgement.score)
    return scores


def win_counts(judgements: Iterable[PairJudgement]) -> dict[str, int]:
    """Wins per arm plus "tie" and "failed" counts over pairwise results."""
    counts: dict[str, int] = {}
    for judgement in judgements:
        outcome = judgement.winner if judgement.status == "ok" else "failed"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
