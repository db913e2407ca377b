"""Before launch: the data-quality gate on a dataset with known problems, the measured time estimate, and the
layers LoRA can target."""
import math

import pyarrow as pa
import pytest

from tests.train.conftest import config
from workbench.train import modeling
from workbench.train.preflight import estimate, gate_blocks, quality_gate, target_modules
from workbench.train.runs import create_run, finish_run
from workbench.train.trainer import prepare

TOPICS = ["Describe how a lighthouse guides ships at night.", "Explain why bread dough rises in a warm kitchen.",
          "List three uses of bamboo in construction.", "Summarize the rules of chess castling.",
          "What makes volcanic soil fertile for farming?", "How do migratory birds find their way south?",
          "Why does the moon show phases?", "Give advice for keeping houseplants alive in winter.",
          "What is the boiling point of water at high altitude?"]
REPLIES = ["It shines a rotating beam.", "Yeast makes gas.", "Scaffolds, floors and pipes.",
           "King and rook move together once.", "Minerals from ash.", "Stars, sun and magnetic fields.",
           "Sunlight on its changing visible half.", "Water less and give them light.", "Lower than at sea level."]
LONG = " ".join(f"word{i}" for i in range(300))


def gate_table() -> pa.Table:
    """11 train rows and 3 validation rows with exactly: 4 exact duplicate rows (2 inside train, 2 validation
    rows copied from train = 2 leaked), 1 near duplicate, 1 empty output and 1 train row longer than 128 tokens."""
    rows = [(TOPICS[i], REPLIES[i], "train") for i in range(6)]
    rows += [(TOPICS[0], REPLIES[0], "train"), (TOPICS[1], REPLIES[1], "train")]  # exact duplicates
    rows += [(TOPICS[6], "", "train"), (LONG, REPLIES[7], "train")]  # an empty answer, a row past max length
    rows += [(TOPICS[4].replace("farming", "farmers"), REPLIES[4], "train")]  # near duplicate of row 4
    rows += [(TOPICS[2], REPLIES[2], "validation"), (TOPICS[3], REPLIES[3], "validation")]  # leaked
    rows += [(TOPICS[8], REPLIES[8], "validation")]
    return pa.table({"instruction": [r[0] for r in rows], "input": [""] * len(rows),
                     "output": [r[1] for r in rows], "_split": [r[2] for r in rows]})


def test_quality_gate_counts_long_rows_empty_outputs_duplicates_and_leakage(train_ws, tokenizer):
    ws, model_id = train_ws
    version = ws.create_dataset("gate", gate_table())
    gate = quality_gate(ws, config(model_id, dataset="gate", max_length=128, tokens_per_micro_batch=256), tokenizer)
    assert gate["rows"] == 11 and gate["splits"] == {"train": 11, "validation": 3} == version.splits
    assert gate["truncated"] == 1 and gate["longest"] > 300 > 128
    # the long row's prompt alone fills max_length: training skips it (and the empty one) rather than cut it
    assert (gate["dropped"], gate["cut"], gate["kept"], gate["unusable"]) == (1, 0, 9, 0) and not gate_blocks(gate)
    assert gate["empty_outputs"] == 1 and (gate["ref"], gate["max_length"], gate["eval_rows"]) == ("gate@1", 128, 3)
    assert gate["exact_duplicates"] == 4 and gate["near_duplicates"] == 5 and gate["leaked_rows"] == 2
    assert 0 < gate["mean_tokens"] < gate["longest"] and gate["tokens"] > gate["longest"]
    # a larger max length cuts nothing; the other counts do not depend on it
    wide = quality_gate(ws, config(model_id, dataset="gate", max_length=4096, tokens_per_micro_batch=4096), tokenizer)
    assert wide["truncated"] == 0 and wide["empty_outputs"] == 1 and wide["leaked_rows"] == 2
    assert (wide["dropped"], wide["kept"]) == (0, 10)
    train, _, problems = prepare(ws, config(model_id, dataset="gate", max_length=128), tokenizer)
    assert len(train) == gate["kept"] and len(problems) == gate["rows"] - gate["kept"]  # what the run will get


def test_a_clean_split_passes_the_gate(train_ws, tokenizer):
    ws, model_id = train_ws
    table = pa.concat_tables([gate_table().slice(0, 6), gate_table().slice(13, 1)])  # + a distinct validation row
    ws.create_dataset("clean", table)
    gate = quality_gate(ws, config(model_id, dataset="clean"), tokenizer)
    assert (gate["rows"], gate["truncated"], gate["empty_outputs"]) == (6, 0, 0)
    assert (gate["exact_duplicates"], gate["near_duplicates"], gate["leaked_rows"]) == (0, 0, 0)


