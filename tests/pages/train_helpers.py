"""Fixtures of the Train/Runs page tests: a tiny random Llama with a tiny byte-level tokenizer (built in about a
second, no GGUF extraction), a small split dataset, and finished runs written directly (no training)."""
import json
from pathlib import Path

import pyarrow as pa
import pytest

from workbench.train.config import TrainConfig
from workbench.train.runs import create_run, finish_run

QUESTIONS = ["What colour is the sky?", "Name a fruit.", "Say hello.", "What is two plus two?",
             "Which animal barks?", "What do bees make?", "Name a planet.", "What is ice made of?"]
ANSWERS = ["Blue.", "Apple.", "Hello!", "Four.", "A dog.", "Honey.", "Mars.", "Water."]


def build_tiny_model(folder: Path) -> Path:
    """A 2-layer Llama (hidden 32) and a byte-level BPE tokenizer trained on the questions, with ChatML."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from workbench.train.formatting import FALLBACK_TEMPLATE

    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(QUESTIONS + ANSWERS + ["system user assistant"], vocab_size=400,
                            special_tokens=special, show_progress=False)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>", bos_token=None)
    tokenizer.chat_template = FALLBACK_TEMPLATE
    config = LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                         num_key_value_heads=1, vocab_size=len(tokenizer), max_position_embeddings=512,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model_folder(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-llama")


def qa_table(rows: int = 20, split: bool = True) -> pa.Table:
    columns = {"instruction": [QUESTIONS[i % 8] for i in range(rows)], "output": [ANSWERS[i % 8] for i in range(rows)]}
    if split:
        columns["_split"] = ["train" if i < rows - 4 else "validation" for i in range(rows)]
    return pa.table(columns)


def finished_run(ws, base_model: str, dataset: str = "qa", steps: int = 4, learning_rate: float = 2e-4,
                 state: str = "succeeded"):
    """A run as a finished job leaves it: config, metrics.jsonl, adapter folder, summary (no training)."""
    version = ws.version(dataset)
    config = TrainConfig(dataset=dataset, base_model=base_model, max_steps=steps, learning_rate=learning_rate)
    run = create_run(ws, config, version.dataset_id, version.number, base_model)
    rows = [{"step": s, "epoch": s / steps, "loss": round(3.0 - 0.4 * s, 3), "lr": learning_rate, "grad_norm": 1.0,
             "tokens": 100 * s, "tokens_per_s": 250.0, "seconds": s * 0.4, "rss_mb": 900} for s in range(1, steps + 1)]
    rows += [{"step": steps // 2, "eval_loss": 2.5}, {"step": steps, "eval_loss": 2.1}]
    (run.folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in sorted(rows, key=lambda r: r["step"])),
                                              encoding="utf-8")
    (run.folder / "adapter").mkdir()
    summary = {"steps": steps, "train_loss": rows[steps - 1]["loss"], "eval_loss": 2.1, "tokens": 100 * steps,
               "tokens_per_s": 250.0, "rss_mb": 900}
    finish_run(ws, run.id, state, summary if state == "succeeded" else None)
    return run
