"""EvalConfig: which inference to score and how. Saved as `config.yaml` in the report folder; the CLI reads the same.

    # python -m workbench evaluate eval.yaml
    inference: 20261123-101500-ab12     # the answers to score (an inference id)
    similarity: true                    # embedding similarity to the reference, with a chance baseline
    judge: {judge: local:smollm2-135m-instruct, rubric: judge_helpfulness_zh}
"""
from __future__ import annotations

from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..config_file import parse_mapping, problems, read_checked
from ..embeddings import DEFAULT_EMBEDDER
from .judge_config import JudgeConfig


class EvalConfig(BaseModel):
    """Scores for every answer of an inference, summarized per model (arm)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("", description="Name shown in the report list (default: the inference name)")
    inference: str = Field(..., description="The inference whose answers are scored (its id)")
    similarity: bool = Field(True, description="Embedding similarity of each answer to the reference, next to a "
                                               "chance baseline (the same answers against shuffled references)")
    embedder: str = Field(DEFAULT_EMBEDDER, description="Embedding model for similarity: a bundled id or a local "
                                                        "sentence-transformers folder")
    lexical: bool = Field(True, description="ROUGE-1/2/L and BLEU-4 against the reference (Chinese segmented with "
                                            "jieba), x100")
    classification: Literal["auto", "on", "off"] = Field(
        "auto", description="Exact-match accuracy, macro-F1 and a confusion matrix; auto = on when the references "
                            "look like labels (few distinct short values)")
    judge: JudgeConfig | None = Field(None, description="LLM-as-judge pointwise scores (reason first, then the "
                                                        "score); empty = no judge")
    pairwise: JudgeConfig | None = Field(None, description="LLM-as-judge A/B comparison of every arm against the "
                                                           "baseline arm, both orders; empty = none")
    baseline_arm: str | None = Field(None, description="The arm the others are compared with (pairwise and win "
                                                       "rates); empty = the first arm")
    bootstrap: int = Field(1000, ge=100, le=100_000, description="Bootstrap resamples for the 95% confidence "
                                                                "intervals")
    seed: int = Field(0, description="Seed for the chance baseline shuffle and the bootstrap")

    @field_validator("classification", mode="before")
    @classmethod
    def _yaml_switch(cls, value):
        """YAML reads an unquoted `on` / `off` as true / false: take them as the user wrote them."""
        return {True: "on", False: "off"}.get(value, value) if isinstance(value, bool) else value

    @field_validator("inference")
    @classmethod
    def _inference_given(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("choose an inference / 请选择一次推理")
        return value.strip()

    @field_validator("judge")
    @classmethod
    def _pointwise(cls, value: JudgeConfig | None) -> JudgeConfig | None:
        if value is not None and value.mode != "pointwise":
            raise ValueError("the judge must be pointwise; use `pairwise` for A/B / judge 须为逐条打分，A/B 比较请用 pairwise")
        return value

    @field_validator("pairwise")
    @classmethod
    def _pairwise(cls, value: JudgeConfig | None) -> JudgeConfig | None:
        if value is not None and value.mode != "pairwise":
            return value.model_copy(update={"mode": "pairwise"})
        return value


def config_errors(data: dict) -> list[str]:
    """Located, bilingual problems of a config dict (empty when it is valid)."""
    try:
        EvalConfig(**data)
    except ValidationError as error:
        return problems(error)
    return []


def to_yaml(config: EvalConfig) -> str:
    header = "# python -m workbench evaluate this.yaml\n"
    return header + yaml.safe_dump(config.model_dump(exclude_none=True), allow_unicode=True, sort_keys=False)


def read_config(path) -> EvalConfig:
    """A config file as an EvalConfig; ValueError lists every problem as 'file:line: field: message'."""
    return read_checked(path, config_errors, EvalConfig)


def from_yaml(text: str) -> EvalConfig:
    data = parse_mapping(text)
    found = config_errors(data)
    if found:
        raise ValueError("; ".join(found))
    return EvalConfig(**data)
