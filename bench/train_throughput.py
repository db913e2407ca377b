"""LoRA training throughput: our trainer vs a plain Hugging Face dynamic-padding loop, side by side.

    .venv/bin/python bench/train_throughput.py [--steps 12] [--model smollm2-135m-instruct] [--batch 8] [--precision P]

Same model, data and machine: huanhuan's train split through the model's chat template (cutoff 512,
loss on answers only), LoRA r=8 / alpha 16 / dropout 0 on all linear layers, batch 8 rows, AdamW,
the same rows in the same order. Each side runs in its own process (peak memory is that process's
max RSS, or peak CUDA memory on a GPU); the first step is a warm-up and not counted. Real tokens are
non-padding tokens. The baseline is what a plain `transformers` script does: DataCollatorForSeq2Seq
pads each batch to its longest row and the model's own loss computes full-vocabulary logits.
Precision: ours runs at the product's "auto" (bf16 on a CPU with bf16 instructions, see workbench/precision.py)
against the baseline in fp32, what plain transformers does on CPU; where bf16 is native, both sides also run
in fp32 and in bf16, so the ratio at equal precision is printed too. The baseline in bf16 loads the model in
bf16 (what it does on a GPU).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HUANHUAN = ROOT.parent / "shared" / "data" / "huanhuan.json"


def workspace(folder: Path):
    from workbench.cli import main

    main(["--workspace", str(folder), "import", str(HUANHUAN), "--name", "huanhuan"])
    main(["--workspace", str(folder), "split", "huanhuan"])


def bench_config(args):
    from workbench.train.config import TrainConfig

    return TrainConfig(dataset="huanhuan", base_model=args.model, max_steps=args.steps, batch_size=args.batch,
                       max_length=512, lora_rank=8, lora_alpha=16, lora_dropout=0.0, eval_split=None,
                       eval_steps=0, save_steps=0, warmup_ratio=0.0, precision=args.precision)


def ours(folder: Path, args) -> dict:
    """The product path: a run's Trainer (packed, per-row attention, answer-only chunked loss)."""
    from workbench.train.runs import create_run, read_metrics
    from workbench.train.trainer import Trainer
    from workbench.workspace import Workspace

    ws = Workspace(folder)
    config = bench_config(args)
    version = ws.version("huanhuan")
    run = create_run(ws, config, version.dataset_id, version.number, args.model)
    trainer = Trainer(ws, run.id)
    trainer.setup()
    while trainer.step < trainer.total_steps:
        trainer.train_step()
    rows = [r for r in read_metrics(run.folder) if "loss" in r]
    first = rows[0]
    tokens, seconds = rows[-1]["tokens"] - first["tokens"], rows[-1]["seconds"] - first["seconds"]
    return {"tokens": tokens, "seconds": seconds, "losses": [r["loss"] for r in rows]}


def baseline(folder: Path, args) -> dict:
    """Plain transformers + peft: dynamic padding, model(**batch) loss over full-vocabulary logits."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, DataCollatorForSeq2Seq

    from workbench import models
    from workbench.train import packing
    from workbench.train.trainer import prepare
    from workbench.workspace import Workspace

    ws = Workspace(folder)
    tokenizer = models.load_tokenizer(ws, args.model)
    examples, _, _ = prepare(ws, bench_config(args).model_copy(update={"version": ws.version("huanhuan").number}),
                             tokenizer)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device == "cuda" or args.precision == "bf16" else torch.float32
    torch.manual_seed(42)
    model = AutoModelForCausalLM.from_pretrained(str(models.converted_model_folder(ws, args.model)), dtype=dtype,
                                                 attn_implementation="sdpa")
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules="all-linear",
                                             task_type="CAUSAL_LM")).to(device)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    tokens = seconds = 0.0
    for step in range(args.steps):
        rows = packing.step_rows(len(examples), step, args.batch, 1, 42)
        batch = collator([{"input_ids": examples[i].input_ids.tolist(), "labels": examples[i].labels.tolist()}
                          for i in rows])
        batch = {k: v.to(device) for k, v in batch.items()}
        started = time.time()
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()
        if step:  # the first step warms up
            seconds += time.time() - started
            tokens += int(batch["attention_mask"].sum())
    return {"tokens": tokens, "seconds": seconds}


def child(side: str, folder: Path, args) -> None:
    import torch

    result = ours(folder, args) if side == "ours" else baseline(folder, args)
    peak = (torch.cuda.max_memory_allocated() if torch.cuda.is_available()
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    print("RESULT " + json.dumps({**result, "peak_gib": round(peak / 2**30, 2),
                                  "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--side", choices=("ours", "baseline"))
    parser.add_argument("--workspace")
    parser.add_argument("--precision", choices=("auto", "bf16", "fp32"),
                        help="one precision for both sides; default: ours at auto against the baseline in fp32 "
                             "(plain HF's CPU default), and, where the CPU has bf16 instructions, both sides in "
                             "fp32 and in bf16")
    args = parser.parse_args()
    if args.side:
        child(args.side, Path(args.workspace), args)
        return
    from workbench.precision import cpu_bf16_native
    from workbench.train.modeling import resolve_precision

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    auto = resolve_precision("auto", device)
    if args.precision:
        pairs = [(resolve_precision(args.precision, device),) * 2]
    elif device == "cpu" and cpu_bf16_native():
        pairs = [("bf16", "fp32"), ("fp32", "fp32"), ("bf16", "bf16")]
    else:
        pairs = [(auto, auto)]
    runs = sorted({("ours", ours) for ours, _ in pairs} | {("baseline", base) for _, base in pairs})
    with tempfile.TemporaryDirectory() as tmp:
        workspace(Path(tmp))
        results = {}
        for side, precision in runs:
            command = [sys.executable, __file__, "--side", side, "--workspace", tmp, "--steps", str(args.steps),
                       "--batch", str(args.batch), "--model", args.model, "--precision", precision]
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            results[side, precision] = json.loads(output.split("RESULT ", 1)[1])
    rate = {key: result["tokens"] / result["seconds"] for key, result in results.items()}
    print(f"device: {results[runs[0]]['device']}; {args.model}, batch {args.batch}, {args.steps - 1} timed steps; "
          f"auto precision here: {auto}")
    print(f"{'':<42}{'real tok/s':>12}{'peak GiB':>10}")
    names = {"ours": "ours (packed, answer-only loss)", "baseline": "plain HF dynamic padding"}
    for side, precision in runs:
        print(f"{names[side] + ', ' + precision:<42}{rate[side, precision]:>12.1f}{results[side, precision]['peak_gib']:>10}")
    for ours_precision, base_precision in pairs:
        what = (f"both in {ours_precision}" if ours_precision == base_precision else
                f"ours at auto ({ours_precision}) vs plain HF's default ({base_precision})")
        print(f"ratio, {what}: {rate['ours', ours_precision] / rate['baseline', base_precision]:.2f}x")


if __name__ == "__main__":
    main()
