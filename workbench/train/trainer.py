"""The training loop of a run: packed padding-free micro-batches, answer-only loss, checkpoints, resume.

Runs inside the `train` job (started through `accelerate launch`); with several processes each rank
takes its share of every step's rows and the gradients are summed across ranks before the update.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import models
from ..allocator import keep_freed_memory
from ..i18n import in_language
from ..jobs import JobCancelled
from ..storage import write_json_atomic
from . import checkpoint, formatting, modeling, packing
from .config import TrainConfig
from .modeling import TrainError, out_of_memory_advice
from .runs import get_run, read_metrics, truncate_metrics


def split_rows(ws, config: TrainConfig, split: str | None) -> list[dict]:
    """Rows of the run's dataset version (one split, or all rows when `split` is empty)."""
    import pyarrow.compute as pc

    version = ws.version(config.dataset, config.version)
    table = ws.read(version)
    if split:
        if "_split" not in table.column_names or split not in set(table.column("_split").to_pylist()):
            raise TrainError(f"dataset {version.ref} has no '{split}' split: split it on the Datasets page first / "
                             f"数据集 {version.ref} 没有“{split}”划分，请先在数据集页面划分")
        table = table.filter(pc.equal(table.column("_split"), split))
    return table.to_pylist()


def prepare(ws, config: TrainConfig, tokenizer):
    """(train examples, eval examples, problems) after formatting; zero rows left is an error."""
    rows = split_rows(ws, config, config.split)
    train, problems = formatting.tokenize_rows(tokenizer, rows, config.max_length)
    if not train:
        where = ws.version(config.dataset, config.version).ref + (f" split '{config.split}'" if config.split else "")
        first = problems[0] if problems else None  # its problem is bilingual too: one language per half
        english = f"e.g. row {first['row']}: {in_language(first['problem'], 'en')}" if first else "the data has no rows"
        chinese = f"例如第 {first['row']} 行：{in_language(first['problem'], 'zh')}" if first else "数据没有任何行"
        raise TrainError(f"nothing to train on in {where}: {len(problems)} of {len(rows)} rows skipped, {english} / "
                         f"{where} 中没有可训练的行：{len(rows)} 行中跳过 {len(problems)} 行，{chinese}")
    evaluation: list = []
    if config.eval_split:
        try:
            rows = split_rows(ws, config, config.eval_split)
        except TrainError:
            rows = []
        picked = np.random.default_rng(config.seed).permutation(len(rows))[:config.max_eval_rows]
        evaluation, _ = formatting.tokenize_rows(tokenizer, [rows[i] for i in sorted(picked)], config.max_length)
    return train, evaluation, problems


def base_and_adapter(ws, config: TrainConfig) -> tuple[str, Path | None]:
    """The base model id, and the adapter folder when continuing a previous LoRA run."""
    spec = models.resolve(ws, config.base_model)
    if spec.kind != "run":
        return spec.id, None
    previous = get_run(ws, spec.id)
    if config.method != "lora" or not previous.adapter.is_dir():
        raise TrainError(f"run {previous.id} has no LoRA adapter to continue / 该训练没有可继续的 LoRA 适配器")
    return previous.base_model, previous.adapter


def load_run_tokenizer(ws, base_id: str):
    """The base model's tokenizer with the chat template the run formats rows with."""
    try:
        tokenizer = models.load_tokenizer(ws, base_id)
    except (OSError, ValueError) as error:  # a folder of broken or random files
        raise TrainError(f"cannot load the tokenizer of {base_id}: {str(error).splitlines()[0]} / "
                         f"无法加载 {base_id} 的分词器") from error
    formatting.ensure_chat_template(tokenizer)
    return tokenizer


def load_model(ws, config: TrainConfig, device_type: str, precision: str, log=lambda message: None):
    """(the model a run trains, its base model id): the base in the precision's float type with a new LoRA adapter,
    the previous run's adapter when continuing one, or all weights trainable for a full fine-tune; gradient
    checkpointing on when the config asks. Not moved to a device yet."""
    base_id, adapter = base_and_adapter(ws, config)
    log(f"loading {base_id}" + (f" with the adapter of {config.base_model}" if adapter else ""))
    model = modeling.load_base(models.converted_model_folder(ws, base_id),
                               modeling.attention_for(device_type, config.packing), modeling.weight_dtype(precision))
    if config.method == "lora":
        model = modeling.add_adapter(model, config, adapter)
    if config.gradient_checkpointing:
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    return model, base_id


