"""Training fixtures: the real SmolLM2 tokenizer (extracted once per session) beside a tiny random
Llama (2 layers, hidden 64), registered in a fresh workspace per test with a small split dataset."""
import signal
from pathlib import Path

import pyarrow as pa
import pytest

from workbench import jobs, models
from workbench.train.config import TrainConfig
from workbench.workspace import Workspace


@pytest.fixture(scope="session")
def smol_tokenizer_folder(tmp_path_factory) -> Path:
    """The SmolLM2 tokenizer folder, extracted from the bundled GGUF (~20 s, once per session)."""
    ws = Workspace(tmp_path_factory.mktemp("tokenizer") / "workspace")
    return models.tokenizer_folder(ws, models.SMOLLM2_ID)


@pytest.fixture(scope="session")
def tokenizer(smol_tokenizer_folder):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(smol_tokenizer_folder))


def save_tiny_model(folder: Path, tokenizer, config, auto=None) -> Path:
    """A random model of `config` (through `auto`, default AutoModelForCausalLM) saved with the tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    (auto or AutoModelForCausalLM).from_config(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory, tokenizer) -> Path:
    """A random 2-layer Llama (hidden 64, GQA 4/2) with the real SmolLM2 tokenizer, as a transformers folder.

    initializer_range=0.2 (not 0.02) so LoRA alone can move the logits: with the default the untrained
    output layer caps every logit near 1 and the loss stalls at ~10.2 of its initial 10.8."""
    from transformers import LlamaConfig

    config = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, vocab_size=len(tokenizer), max_position_embeddings=1024,
                         initializer_range=0.2,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-llama", tokenizer, config)


@pytest.fixture(scope="session")
def tiny_model(tiny_lm):
    """The tiny Llama loaded once (fp32) for in-process tests."""
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(tiny_lm), dtype=torch.float32)


# --- data ------------------------------------------------------------------------------------------------
QUESTIONS = ["What colour is the sky?", "Name a fruit.", "Say hello.", "What is two plus two?",
             "Which animal barks?", "What do bees make?", "Name a planet.", "What is ice made of?"]
ANSWERS = ["Blue.", "Apple.", "Hello!", "Four.", "A dog.", "Honey.", "Mars.", "Water."]


def qa_table(rows: int, train: int | None = None) -> pa.Table:
    """A repetitive Alpaca table (8 distinct question/answer pairs) with a `_split` column."""
    train = rows - max(2, rows // 5) if train is None else train
    return pa.table({"instruction": [QUESTIONS[i % 8] for i in range(rows)],
                     "input": ["" for _ in range(rows)],
                     "output": [ANSWERS[i % 8] for i in range(rows)],
                     "_split": ["train" if i < train else "validation" for i in range(rows)]})


@pytest.fixture
def train_ws(tmp_path, tiny_lm):
    """(workspace, model id): a fresh workspace with the tiny model registered and dataset `qa` (40 rows)."""
    ws = Workspace(tmp_path / "workspace")
    spec = models.register_local(ws, tiny_lm, "tiny llama")
    ws.create_dataset("qa", qa_table(40))
    yield ws, spec.id
    stop_jobs(ws)


@pytest.fixture
def run_here(monkeypatch):
    """run_here(ws, config) -> (run, job): `start_training`, with the job's worker run in this process; or
    run_here(ws, None, job_id) to run (or resume) a job already in the catalog."""
    from workbench.train.jobs import start_training
    from workbench.train.runs import get_run

    monkeypatch.setattr(jobs, "_spawn", lambda ws, job_id: None)
    handler = signal.getsignal(signal.SIGTERM)  # jobs.run installs its own

    def run(ws, cfg, job_id=None):
        if job_id is None:
            run_info, job_id = start_training(ws, cfg)
        jobs.run(ws, job_id)
        info = jobs.get(ws, job_id)
        assert info.state in jobs.FINISHED, info.state
        try:
            return get_run(ws, info.params["run_id"]), info
        except KeyError:
            return None, info

    yield run
    signal.signal(signal.SIGTERM, handler)


def stop_jobs(ws) -> None:
    """Kill job processes a failing test left behind (only the ones this workspace started)."""
    import os

    for info in jobs.list_jobs(ws, jobs.ACTIVE):
        if info.pid and info.pid != os.getpid():  # a job run in this process (run_here) is not killed
            try:
                os.kill(info.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def config(model: str, dataset="qa", **knobs) -> TrainConfig:
    """A quick CPU config for the tiny model: small batches, fp32, no warm-up, `max_steps` steps."""
    base = dict(dataset=dataset, base_model=model, learning_rate=1e-2, max_length=64, tokens_per_micro_batch=256,
                batch_size=4, epochs=20.0, max_steps=6, warmup_ratio=0.0, scheduler="constant", eval_steps=3,
                save_steps=3, precision="fp32", seed=7, max_eval_rows=8)
    return TrainConfig(**{**base, **knobs})