@pytest.mark.parametrize("knobs, steps", [(dict(epochs=2.0, max_steps=None, batch_size=4, gradient_accumulation=2), 8),
                                          (dict(epochs=3.0, max_steps=None, batch_size=5), 21),
                                          (dict(epochs=20.0, max_steps=3, batch_size=4), 3)])
def test_estimate_measures_warm_up_steps_and_its_numbers_add_up(train_ws, tokenizer, monkeypatch, knobs, steps):
    ws, model_id = train_ws
    calls, progress = [], []
    real = modeling.batch_loss
    monkeypatch.setattr(modeling, "batch_loss", lambda *a, **k: calls.append(1) or real(*a, **k))
    cfg = config(model_id, **knobs)
    result = estimate(ws, cfg, warmup_steps=2, progress=lambda done, total: progress.append((done, total)))
    assert progress == [(0, 3), (1, 3), (2, 3)]  # one step to warm up, two measured
    assert len(calls) >= 3  # real forward passes, at least one micro-batch per step
    per_epoch = math.ceil(32 / (cfg.batch_size * cfg.gradient_accumulation))
    assert result["rows"] == 32 and result["skipped"] == 0
    assert result["steps"] == steps == (cfg.max_steps or math.ceil(per_epoch * cfg.epochs))
    assert result["tokens_per_s"] > 0 and result["tokens"] > 0 and result["seconds"] > 0
    train, _, _ = prepare(ws, cfg, tokenizer)
    mean_row = sum(len(e.input_ids) for e in train) / len(train)
    assert result["tokens"] == pytest.approx(mean_row * cfg.batch_size * cfg.gradient_accumulation * steps, abs=1)
    assert result["seconds"] == pytest.approx(result["tokens"] / result["tokens_per_s"], rel=0.01, abs=0.06)
    assert result["minutes"] == pytest.approx(result["seconds"] / 60, abs=0.06)
    assert (result["device"], result["precision"]) == ("cpu", "fp32")


def test_estimate_loads_what_the_run_would_load(train_ws, run_here, monkeypatch):
    """Continuing a finished run: the estimate trains on that run's adapter (as the run will), and a full fine-tune
    on top of a run is refused before measuring, as launching it would be; gradient checkpointing is measured on."""
    ws, model_id = train_ws
    previous, _ = run_here(ws, config(model_id, max_steps=2))
    adapters, bases = [], []
    real_add, real_load = modeling.add_adapter, modeling.load_base
    monkeypatch.setattr(modeling, "add_adapter", lambda model, cfg, adapter: adapters.append(adapter)
                        or real_add(model, cfg, adapter))
    monkeypatch.setattr(modeling, "load_base", lambda *args: bases.append(real_load(*args)) or bases[-1])
    result = estimate(ws, config(f"run-{previous.id}", gradient_checkpointing=True), warmup_steps=1)
    assert adapters == [previous.adapter] and result["steps"] == 6 and result["tokens_per_s"] > 0
    assert bases[-1].is_activation_checkpointing
    with pytest.raises(modeling.TrainError, match="no LoRA adapter to continue"):
        estimate(ws, config(f"run-{previous.id}", method="full"), warmup_steps=1)


def test_estimate_out_of_memory_gives_the_advice(train_ws, monkeypatch):
    import torch

    ws, model_id = train_ws

    def batch_loss(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 4.00 GiB")

    monkeypatch.setattr(modeling, "batch_loss", batch_loss)
    with pytest.raises(modeling.TrainError) as raised:
        estimate(ws, config(model_id))
    assert str(raised.value) == modeling.OOM_ADVICE


def test_target_modules_lists_the_linear_layers_of_the_model_and_of_a_runs_base(train_ws):
    ws, model_id = train_ws
    names = target_modules(ws, model_id)
    assert names == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]
    assert "lm_head" not in names and "embed_tokens" not in names
    version = ws.version("qa")
    run = create_run(ws, config(model_id), version.dataset_id, version.number, model_id)
    finish_run(ws, run.id, "succeeded")
    assert target_modules(ws, f"run-{run.id}") == names  # a run continues on its base model's layers
