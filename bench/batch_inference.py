"""Batch inference: our engine vs one request at a time with `model.generate`, same model and rows, one run.

    .venv/bin/python bench/batch_inference.py [--rows 32] [--max-new-tokens 64] [--batch 16,32,64]
                                              [--model smollm2-135m-instruct] [--workspace DIR] [--threads N]

Rows: the first N rows of huanhuan (user turn = instruction + input, as the Inference job sends them) through
the model's chat template. Greedy decoding, fp32, one loaded model shared by both sides. Ours is the Inference
page's local engine (`LocalBackend.complete_many`: prompts sorted by token length, left-padded batches of
`--batch`, results in request order). The baseline is what a plain script does: `model.generate` on one prompt
at a time. Real tokens on both sides are generated tokens up to (not including) the row's end-of-turn token, so a
row that finishes early inside a batch does not count the padding generated after it. Each side is timed after a
warm-up batch of the largest size (fresh memory is slow to map in on VMs, and whichever side ran first would pay
for it); the answers of both sides are compared as a check (fp32 batched and unbatched greedy decoding agree
up to rare near-ties). A shared CPU makes single numbers noisy: compare the ratio, and rerun when in doubt.
`--workspace` reuses a workspace whose converted model is cached (the first conversion of the GGUF takes ~20 s).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HUANHUAN = ROOT.parent / "shared" / "data" / "huanhuan.json"


def requests_of(rows: int) -> list[list[dict]]:
    from workbench.records import alpaca_to_messages

    data = json.loads(HUANHUAN.read_text(encoding="utf-8"))[:rows]
    return [alpaca_to_messages({**row, "output": None}) for row in data]


def one_at_a_time(backend, requests, max_new_tokens: int) -> tuple[list[str], int, float, float]:
    """(answers, real tokens, wall s, CPU s) of plain `model.generate` per prompt on the backend's loaded model."""
    import torch

    model, tokenizer, answers, tokens = backend.model, backend.tokenizer, [], 0
    started, cpu = time.perf_counter(), time.process_time()
    for messages in requests:
        ids = torch.tensor([backend.prompt_ids(messages)])
        with torch.no_grad():
            output = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                    max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id)
        new = output[0, ids.shape[1]:].tolist()
        end = next((i for i, token in enumerate(new) if token in backend._stop_ids), len(new))
        answers.append(tokenizer.decode(new[:end], skip_special_tokens=True))
        tokens += end
    return answers, tokens, time.perf_counter() - started, time.process_time() - cpu


def batched(backend, requests, max_new_tokens: int, batch_size: int) -> tuple[list[str], int, float, float]:
    """(answers, real tokens, wall s, CPU s) of our engine with `batch_size` prompts per batch."""
    from workbench.llm import GenerationParams

    backend.batch_size = batch_size
    started, cpu = time.perf_counter(), time.process_time()
    results = backend.complete_many(requests, GenerationParams(max_new_tokens=max_new_tokens))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return ([getattr(r, "text", "") for r in results], sum(getattr(r, "completion_tokens", 0) or 0 for r in results),
            seconds, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch", default="16,32", help="batch sizes of our engine, comma separated")
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--workspace", help="a workspace to reuse (its converted-model cache); default: a temp one")
    parser.add_argument("--threads", type=int, help="torch CPU threads for both sides (default: torch's choice)")
    args = parser.parse_args()
    import torch

    from workbench.llm import Endpoint, GenerationParams, LocalBackend
    from workbench.workspace import Workspace

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        ws = Workspace(args.workspace or Path(tmp) / "workspace")
        backend = LocalBackend(ws, Endpoint(f"local:{args.model}", "local", model=args.model))
        print(f"loaded {args.model} in {time.perf_counter() - started:.1f}s; torch threads {torch.get_num_threads()}",
              flush=True)
        requests = requests_of(args.rows)
        sizes = [int(s) for s in args.batch.split(",")]
        # warm-up for both sides: one batch of the largest size at full length, so that no side pays for
        # mapping fresh memory into the process (slow on VMs) that the next one then reuses
        backend.batch_size = max(sizes)
        backend.complete_many(requests[:max(sizes)], GenerationParams(max_new_tokens=args.max_new_tokens))
        base_answers, base_tokens, base_seconds, base_cpu = one_at_a_time(backend, requests, args.max_new_tokens)
        print(f"device: {'cuda' if torch.cuda.is_available() else 'cpu'}; {args.model}, {len(requests)} huanhuan rows, "
              f"max {args.max_new_tokens} new tokens, greedy")
        print(f"{'':<34}{'real tokens':>12}{'wall s':>8}{'tok/s':>8}{'ratio':>7}{'CPU s':>8}{'tok/CPU s':>10}"
              f"{'ratio':>7}{'same answers':>14}", flush=True)
        rows = [("one at a time (model.generate)", base_tokens, base_seconds, base_cpu, "-")]
        for size in sizes:
            answers, tokens, seconds, cpu = batched(backend, requests, args.max_new_tokens, size)
            same = sum(a == b for a, b in zip(answers, base_answers))
            rows.append((f"ours, length-sorted batches of {size}", tokens, seconds, cpu, f"{same}/{len(requests)}"))
        for name, tokens, seconds, cpu, same in rows:
            print(f"{name:<34}{tokens:>12}{seconds:>8.1f}{tokens / seconds:>8.1f}"
                  f"{tokens / seconds / (base_tokens / base_seconds):>7.2f}{cpu:>8.1f}{tokens / cpu:>10.1f}"
                  f"{tokens / cpu / (base_tokens / base_cpu):>7.2f}{same:>14}", flush=True)
        print("wall-clock rates are what you wait for; CPU-second rates hold up better on a shared machine "
              "(with --threads 1, where no thread spins waiting for another)")


if __name__ == "__main__":
    main()
