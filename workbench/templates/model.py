"""What a prompt template is: text (jinja2), its variables, where it belongs, and one worked example."""
from __future__ import annotations

import re
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# qa_generation/judge templates ask for strict JSON (later code parses it); "instruction" builds a task
# instruction from dataset columns (what "apply to a dataset" is mostly for).
SCALES = ("1-5", "1-10", "0-1")  # the score ranges a judge rubric can ask for
CATEGORIES = ("qa_generation", "qa_answer", "augmentation", "judge", "system", "rewrite", "instruction")
LANGUAGES = ("zh", "en")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def is_variable_name(name: str) -> bool:
    """A name jinja2 reads as one variable: an identifier (Chinese is fine: {{ 领域 }}) that NFKC leaves as it
    is. Python applies NFKC to the identifiers in the code jinja2 compiles, so {{ ｘ }} would read x's value."""
    return str(name).isidentifier() and unicodedata.normalize("NFKC", name) == name


class Variable(BaseModel):
    """One value the text needs; an optional one falls back to `default` when not given."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    description: str = ""
    required: bool = True
    default: str = ""

    @field_validator("name")
    @classmethod
    def name_is_a_variable(cls, value: str) -> str:
        if not is_variable_name(value):
            raise ValueError(f"'{value}' is not a variable name (letters, Chinese included, digits and _; no "
                             f"full-width letters) / “{value}”不是有效的变量名（可用字母、汉字、数字和下划线，不能用全角字母）")
        return value


class Names(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Template(BaseModel):
    """A builtin (read-only, from builtin/*.yaml) or a user template (one immutable file per version)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=ID_PATTERN.pattern)
    name: Names
    category: Literal[CATEGORIES]
    kind: str = ""  # the strategy inside the category: paraphrase_instruction, pointwise, persona, …
    language: Literal[LANGUAGES]
    description: str = ""
    variables: list[Variable] = []
    text: str = Field(min_length=1)
    example: dict[str, str] = {}  # variable -> value; rendered on demand, so it never goes stale
    output: Literal["text", "json"] = "text"  # what a model answering this prompt should return
    target: str = ""  # the field it usually fills when applied to a dataset (instruction, system, …)
    scale: Literal[("",) + SCALES] = ""  # judge rubrics: the score range the text asks for ("" = not a score)
    source: Literal["builtin", "user"] = "builtin"
    version: int | None = None  # user templates: 1, 2, …
    parent: int | None = None  # the version this one was edited from
    derived_from: str | None = None  # the template ref it was duplicated from
    created_at: float | None = None

    @field_validator("example", mode="before")
    @classmethod
    def example_as_text(cls, value):
        return {str(k): "" if v is None else str(v) for k, v in (value or {}).items()}

    @property
    def ref(self) -> str:
        """`id` for a builtin, `id@N` for a user template version (what datasets record)."""
        return self.id if self.source == "builtin" else f"{self.id}@{self.version}"

    def title(self, lang: str = "en") -> str:
        return self.name.zh if lang == "zh" else self.name.en

    def variable(self, name: str) -> Variable | None:
        return next((v for v in self.variables if v.name == name), None)

    def defaults(self) -> dict[str, str]:
        return {v.name: v.default for v in self.variables if not v.required}
