"""InferConfig: which rows, which models ("arms"), how to generate. Saved as `config.yaml` in the inference folder.

An arm is one column of the comparison: a model (bundled id, local folder, `run-<id>` = base + adapter, or
an LLM endpoint name) with an optional system prompt. The same model with two system prompts is two arms.
"""
from __future__ import annotations

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..config_file import parse_mapping, read_checked

ALL_ROWS = "all"  # split value that means every row, whatever splits the dataset has


class Arm(BaseModel):
    """One model (with its system prompt) whose answers are collected for every row."""
    model_config = ConfigDict(extra="forbid")

    label: str = Field(..., description="Name of this arm in outputs and reports; unique within the inference")
    model: str = Field(..., description="Model id (smollm2-135m-instruct, run-<id>), a local model folder, "
                                        "or an LLM endpoint name (local:<id> or a saved endpoint)")
    system_prompt: str | None = Field(None, description="System prompt for every row, replacing the row's own; "
                                                        "empty = keep each row's system prompt")

    @field_validator("label", "model")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty / 不能为空")
        return value.strip()

    @field_validator("system_prompt")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value if value and value.strip() else None


class InferConfig(BaseModel):
    """A batch inference: dataset rows x arms, with shared generation settings."""
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", description="Name shown in the inference list (default: dataset + split + time)")
    dataset: str = Field(..., description="Dataset id whose rows are the prompts")
    version: int | None = Field(None, description="Dataset version; empty = the newest")
    split: str | None = Field("test", description="Split to run on (test by default); 'all' or empty = every row")
    arms: list[Arm] = Field(..., min_length=1, description="Models to compare; the same model with another system "
                                                           "prompt is a separate arm")
    temperature: float = Field(0.0, description="0 = greedy (reproducible); higher = more varied answers")
    top_p: float = Field(1.0, description="Sample only from the most likely tokens whose probabilities add up to this")
    max_new_tokens: int = Field(256, description="Longest answer in tokens; longer answers are cut")
    seed: int | None = Field(42, description="Sampling seed: same seed, same answers (local models; endpoints that "
                                             "support it)")
    batch_size: int = Field(32, description="Local models: prompts generated together (similar lengths are batched)")
    concurrency: int = Field(4, description="Endpoints: requests in flight at once")
    max_rows: int | None = Field(None, description="Only the first N rows of the split (empty = all), for a quick try")

    @field_validator("dataset")
    @classmethod
    def _dataset_given(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("choose a dataset / 请选择数据集")
        return value.strip()

    @field_validator("split")
    @classmethod
    def _split_name(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() or value.strip() == ALL_ROWS else value.strip()

    @field_validator("temperature")
    @classmethod
    def _temperature(cls, value: float) -> float:
        if not 0 <= value <= 2:
            raise ValueError("must be between 0 and 2 / 必须在 0 到 2 之间")
        return value

    @field_validator("top_p")
    @classmethod
    def _top_p(cls, value: float) -> float:
        if not 0 < value <= 1:
            raise ValueError("must be in (0, 1] / 必须在 (0, 1] 之间")
        return value

    @field_validator("max_new_tokens", "batch_size", "concurrency", "max_rows")
    @classmethod
    def _positive(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError("must be at least 1 / 必须至少为 1")
        return value

    @field_validator("concurrency")
    @classmethod
    def _concurrency_cap(cls, value: int) -> int:
        if value > 64:
            raise ValueError("at most 64 requests in flight / 并发数最多为 64")
        return value

    @model_validator(mode="after")
    def _unique_labels(self):
        seen: dict[str, int] = {}
        for index, arm in enumerate(self.arms):
            if arm.label in seen:
                raise ValueError(f"arms[{index}].label: '{arm.label}' is already the label of arms[{seen[arm.label]}]; "
                                 f"give every arm its own label / arms[{index}].label：“{arm.label}”与 "
                                 f"arms[{seen[arm.label]}] 重名，每个对比项需要不同的名称")
            seen[arm.label] = index
        return self

    def generation_params(self):
        from ..llm.types import GenerationParams

        return GenerationParams(max_new_tokens=self.max_new_tokens, temperature=self.temperature, top_p=self.top_p,
                                seed=self.seed)


def help_text(field: str) -> str:
    return InferConfig.model_fields[field].description or ""


# Both languages for pydantic's own messages (our validators already write both).
PYDANTIC_MESSAGES = {
    "extra_forbidden": ("unknown knob (`python -m workbench infer template` lists them)", "未知参数"),
    "missing": ("required", "缺少必填项"),
    "too_short": ("add at least one", "至少需要一项"),
    "int_parsing": ("must be a whole number", "必须是整数"), "int_from_float": ("must be a whole number", "必须是整数"),
    "float_parsing": ("must be a number", "必须是数字"), "string_type": ("must be text", "必须是文本"),
    "list_type": ("must be a list", "必须是列表"), "model_type": ("must be a mapping", "必须是键值映射"),
}


def config_errors(data: dict) -> list[str]:
    """The problems in a config as 'field: message' lines, both languages (empty when it is valid)."""
    try:
        InferConfig(**data)
        return []
    except ValidationError as error:
        return [_located(e) for e in error.errors()]


def _located(error: dict) -> str:
    message = error["msg"].removeprefix("Value error, ")
    if message.startswith("arms["):  # the validator already names the field
        return message
    if error["type"] in PYDANTIC_MESSAGES:
        message = " / ".join(PYDANTIC_MESSAGES[error["type"]])
    elif " / " not in message:
        message += " / 取值无效"
    location = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
    return f"{location or 'config'}: {message}"


def to_yaml(config: InferConfig) -> str:
    """The config as YAML that starts with the command that runs it and says what each knob does."""
    lines = ["# Run with: python -m workbench infer config.yaml   (add --detach to return at once)"]
    for field, value in config.model_dump().items():
        lines.append(f"# {help_text(field)}")
        if field == "arms":
            lines.append("#   each arm: " + "; ".join(f"{name}: {info.description}"
                                                       for name, info in Arm.model_fields.items()))
        lines.append(yaml.safe_dump({field: value}, allow_unicode=True, sort_keys=False).rstrip())
    return "\n".join(lines) + "\n"


def read_config(path) -> InferConfig:
    """A config file as an InferConfig; ValueError lists every problem as 'file:line: field: message'."""
    return read_checked(path, config_errors, InferConfig)


def from_yaml(text: str) -> InferConfig:
    """Parse a config.yaml; a ValueError lists every located problem."""
    data = parse_mapping(text, "config.yaml")
    problems = config_errors(data)
    if problems:
        raise ValueError("\n".join(problems))
    return InferConfig(**data)
