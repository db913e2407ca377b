"""TrainConfig: every knob of a training run, with a one-line help, presets and YAML that explains itself."""
from __future__ import annotations

from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..config_file import parse_mapping, problems, read_checked

Method = Literal["lora", "full"]
Precision = Literal["auto", "bf16", "fp16", "fp32"]
Scheduler = Literal["cosine", "linear", "constant", "constant_with_warmup"]


class TrainConfig(BaseModel):
    """A training run: data, base model, method and knobs. Saved as `config.yaml` in the run folder."""
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", description="Run name shown on the Runs page (default: dataset + model + time)")
    dataset: str = Field(..., description="Dataset id (or name) to train on")
    version: int | None = Field(None, description="Dataset version; empty = the newest")
    split: str | None = Field("train", description="Split to train on; empty = every row")
    eval_split: str | None = Field("validation", description="Split for validation loss; empty = none")
    base_model: str = Field("smollm2-135m-instruct", description="Model id, local folder, or run-<id> to continue a run")
    method: Method = Field("lora", description="LoRA trains small adapters (fast, small files); full updates every weight")
    learning_rate: float = Field(2e-4, description="Step size of the optimizer; LoRA likes 1e-4 to 3e-4, full 1e-5")
    epochs: float = Field(1.0, description="Passes over the training rows; fractions stop part-way")
    max_steps: int | None = Field(None, description="Stop after this many optimizer steps (overrides epochs)")
    max_length: int = Field(512, description="Tokens per row after the chat template; longer rows are cut")
    precision: Precision = Field("auto", description="auto: bf16 on GPUs that support it, fp16 on other GPUs; on CPU "
                                   "bf16 where the CPU computes it natively (AVX512-BF16 or AMX: ~1.8x faster), else fp32")
    lora_targets: list[str] | Literal["all-linear"] = Field(
        "all-linear", description="Layers that get adapters: all linear layers, or a subset listed from the model")
    lora_rank: int = Field(8, description="Adapter rank: capacity of the adapter (4-64)")
    lora_alpha: int = Field(16, description="Adapter scale; usually 2 x rank")
    lora_dropout: float = Field(0.0, description="Dropout on the adapter input; 0.05-0.1 regularizes small datasets (slower on CPU)")
    batch_size: int = Field(8, description="Rows per micro-batch (packed without padding)")
    gradient_accumulation: int = Field(1, description="Micro-batches per optimizer step; rows/step = batch x this")
    tokens_per_micro_batch: int | None = Field(
        None, description="Memory cap: a micro-batch is split when it has more tokens; empty = max length on CPU, 4096 on GPU")
    warmup_ratio: float = Field(0.03, description="Share of steps with a rising learning rate at the start")
    scheduler: Scheduler = Field("cosine", description="How the learning rate falls after warm-up")
    weight_decay: float = Field(0.0, description="L2 pull of weights toward zero")
    max_grad_norm: float = Field(1.0, description="Gradient clipping; protects against loss spikes")
    seed: int = Field(42, description="Seed for data order, dropout and adapter init: same seed, same run")
    eval_steps: int = Field(50, description="Compute validation loss every N steps (0 = only at the end)")
    save_steps: int = Field(50, description="Write a resumable checkpoint every N steps")
    logging_steps: int = Field(1, description="Record train loss every N steps")
    packing: bool = Field(True, description="Pack rows into one sequence, attention kept within each row")
    gradient_checkpointing: bool = Field(False, description="Recompute activations in backward: less memory, ~30% slower")
    merge: bool = Field(False, description="Also write a merged model (base + adapter) for engines that need one")
    max_eval_rows: int = Field(200, description="Validation rows used per evaluation (sampled once, fixed)")

    @field_validator("learning_rate")
    @classmethod
    def _positive_lr(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("learning rate must be > 0 / 学习率必须大于 0")
        return value

    @field_validator("lora_rank", "batch_size", "gradient_accumulation", "max_length", "lora_alpha",
                     "tokens_per_micro_batch", "logging_steps")
    @classmethod
    def _positive_int(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError("must be at least 1 / 必须至少为 1")
        return value

    @field_validator("epochs")
    @classmethod
    def _positive_epochs(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("epochs must be > 0 / 轮数必须大于 0")
        return value

    @field_validator("lora_dropout", "warmup_ratio")
    @classmethod
    def _fraction(cls, value: float) -> float:
        if not 0 <= value < 1:
            raise ValueError("must be between 0 and 1 / 必须在 0 到 1 之间")
        return value

    @model_validator(mode="after")
    def _micro_batch_fits_a_row(self):
        if self.tokens_per_micro_batch is not None and self.tokens_per_micro_batch < self.max_length:
            raise ValueError("tokens_per_micro_batch must be >= max_length so one row always fits / "
                             "每个微批的 token 数必须不小于最大长度")
        return self

    def token_cap(self, device_type: str) -> int:
        """Tokens per micro-batch: the chosen cap, else one max-length row's worth on CPU and 4096 on GPU.

        On CPU a bigger micro-batch is no faster (the matmuls are already large enough to run at the
        cores' peak) but holds all its activations at once: batch 8 of huanhuan in one micro-batch peaks
        at 4.4 GB, split at 512 tokens at 2.7 GB, and the first step, which touches that memory fresh,
        ends ~3 s sooner (bench/time_to_first_step.py)."""
        if self.tokens_per_micro_batch is not None:
            return self.tokens_per_micro_batch
        return self.max_length if device_type == "cpu" else max(4096, self.max_length)


PRESETS: dict[str, dict] = {
    "quick try (CPU)": dict(method="lora", lora_rank=8, lora_alpha=16, learning_rate=3e-4, epochs=1.0, max_steps=30,
                            max_length=256, batch_size=8, gradient_accumulation=1, eval_steps=10, save_steps=10),
    "standard": dict(method="lora", lora_rank=16, lora_alpha=32, learning_rate=2e-4, epochs=2.0, max_steps=None,
                     max_length=512, batch_size=8, gradient_accumulation=2, eval_steps=50, save_steps=50),
    "quality": dict(method="lora", lora_rank=64, lora_alpha=128, learning_rate=1e-4, epochs=3.0, max_steps=None,
                    max_length=1024, batch_size=16, gradient_accumulation=2, eval_steps=100, save_steps=100,
                    lora_dropout=0.1),
}


def help_text(field: str) -> str:
    return TrainConfig.model_fields[field].description or ""


# Chinese for pydantic's own messages (our validators already write both languages).
def config_errors(data: dict) -> list[str]:
    """The problems in a config as 'field: message' lines (empty when it is valid)."""
    try:
        TrainConfig(**data)
        return []
    except ValidationError as error:
        return problems(error, unknown="unknown knob (`python -m workbench runs config` lists them)")


def to_yaml(config: TrainConfig) -> str:
    """The config as YAML that starts with the command that runs it and says what each knob does."""
    lines = ["# Run with: python -m workbench train config.yaml",
             "#   (several GPUs or nodes: add --accelerate-config my_accelerate.yaml; see README, Training)"]
    for field, value in config.model_dump().items():
        lines.append(f"# {help_text(field)}")
        lines.append(yaml.safe_dump({field: value}, allow_unicode=True, sort_keys=False).rstrip())
    return "\n".join(lines) + "\n"


def read_config(path) -> TrainConfig:
    """A config file as a TrainConfig; ValueError lists every problem as 'file:line: field: message'."""
    return read_checked(path, config_errors, TrainConfig)


def from_yaml(text: str) -> TrainConfig:
    return TrainConfig(**parse_mapping(text, "config.yaml"))
