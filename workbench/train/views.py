"""What the Train and Runs pages show: knob widgets described from TrainConfig, launch checks, curve and
run tables. Pure data in, data out (no streamlit), so the pages stay render-only and this is unit-tested."""
from __future__ import annotations

import json
import typing
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from .config import PRESETS, TrainConfig, help_text
from .runs import RunInfo, config_diff, read_metrics

ALL_LINEAR = "all-linear"
# Knobs drawn by the generic loop, by tab; the other fields have their own widgets (data, model, targets, name).
KNOB_GROUPS: dict[str, list[str]] = {
    "training": ["learning_rate", "epochs", "max_steps", "max_length", "batch_size", "gradient_accumulation",
                 "scheduler", "warmup_ratio"],
    "lora": ["lora_rank", "lora_alpha", "lora_dropout"],
    "evaluation": ["eval_steps", "max_eval_rows", "save_steps", "logging_steps", "seed"],
    "memory": ["precision", "tokens_per_micro_batch", "packing", "gradient_checkpointing", "weight_decay",
               "max_grad_norm", "merge"],
}
SPECIAL_FIELDS = ("name", "dataset", "version", "split", "eval_split", "base_model", "method", "lora_targets")
# Step and display format of the float knobs (a learning rate of 0.0002 needs scientific notation).
FLOAT_STEPS = {"learning_rate": (1e-5, "%.1e"), "epochs": (0.5, "%.2f"), "lora_dropout": (0.05, "%.2f"),
               "warmup_ratio": (0.01, "%.2f"), "weight_decay": (0.01, "%.3f"), "max_grad_norm": (0.1, "%.2f")}


@dataclass(frozen=True)
class Knob:
    """How to draw one TrainConfig field: kind is int, optional_int, float, bool or choice."""
    name: str
    kind: str
    default: typing.Any
    help: str
    options: tuple = ()
    step: float | int | None = None
    format: str | None = None


def figure(value, pattern: str = "{:.4f}") -> str:
    """A metric as the page and the CLI show it ("–" when there is none yet)."""
    return "–" if value is None else pattern.format(value)


def knob(field: str) -> Knob:
    info = TrainConfig.model_fields[field]
    annotation, default = info.annotation, info.default
    if typing.get_origin(annotation) is typing.Literal:
        return Knob(field, "choice", default, help_text(field), typing.get_args(annotation))
    if annotation is bool:
        return Knob(field, "bool", default, help_text(field))
    if annotation is int:
        return Knob(field, "int", default, help_text(field), step=1)
    if annotation is float:
        step, fmt = FLOAT_STEPS.get(field, (0.1, "%.3f"))
        return Knob(field, "float", default, help_text(field), step=step, format=fmt)
    if set(typing.get_args(annotation)) == {int, type(None)}:
        return Knob(field, "optional_int", default, help_text(field), step=1)
    raise TypeError(f"no widget for {field}: {annotation}")


def knobs(group: str) -> list[Knob]:
    return [knob(name) for name in KNOB_GROUPS[group]]


def preset_values(preset: str | None) -> dict:
    """The method and every generic knob's value: the TrainConfig defaults overlaid with the preset."""
    names = ["method"] + [name for group in KNOB_GROUPS.values() for name in group]
    values = {name: TrainConfig.model_fields[name].default for name in names}
    values.update({k: v for k, v in PRESETS.get(preset or "", {}).items() if k in values})
    return values


def lora_targets(selection: list[str]) -> list[str] | str:
    """The multiselect's choice as the config value: all linear layers when none or 'all-linear' is picked."""
    return ALL_LINEAR if not selection or ALL_LINEAR in selection else list(selection)


def split_options(splits: dict) -> tuple[list, list]:
    """(train split choices, eval split choices); 'train' is always offered so an unsplit dataset is caught."""
    names = sorted(splits, key=lambda s: (s != "train", s))
    train = (names if "train" in names else ["train"] + names) + [None]
    return train, [None] + [n for n in names if n != "train"]


def default_eval_split(splits: dict) -> str | None:
    return next((name for name in ("validation", "val", "dev", "test") if name in splits), None)


def base_of(ws, model_id: str) -> str:
    """The model whose tokenizer and layers a run uses (a previous run's base when continuing it)."""
    from .. import models

    spec = models.resolve(ws, model_id)
    return spec.base if spec.kind == "run" and spec.base else spec.id


def layers_ready(ws, model_id: str) -> bool:
    """Whether the layer names can be read at once (the model needs no one-off conversion first)."""
    from .. import models

    return not models.needs_conversion(ws, base_of(ws, model_id))


def quick_config(ws, dataset_id: str, base_model: str, preset: str) -> TrainConfig:
    """The sidebar's one-click run: newest version, train split, its validation split, the preset's knobs."""
    version = ws.version(dataset_id)
    return TrainConfig(dataset=dataset_id, version=version.number, base_model=base_model,
                       eval_split=default_eval_split(version.splits), **PRESETS[preset])