@dataclass
class RunData:
    train: list          # formatting.Example
    evaluation: list     # formatting.Example (the fixed validation sample)
    problems: list[dict]  # rows skipped and why
    pad_token_id: int


def prepare_run_data(ws, config: TrainConfig) -> tuple[RunData, object]:
    """(the run's examples, the tokenizer that made them), in this process (or in dataprep's helper)."""
    tokenizer = load_run_tokenizer(ws, base_and_adapter(ws, config)[0])
    train, evaluation, problems = prepare(ws, config, tokenizer)
    return RunData(train, evaluation, problems, tokenizer.pad_token_id or 0), tokenizer


class Trainer:
    """One process's share of a run: model, optimizer, data plan; `fit()` runs to the end or a cancel."""

    def __init__(self, ws, run_id: str, ctx=None):
        import torch
        from accelerate import Accelerator

        self.ws, self.ctx, self.run = ws, ctx, get_run(ws, run_id)
        self.config = self.run.config
        self.accelerator = Accelerator(cpu=not torch.cuda.is_available())
        self.device = self.accelerator.device
        self.rank, self.world = self.accelerator.process_index, self.accelerator.num_processes
        self.main = self.accelerator.is_main_process
        self.precision = modeling.resolve_precision(self.config.precision, self.device.type)
        self.started = time.time()
        self._tokenizer = None  # loaded with the data, or on first use when a helper tokenized it

    # --- set-up -------------------------------------------------------------------------------
    @out_of_memory_advice()
    def setup(self, data=None) -> None:
        """Model, data, optimizer, and the newest checkpoint if there is one. `data`: a dataprep.Helper already
        tokenizing the split in another process (the model loads meanwhile), or None to tokenize here."""
        import torch
        from transformers import get_scheduler

        config = self.config
        keep_freed_memory()
        torch.manual_seed(config.seed)
        model, self.base_id = load_model(self.ws, config, self.device.type, self.precision, self.log)
        self.model = model.to(self.device)
        self.model.train()

        self.log(f"preparing data ({config.dataset}@{config.version}, split {config.split})")
        prepared = data.result() if data is not None else None
        if prepared is None:
            prepared, self._tokenizer = prepare_run_data(self.ws, config)
        self.train_set, self.eval_set, self.pad_id = prepared.train, prepared.evaluation, prepared.pad_token_id
        if prepared.problems:
            first = prepared.problems[0]
            self.log(f"skipped {len(prepared.problems)} rows, e.g. row {first['row']}: {first['problem']}")
        self.rows_cut = cut = sum(example.truncated for example in self.train_set)
        if cut:
            self.log(f"{cut} of {len(self.train_set)} rows are longer than max_length={config.max_length} tokens and "
                     f"were cut (raise max_length to keep them whole) / {cut} 行超过最大长度 {config.max_length}，"
                     f"已截断（调大 max_length 可保留完整内容）")
        if config.eval_split and not self.eval_set:
            self.log(f"no rows in validation split '{config.eval_split}': no validation loss / 没有验证集，不计算验证损失")
        self.lengths = np.asarray([len(e.input_ids) for e in self.train_set])
        self.answers = np.asarray([e.answer_tokens for e in self.train_set])
        self.total_steps = packing.total_steps(len(self.train_set), config.batch_size, config.gradient_accumulation,
                                               config.epochs, config.max_steps)
        self.log(f"{len(self.train_set)} rows, {int(self.lengths.sum())} tokens, {self.total_steps} steps, "
                 f"precision {self.precision}, {self.world} process(es) on {self.device}"
                 + (f", {torch.get_num_threads()} CPU thread(s) each" if self.device.type == "cpu" else ""))
        self.parameters = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
        self.scheduler = get_scheduler(config.scheduler, self.optimizer,
                                       num_warmup_steps=math.ceil(config.warmup_ratio * self.total_steps),
                                       num_training_steps=self.total_steps)
        self.scaler = torch.amp.GradScaler(self.device.type) if self.precision == "fp16" else None
        self.fused = modeling.fused_loss(self.device.type)
        self.counters = {"tokens": 0, "seconds": 0.0}
        self.step = 0
        last = checkpoint.latest(self.run.folder / "checkpoints")
        if last is not None:
            self.counters = checkpoint.load(last, self.model, self.optimizer, self.scheduler)
            self.step = self.counters["step"]
            if self.main:
                truncate_metrics(self.run.folder, self.step)
            self.log(f"resumed from {last.name} (step {self.step} of {self.total_steps})")

    @property
    def tokenizer(self):
        """The run's tokenizer (with the chat template it trained with), saved beside the adapter."""
        if self._tokenizer is None:
            self._tokenizer = load_run_tokenizer(self.ws, self.base_id)
        return self._tokenizer

    # --- the loop -------------------------------------------------------------------------------
    @out_of_memory_advice()
    def fit(self) -> dict:
        if self.ctx is not None and self.main:
            self.ctx.phase(self.step)  # the ETA from the steps' pace: loading and data preparation are done
        while self.step < self.total_steps:
            if self._cancel_requested():
                self.save_checkpoint()
                raise JobCancelled()
            self.train_step()
            if self.config.save_steps and self.step % self.config.save_steps == 0:
                self.save_checkpoint()
            if self.config.eval_steps and self.step % self.config.eval_steps == 0:
                self.evaluate()
        return self.finish()

    def _cancel_requested(self) -> bool:
        """The user's cancel, agreed by all processes: only rank 0 gets the signal, and a rank that went on alone
        would block in the next gradient all-reduce and die with a traceback when rank 0 exits."""
        flag = self.ctx is not None and self.ctx.cancelled
        if self.world == 1:
            return flag
        import torch
        import torch.distributed as dist

        value = torch.tensor([float(flag)], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def train_step(self) -> None:
        import torch

        config, started = self.config, time.time()
        rows = packing.step_rows(len(self.train_set), self.step, config.batch_size, config.gradient_accumulation,
                                 config.seed)
        answer_total = max(1, int(self.answers[rows].sum()))  # the whole step's, so ranks and micro-batches add up
        mine = rows[self.rank::self.world]
        loss_sum, tokens = 0.0, 0
        for group in packing.micro_batches(mine, self.lengths, config.batch_size, config.token_cap(self.device.type)):
            batch = packing.make_batch([self.train_set[i] for i in group], config.packing,
                                       self.pad_id)
            with modeling.autocast(self.device.type, self.precision):
                loss = modeling.batch_loss(self.model, batch, self.device, self.fused) / answer_total
            (self.scaler.scale(loss) if self.scaler else loss).backward()
            loss_sum += float(loss.detach())
            tokens += batch.tokens
        loss_sum, tokens = self._sum_over_ranks(loss_sum, tokens)
        if self.scaler:
            self.scaler.unscale_(self.optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(self.parameters, config.max_grad_norm)
        if self.scaler:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        learning_rate = self.scheduler.get_last_lr()[0]
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        seconds = time.time() - started
        self.counters["tokens"] += tokens
        self.counters["seconds"] += seconds
        if self.step % config.logging_steps == 0 or self.step == self.total_steps:
            self.record({"step": self.step, "epoch": round(self.step / self._steps_per_epoch(), 4),
                         "loss": round(loss_sum, 5), "lr": learning_rate, "grad_norm": round(float(grad_norm), 4),
                         "tokens": self.counters["tokens"], "tokens_per_s": round(tokens / max(seconds, 1e-9), 1),
                         "seconds": round(self.counters["seconds"], 2), **self._memory()})
        if self.ctx is not None and self.main:
            self.ctx.progress(self.step, self.total_steps,
                              f"step {self.step}/{self.total_steps} · loss {loss_sum:.3f} · "
                              f"{tokens / max(seconds, 1e-9):.0f} tok/s")

    def _steps_per_epoch(self) -> int:
        return packing.steps_per_epoch(len(self.train_set), self.config.batch_size, self.config.gradient_accumulation)

    def _sum_over_ranks(self, loss_sum: float, tokens: int) -> tuple[float, int]:
        """Sum gradients (and the logged loss/tokens) over processes; a no-op with one process."""
        if self.world == 1:
            return loss_sum, tokens
        import torch
        import torch.distributed as dist

        for parameter in self.parameters:
            if parameter.grad is None:
                parameter.grad = torch.zeros_like(parameter)
            dist.all_reduce(parameter.grad)
        totals = torch.tensor([loss_sum, float(tokens)], device=self.device)
        dist.all_reduce(totals)
        return float(totals[0]), int(totals[1])

    def evaluate(self) -> float | None:
        """Mean answer-token loss on the fixed validation sample (every rank computes it: it is small)."""
        import torch

        if not self.eval_set:
            return None
        self.model.eval()
        total, answers = 0.0, 0
        indices = np.arange(len(self.eval_set))
        lengths = np.asarray([len(e.input_ids) for e in self.eval_set])
        with torch.no_grad(), modeling.autocast(self.device.type, self.precision):
            for group in packing.micro_batches(indices, lengths, self.config.batch_size * 2,
                                               self.config.token_cap(self.device.type)):
                batch = packing.make_batch([self.eval_set[i] for i in group], self.config.packing,
                                           self.pad_id)
                total += float(modeling.batch_loss(self.model, batch, self.device, self.fused))
                answers += batch.answer_tokens
        self.model.train()
        value = total / max(answers, 1)
        self.record({"step": self.step, "eval_loss": round(value, 5)})
        self.log(f"step {self.step}: validation loss {value:.4f}")
        return value

    def save_checkpoint(self) -> None:
        if not self.main:
            return
        try:
            path = checkpoint.save(self.run.folder / "checkpoints", self.step, self.model, self.optimizer,
                                   self.scheduler, self.counters)
        except OSError as error:
            last = checkpoint.latest(self.run.folder / "checkpoints")
            raise TrainError(f"could not write the checkpoint at step {self.step} ({error.strerror or error}); "
                             f"{'the checkpoint ' + last.name + ' is still valid' if last else 'no earlier checkpoint'}"
                             f" — free disk space and resume / 写检查点失败，之前的检查点仍然有效") from error
        self.log(f"checkpoint {path.name}")

    def finish(self) -> dict:
        """Final evaluation, the adapter (and merged model), and the run summary."""
        evaluated = read_metrics(self.run.folder)
        already = [r["eval_loss"] for r in evaluated if r.get("step") == self.step and "eval_loss" in r]
        eval_loss = already[-1] if already else self.evaluate()
        if self.main:
            self.save_model()
        train_rows = [r for r in read_metrics(self.run.folder) if "loss" in r]
        summary = {"steps": self.step, "train_loss": train_rows[-1]["loss"] if train_rows else None,
                   "eval_loss": round(eval_loss, 5) if eval_loss is not None else None,
                   "tokens": self.counters["tokens"], "train_seconds": round(self.counters["seconds"], 1),
                   "tokens_per_s": round(self.counters["tokens"] / max(self.counters["seconds"], 1e-9), 1),
                   "rows": len(self.train_set), "rows_cut": self.rows_cut,
                   "precision": self.precision, "processes": self.world,
                   **self._memory()}
        if self.main:
            write_json_atomic(self.run.folder / "summary.json", summary)
        return summary

    def save_model(self) -> None:
        target = self.run.folder / ("adapter" if self.config.method == "lora" else "model")
        model = self.accelerator.unwrap_model(self.model)
        model.save_pretrained(str(target))
        self.tokenizer.save_pretrained(str(target))
        if self.config.merge and self.config.method == "lora":
            self.log("merging the adapter into the base model")
            merged = model.merge_and_unload()
            merged.save_pretrained(str(self.run.folder / "merged"))
            self.tokenizer.save_pretrained(str(self.run.folder / "merged"))

    # --- reporting --------------------------------------------------------------------------------
    def record(self, row: dict) -> None:
        if self.main:
            with open(self.run.folder / "metrics.jsonl", "a", encoding="utf-8") as handle:
                handle.write(json.dumps({**row, "time": round(time.time(), 2)}) + "\n")

    def log(self, message: str) -> None:
        if self.main and self.ctx is not None:
            self.ctx.log(message)

    def _memory(self) -> dict:
        import psutil
        import torch

        memory = {"rss_mb": round(psutil.Process().memory_info().rss / 2**20)}
        if self.device.type == "cuda":
            memory["gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
        return memory
