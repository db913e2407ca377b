"""Inference fixtures: tiny random Llama models (the tiny GGUF's byte-level tokenizer, ~270 tokens), built once
per session, registered in a fresh workspace per test with a small split dataset; a fake job context."""
import json
import os
import signal

import pyarrow as pa
import pytest

from workbench import jobs, models
from workbench.workspace import Workspace


@pytest.fixture(scope="session")
def tiny_folders(tmp_path_factory) -> dict:
    """Folders of three tiny models: `a` and `b` (random Llamas that answer greedily with visible text),
    `silent` (the tiny GGUF converted: greedy answers are only whitespace, i.e. empty) and `broken`
    (config, tokenizer and a weights file that is not a safetensors file)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig

    from tests.test_models import write_tiny_gguf

    root = tmp_path_factory.mktemp("infer-models")
    ws = Workspace(root / "workspace")
    gguf = root / "silent.gguf"
    write_tiny_gguf(gguf)
    silent = models.converted_model_folder(ws, models.register_local(ws, gguf, "silent"), dtype="float32")
    tokenizer = AutoTokenizer.from_pretrained(silent)
    folders = {"silent": silent}
    for name, seed in (("a", 1), ("b", 2)):
        torch.manual_seed(seed)
        # initializer_range 0.3: logits spread enough that greedy decoding picks varied, visible tokens
        config = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                             num_key_value_heads=2, vocab_size=len(tokenizer), max_position_embeddings=512,
                             initializer_range=0.3, pad_token_id=tokenizer.pad_token_id,
                             eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id)
        folders[name] = root / f"tiny-{name}"
        AutoModelForCausalLM.from_config(config).save_pretrained(folders[name])
        tokenizer.save_pretrained(folders[name])
    broken = root / "broken"
    broken.mkdir()
    for file in (folders["a"]).iterdir():
        if not file.name.endswith(".safetensors"):
            (broken / file.name).write_bytes(file.read_bytes())
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    folders["broken"] = broken
    return folders


QUESTIONS = ["the", "Say the a", "in the the in a the", "a", "the the", "Tell a thing in the end, then the",
             "he in", "the a the a the a the"]


def qa_table() -> pa.Table:
    """8 Alpaca rows of different lengths: 6 in test (two with a system prompt), 2 in train; lineage columns."""
    n = len(QUESTIONS)
    return pa.table({"instruction": QUESTIONS, "input": ["" if i % 3 else "in" for i in range(n)],
                     "output": [f"answer {i}" for i in range(n)],
                     "system": ["be brief" if i in (1, 4) else "" for i in range(n)],
                     "_source": [json.dumps({"document_id": f"doc-{i}"}) for i in range(n)],
                     "_chunk": [f"chunk-{i}" for i in range(n)],
                     "_split": ["test"] * 6 + ["train"] * 2})


@pytest.fixture
def infer_ws(tmp_path, tiny_folders):
    """(workspace, {name: model id}) with the tiny models registered and dataset `qa` (6 test rows)."""
    ws = Workspace(tmp_path / "workspace")
    ids = {name: models.register_local(ws, folder, f"tiny {name}").id for name, folder in tiny_folders.items()}
    ws.create_dataset("qa", qa_table())
    yield ws, ids
    for info in jobs.list_jobs(ws, jobs.ACTIVE):  # a failing test must not leave its job running
        if info.pid:
            try:
                os.kill(info.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class FakeContext:
    """Runs a job function in this process; `cancel_after` answers it asks to stop (as SIGTERM would)."""

    def __init__(self, ws, cancel_after: int | None = None):
        self.ws, self.cancel_after, self.messages, self.answers, self.total = ws, cancel_after, [], 0, None
        self.cancelled = False

    def progress(self, done, total=None, message="", force=False):
        self.total = total or self.total
        if message.startswith("loading"):
            return
        self.answers += 1
        if self.cancel_after is not None and self.answers >= self.cancel_after:
            self.cancelled = True

    def log(self, message):
        self.messages.append(message)

    def check_cancelled(self):
        if self.cancelled:
            raise jobs.JobCancelled()

