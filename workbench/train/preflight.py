"""Before launch: the data-quality gate, the layers LoRA can target, and a measured time estimate."""
from __future__ import annotations

import time

import numpy as np

from .. import models
from ..allocator import keep_freed_memory
from ..i18n import t
from ..jobs import job_kind
from . import formatting, modeling, packing
from .config import TrainConfig
from .modeling import TrainError


def target_modules(ws, model_id: str) -> list[str]:
    """Linear layer names LoRA can target in this model, read from an empty (meta) copy: no weights loaded."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    spec = models.resolve(ws, model_id)
    if spec.kind == "run" and spec.base:
        spec = models.resolve(ws, spec.base)
    config = AutoConfig.from_pretrained(str(models.converted_model_folder(ws, spec)))
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return modeling.linear_module_names(model)


def quality_gate(ws, config: TrainConfig, tokenizer) -> dict:
    """What the run would meet in its data: rows cut or skipped by max length, empty outputs, duplicates, leakage.
    Rows are tokenized once, with the run's chat template and its row filter; no model is loaded."""
    from ..data.quality_fixes import QualityOptions, cached_report, report_for_version
    from .trainer import split_rows

    version = ws.version(config.dataset, config.version)
    rows = split_rows(ws, config, config.split)
    lengths = formatting.length_report(tokenizer, rows, config.max_length)
    options = QualityOptions()  # the Quality page's defaults: its cached report serves here, and this one there
    summary = (cached_report(version, options) or report_for_version(ws, version, options)).summary()
    splits = version.splits or {}
    return {"ref": version.ref, "split": config.split, "max_length": config.max_length,
            "rows": len(rows), "kept": lengths["kept"], "truncated": lengths["truncated"], "cut": lengths["cut"],
            "dropped": lengths["dropped"], "unusable": lengths["unusable"], "empty_outputs": lengths["empty"],
            "longest": lengths["max"], "p95": lengths["p95"], "mean_tokens": lengths["mean"],
            "tokens": lengths["tokens"], "exact_duplicates": summary["exact_duplicate_rows"],
            "near_duplicates": summary["near_duplicate_rows"], "leaked_rows": summary["leaked_rows"],
            "splits": splits, "eval_split": config.eval_split,
            "eval_rows": splits.get(config.eval_split, 0) if config.eval_split else None}


def gate_blocks(gate: dict, lang: str = "en") -> str | None:
    """What stops the run, in the user's language: no row left to learn from (the trainer would refuse it); None
    when the run can start."""
    if gate["kept"]:
        return None
    return t("train.gate.blocked", lang, ref=gate["ref"], split=gate["split"] or t("train.every_row", lang),
             rows=f"{gate['rows']:,}", empty=f"{gate['empty_outputs']:,}", dropped=f"{gate['dropped']:,}",
             max=gate["max_length"], unusable=f"{gate['unusable']:,}")


@modeling.out_of_memory_advice()
def estimate(ws, config: TrainConfig, warmup_steps: int = 2, progress=None) -> dict:
    """Tokens and steps of the run, and its time from a few real training steps measured on this machine."""
    import torch

    from .trainer import load_model, prepare_run_data

    data, _ = prepare_run_data(ws, config.model_copy(update={"eval_split": None}))
    train = data.train
    lengths = np.asarray([len(e.input_ids) for e in train])
    steps = packing.total_steps(len(train), config.batch_size, config.gradient_accumulation, config.epochs,
                                config.max_steps)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    keep_freed_memory()
    precision = modeling.resolve_precision(config.precision, device)
    torch.manual_seed(config.seed)
    model, _ = load_model(ws, config, device, precision)
    model.to(device).train()
    seconds, tokens = [], []
    for step in range(warmup_steps + 1):
        if progress:
            progress(step, warmup_steps + 1)
        rows = packing.step_rows(len(train), step, config.batch_size, config.gradient_accumulation, config.seed)
        started, used = time.time(), 0
        for group in packing.micro_batches(rows, lengths, config.batch_size, config.token_cap(device)):
            batch = packing.make_batch([train[i] for i in group], config.packing, data.pad_token_id)
            with modeling.autocast(device, precision):
                loss = modeling.batch_loss(model, batch, device) / max(batch.answer_tokens, 1)
            loss.backward()
            used += batch.tokens
        model.zero_grad(set_to_none=True)
        if step:  # the first step warms caches and allocators
            seconds.append(time.time() - started)
            tokens.append(used)
    rate = sum(tokens) / max(sum(seconds), 1e-9)
    step_tokens = float(lengths.mean()) * config.batch_size * config.gradient_accumulation
    total_tokens = int(step_tokens * steps)
    return {"rows": len(train), "skipped": len(data.problems), "steps": steps, "tokens": total_tokens,
            "tokens_per_s": round(rate, 1), "seconds": round(total_tokens / max(rate, 1e-9), 2),
            "minutes": round(total_tokens / max(rate, 1e-9) / 60, 1), "device": device, "precision": precision}


@job_kind("train_estimate")
def estimate_job(ctx, params) -> dict:
    """A few measured steps to estimate a run's time. params: the TrainConfig as a dict."""
    config = TrainConfig(**params["config"])
    ctx.log("measuring a few training steps")
    result = estimate(ctx.ws, config, progress=lambda done, total: ctx.progress(done, total, "warm-up step"))
    ctx.log(f"estimate: {result['steps']} steps, {result['tokens_per_s']} tok/s, ~{result['minutes']} min")
    return result


def check_launch(ws, config: TrainConfig) -> list[str]:
    """Problems that stop a launch, in the user's words (empty when the run can start)."""
    try:
        version = ws.version(config.dataset, config.version)
    except Exception as error:  # unknown dataset or version
        return [str(error)]
    return _data_problems(version, config) + _model_problems(ws, config)


def _data_problems(version, config: TrainConfig) -> list[str]:
    if config.split and config.split not in (version.splits or {}):
        if not version.splits:
            return [f"dataset {version.ref} has no '{config.split}' split: split it first / "
                    f"数据集 {version.ref} 没有“{config.split}”划分，请先划分"]
        return [f"dataset {version.ref} has no '{config.split}' split; it has {', '.join(version.splits)} / "
                f"数据集 {version.ref} 没有“{config.split}”划分；现有划分：{'、'.join(version.splits)}"]
    if not config.split and not version.rows:
        return [f"dataset {version.ref} has no rows / 数据集 {version.ref} 没有任何行"]
    return []


def _model_problems(ws, config: TrainConfig) -> list[str]:
    """An unknown or unavailable model, a folder that is not a causal LM, LoRA targets it does not have."""
    try:
        spec = models.resolve(ws, config.base_model)
        base = models.resolve(ws, spec.base) if spec.kind == "run" and spec.base else spec
        if spec.kind != "hub" and not models.needs_conversion(ws, base):  # a GGUF is checked when converted
            modeling.check_causal_lm(models.converted_model_folder(ws, base))
        if config.method == "lora" and config.lora_targets != "all-linear":
            modeling.check_targets(config.lora_targets, target_modules(ws, config.base_model))
    except (TrainError, models.ModelError, OSError, ValueError) as error:
        return [str(error)]
    return []


def steps_for(rows: int, config: TrainConfig) -> int:
    return packing.total_steps(rows, config.batch_size, config.gradient_accumulation, config.epochs, config.max_steps)