def launch_problems(ws, config: TrainConfig, accelerate_config: str = "", num_processes: int = 1) -> list[str]:
    """Everything that stops this launch: the preflight checks plus the launcher settings."""
    from .. import models
    from .preflight import check_launch

    problems = check_launch(ws, config)
    if accelerate_config and not Path(accelerate_config).expanduser().is_file():
        problems.append(f"accelerate config file not found: {accelerate_config} / 找不到 accelerate 配置文件")
    if num_processes < 1:
        problems.append("number of processes must be at least 1 / 进程数必须至少为 1")
    try:
        if models.resolve(ws, config.base_model).kind == "run" and config.method != "lora":
            problems.append(f"continuing {config.base_model} needs the LoRA method / 继续训练已有运行需要使用 LoRA")
    except Exception:  # an unknown model is already reported by check_launch
        pass
    return problems


# --- metrics ------------------------------------------------------------------------------------------
def curve_frame(rows: list[dict]) -> pd.DataFrame:
    """Loss curves in long form: step, loss, series ('train' or 'validation')."""
    points = [{"step": r["step"], "loss": r["loss"], "series": "train"} for r in rows if "loss" in r]
    points += [{"step": r["step"], "loss": r["eval_loss"], "series": "validation"} for r in rows if "eval_loss" in r]
    return pd.DataFrame(points, columns=["step", "loss", "series"])


def lr_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"step": r["step"], "lr": r["lr"]} for r in rows if "lr" in r], columns=["step", "lr"])


def latest(rows: list[dict]) -> dict:
    """The newest train row's numbers plus the newest validation loss (empty dict before the first step)."""
    train = [r for r in rows if "loss" in r]
    evals = [r for r in rows if "eval_loss" in r]
    if not train and not evals:
        return {}
    last = dict(train[-1]) if train else {}
    return {**last, "eval_loss": evals[-1]["eval_loss"] if evals else None}


def run_numbers(run: RunInfo, rows: list[dict] | None = None) -> dict:
    """Steps, final losses and speed of a run: its summary when finished, else its metrics so far."""
    summary = run.summary or {}
    now = latest(read_metrics(run.folder) if rows is None else rows)
    return {"steps": summary.get("steps", now.get("step")),
            "train_loss": summary.get("train_loss", now.get("loss")),
            "eval_loss": summary.get("eval_loss", now.get("eval_loss")),
            "tokens_per_s": summary.get("tokens_per_s", now.get("tokens_per_s")),
            "rss_mb": summary.get("rss_mb", now.get("rss_mb")), "gpu_mb": summary.get("gpu_mb", now.get("gpu_mb"))}


def runs_table(runs: list[RunInfo]) -> pd.DataFrame:
    """One row per run for the Runs page list."""
    rows = []
    for run in runs:
        numbers = run_numbers(run)
        rows.append({"name": run.name, "state": run.state, "dataset": f"{run.dataset_id}@{run.dataset_version}",
                     "base": run.base_model, "steps": numbers["steps"], "train_loss": numbers["train_loss"],
                     "eval_loss": numbers["eval_loss"], "tokens_per_s": numbers["tokens_per_s"],
                     "created": pd.Timestamp(run.created_at, unit="s").floor("s"), "id": run.id})
    columns = ["name", "state", "dataset", "base", "steps", "train_loss", "eval_loss", "tokens_per_s", "created", "id"]
    return pd.DataFrame(rows, columns=columns)


def distinct_names(runs: list[RunInfo]) -> list[RunInfo]:
    """The runs with their id appended to names that two runs share (names label curves and diff columns)."""
    counts = Counter(run.name for run in runs)
    return [replace(run, name=f"{run.name} ({run.id})") if counts[run.name] > 1 else run for run in runs]


def runs_curves(runs: list[RunInfo]) -> pd.DataFrame:
    """Loss curves of several runs in long form: run, step, loss, series."""
    runs = distinct_names(runs)
    frames = [curve_frame(read_metrics(run.folder)).assign(run=run.name) for run in runs]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=["step", "loss", "series", "run"])
    return pd.concat(frames, ignore_index=True)


def final_metrics(runs: list[RunInfo]) -> pd.DataFrame:
    return pd.DataFrame([{"run": run.name, **run_numbers(run)} for run in distinct_names(runs)])


def diff_frame(runs: list[RunInfo]) -> pd.DataFrame:
    """config_diff as a table of text cells (lists and None would not display in one typed column)."""
    def cell(value) -> str:
        return "–" if value is None else value if isinstance(value, str) else json.dumps(value)

    rows = config_diff(distinct_names(runs))
    return pd.DataFrame([{key: cell(value) if key != "knob" else value for key, value in row.items()} for row in rows])


def run_outputs(run: RunInfo) -> dict:
    """Where a run's results are and the model id inference uses."""
    weights = run.adapter if run.adapter.is_dir() else run.folder / "model"
    return {"folder": str(run.folder), "weights": str(weights) if weights.is_dir() else None,
            "model_id": run.model_id}
