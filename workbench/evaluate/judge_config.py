"""JudgeConfig (who judges, how, with which rubric) and what a judge call is made of.

The rubric is a template from the library (builtin/judge.yaml or the workspace's own); its `scale`
says the score range. The system message always asks for the reason before the verdict, in a JSON
shape judge_parse reads, so a user's own rubric works the same way as the builtins.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..llm.types import GenerationParams
from ..templates import TemplateError, get_template, parse_ref, render, variables_of
from ..workspace import NotFoundError
from .judge_parse import SCALES
from .judge_strings import HELP, both, pair

JUDGE_TEMPERATURE = 0.0  # a judge must give the same answer for the same input: greedy, never sampled
ITEM_FIELDS = ("question", "answer", "reference")
PAIR_FIELDS = ("question", "answer_a", "answer_b", "reference")
# purpose -> language -> builtin rubric; the Evaluate page offers these first
DEFAULT_RUBRICS = {
    "helpfulness": {"zh": "judge_helpfulness_zh", "en": "judge_helpfulness_en"},
    "persona": {"zh": "judge_persona_style_zh", "en": "judge_persona_style_en"},
    "correctness": {"zh": "judge_correctness_zh", "en": "judge_correctness_en"},
    "classification": {"zh": "judge_classification_zh", "en": "judge_classification_en"},
    "pairwise": {"zh": "judge_pairwise_zh", "en": "judge_pairwise_en"},
}
# Appended as the system message whatever the rubric says, so a user's own rubric also gets the reason
# before the verdict and a shape the parser reads.
OUTPUT_FORMAT = {
    ("pointwise", "zh"): "你是一名严格、公正的评审。先写理由，再给分数。最后只输出一个 JSON："
                         '{{"reason": "理由", "score": {low} 到 {high} 之间的分数}}',
    ("pointwise", "en"): "You are a strict, fair evaluator. Write your reason first, then the score. End with one "
                         'JSON object: {{"reason": "...", "score": <a number from {low} to {high}>}}',
    ("pairwise", "zh"): "你是一名公正的评审。先写理由，再给结论。最后只输出一个 JSON："
                        '{{"reason": "理由", "winner": "A" 或 "B" 或 "tie"}}',
    ("pairwise", "en"): "You are an impartial judge. Write your reason first, then the verdict. End with one JSON "
                        'object: {{"reason": "...", "winner": "A" | "B" | "tie"}}',
}


class JudgeConfig(BaseModel):
    """Who judges, how, and with which rubric. Saved with the evaluation; the same file drives the CLI."""

    model_config = ConfigDict(extra="forbid")

    judge: str = Field(..., min_length=1, description=HELP["judge"][0])
    mode: Literal["pointwise", "pairwise"] = Field("pointwise", description=HELP["mode"][0])
    rubric: str = Field("", description=HELP["rubric"][0])
    scale: Literal["1-5", "1-10", "0-1"] | None = Field(None, description=HELP["scale"][0])
    variables: dict[str, str] = Field({}, description=HELP["variables"][0])
    max_retries: int = Field(3, ge=0, le=10, description=HELP["max_retries"][0])
    max_new_tokens: int = Field(512, ge=16, le=8192, description=HELP["max_new_tokens"][0])
    max_concurrency: int | None = Field(None, ge=1, le=64, description=HELP["max_concurrency"][0])

    @field_validator("rubric")
    @classmethod
    def _rubric_is_a_ref(cls, value: str) -> str:
        if value:
            try:
                parse_ref(value)
            except NotFoundError as error:  # a KeyError; pydantic reports ValueErrors
                raise ValueError(str(error)) from None
        return value.strip()

    @property
    def rubric_ref(self) -> str:
        return self.rubric or DEFAULT_RUBRICS["helpfulness" if self.mode == "pointwise" else "pairwise"]["zh"]

    @property
    def metric(self) -> str:
        """What human overrides are keyed by: mode + rubric id (not its version, not the judge model)."""
        return f"judge:{self.mode}:{parse_ref(self.rubric_ref)[0]}"

    def params(self) -> GenerationParams:
        return GenerationParams(max_new_tokens=self.max_new_tokens, temperature=JUDGE_TEMPERATURE)


def judge_backend(ws, config: JudgeConfig):
    """The judge's LLM backend, with the config's retries and concurrency applied to its endpoint."""
    from ..llm.backends import backend_for
    from ..llm.endpoints import get_endpoint

    endpoint = get_endpoint(ws, config.judge)
    changes = {"max_retries": config.max_retries}
    if config.max_concurrency:
        changes["max_concurrency"] = config.max_concurrency
    return backend_for(ws, dataclasses.replace(endpoint, **changes))


def rubric_and_scale(ws, config: JudgeConfig):
    """The rubric template and (pointwise) its scale; raises ValueError with the located problem."""
    template = get_template(ws, config.rubric_ref)
    problems = config_problems(template, config)
    if problems:
        raise ValueError("; ".join(problems))
    return template, (config.scale or template.scale) if config.mode == "pointwise" else None


def item_fields(mode: str) -> tuple[str, ...]:
    """The values every judged item carries in this mode (the rest of a rubric's variables come from settings)."""
    return ITEM_FIELDS if mode == "pointwise" else PAIR_FIELDS


def shared_variables(template, mode: str) -> list:
    """The rubric's variables no item fills in this mode (e.g. the persona): one value for the whole evaluation."""
    return [variable for variable in template.variables if variable.name not in item_fields(mode)]


def config_problems(template, config: JudgeConfig, row_fields: Iterable[str] | None = None) -> list[str]:
    """What stops this rubric from judging in this mode (bilingual messages; empty when it can run).

    `row_fields`: the values the rows will carry (e.g. no "reference" when the dataset has no reference
    column, plus per-row variables such as "persona"); None = every item field.
    """
    used = set(variables_of(template.text, template.ref))
    needed = ("answer",) if config.mode == "pointwise" else ("answer_a", "answer_b")
    problems = []
    if not set(needed) <= used:
        problems.append(both("judge.config.wrong_mode", rubric=template.ref, mode=config.mode, needed=", ".join(needed)))
    if config.mode == "pointwise" and not (config.scale or template.scale):
        problems.append(both("judge.config.no_scale", rubric=template.ref))
    given = set(item_fields(config.mode) if row_fields is None else row_fields) | set(config.variables)
    for variable in template.variables:
        if variable.required and variable.name not in given:
            problems.append(both("judge.config.missing_variable", rubric=template.ref, variable=variable.name))
    return problems


def messages_for(template, config: JudgeConfig, values: Mapping[str, str], scale: str | None) -> list[dict]:
    """System message (output format) + the rendered rubric; a required variable left empty raises."""
    for variable in template.variables:
        if variable.required and not str(values.get(variable.name) or "").strip():
            raise TemplateError("missing", template.ref, *pair("judge.error.missing_value", variable=variable.name),
                                variable=variable.name)
    low, high = SCALES[scale] if scale else (None, None)
    system = OUTPUT_FORMAT[(config.mode, template.language)].format(low=_number(low), high=_number(high))
    return [{"role": "system", "content": system}, {"role": "user", "content": render(template, values)}]


def rubric_values(config: JudgeConfig, item, names: tuple[str, ...]) -> dict[str, str]:
    """Rubric values: shared settings, then the row's own, then the item's fields (they always win)."""
    return {**config.variables, **item.variables, **{name: getattr(item, name) or "" for name in names}}


def _number(value) -> str:
    return "" if value is None else str(int(value)) if value == int(value) else str(value)
