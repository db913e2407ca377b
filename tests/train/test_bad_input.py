"""Bad input from the training issue: each is refused before launch or fails the job with a located, bilingual
message, and the workspace stays consistent (run and job failed, no adapter, the last checkpoint still valid).

Jobs run their real worker (`jobs.run`, `train_job`, Trainer) in this process (conftest `run_here`) so monkeypatches
reach them."""
import re

import pyarrow as pa
import pytest

from tests.train.conftest import config, qa_table, save_tiny_model
from workbench import cli, jobs, models
from workbench.train import checkpoint, modeling
from workbench.train.config import config_errors, read_config, to_yaml
from workbench.train.preflight import check_launch, gate_blocks, quality_gate
from workbench.train.runs import read_metrics

CHINESE = re.compile(r"[\u4e00-\u9fff]")
LLAMA_LINEAR = "down_proj, gate_proj, k_proj, o_proj, q_proj, up_proj, v_proj"


def assert_failed_cleanly(ws, run, info, *expected: str) -> str:
    """The job and the run are failed, with a readable bilingual error and nothing that looks finished."""
    error = info.error or ""
    assert info.state == "failed" and run.state == "failed", (info.state, run.state, error)
    assert ws._query("SELECT state FROM runs WHERE id=?", (run.id,))[0]["state"] == "failed"  # the catalog row
    for text in expected:
        assert text in error, (text, error)
    assert " / " in error and CHINESE.search(error) and "Traceback" not in error, error
    assert not run.adapter.exists() and not (run.folder / "summary.json").exists()
    assert f"run-{run.id}" not in {spec.id for spec in models.list_models(ws)}
    return error


def refused_by_cli(ws, tmp_path, cfg, capsys) -> str:
    """`python -m workbench train` (in process) refuses the config: exit 2, a message, no run and no job."""
    path = tmp_path / "config.yaml"
    path.write_text(to_yaml(cfg), encoding="utf-8")
    assert cli.main(["--workspace", str(ws.root), "train", str(path)]) == 2
    assert ws.runs() == [] and jobs.list_jobs(ws) == []
    return capsys.readouterr().err


# --- data -------------------------------------------------------------------------------------------------
def test_every_output_empty_fails_the_job_naming_a_row_and_the_gate_counts_them(train_ws, run_here, tokenizer):
    ws, model_id = train_ws
    table = qa_table(20)
    table = table.set_column(table.column_names.index("output"), "output", pa.array(["  "] * 20))
    ws.create_dataset("blank", table)
    cfg = config(model_id, dataset="blank")
    assert check_launch(ws, cfg) == []  # it takes the tokenizer to know: the gate shows it before launch
    gate = quality_gate(ws, cfg, tokenizer)
    assert gate["empty_outputs"] == 16 and gate["kept"] == 0 and gate_blocks(gate)
    run, info = run_here(ws, cfg)
    assert_failed_cleanly(ws, run, info, "nothing to train on in blank@1 split 'train'", "16 of 16 rows skipped",
                          "e.g. row 0: empty output / ", "例如第 0 行：输出为空")
    assert not list((run.folder / "checkpoints").iterdir()) and read_metrics(run.folder) == []


def test_a_version_with_no_rows_is_refused_before_launch(train_ws, tmp_path, capsys):
    ws, model_id = train_ws
    ws.create_dataset("nothing", pa.table({"instruction": pa.array([], pa.string()),
                                           "output": pa.array([], pa.string())}))
    assert check_launch(ws, config(model_id, dataset="nothing", split=None)) == [
        "dataset nothing@1 has no rows / 数据集 nothing@1 没有任何行"]
    err = refused_by_cli(ws, tmp_path, config(model_id, dataset="nothing"), capsys)
    assert "dataset nothing@1 has no 'train' split" in err and "划分" in err


def test_a_missing_split_is_refused_and_a_job_started_anyway_fails_with_the_split_named(train_ws, run_here):
    ws, model_id = train_ws
    ws.create_dataset("raw", qa_table(20).drop_columns(["_split"]))
    assert check_launch(ws, config(model_id, dataset="raw")) == [
        "dataset raw@1 has no 'train' split: split it first / 数据集 raw@1 没有“train”划分，请先划分"]
    assert check_launch(ws, config(model_id, split="holdout"))[0].startswith("dataset qa@1 has no 'holdout' split")
    assert check_launch(ws, config(model_id, dataset="raw", split=None, eval_split=None)) == []  # every row

    run, info = run_here(ws, config(model_id, split="holdout"))  # e.g. the version changed after the check
    assert_failed_cleanly(ws, run, info, "dataset qa@1 has no 'holdout' split", "没有“holdout”划分")


def test_a_missing_validation_split_trains_without_validation_and_says_so(train_ws, run_here, capsys):
    ws, model_id = train_ws
    run, info = run_here(ws, config(model_id, eval_split="dev", max_steps=2, eval_steps=1))
    assert info.state == "succeeded" and run.summary["eval_loss"] is None
    assert "no rows in validation split 'dev'" in capsys.readouterr().out  # the job log (stdout in process)
    assert not [r for r in read_metrics(run.folder) if "eval_loss" in r]


def test_rows_cut_by_max_length_are_counted_in_the_log_and_the_summary(train_ws, run_here, tokenizer, capsys):
    ws, model_id = train_ws
    longest = quality_gate(ws, config(model_id), tokenizer)["longest"]
    cfg = config(model_id, max_length=longest - 1, max_steps=1)
    cut = quality_gate(ws, cfg, tokenizer)["truncated"]
    run, info = run_here(ws, cfg)
    assert info.state == "succeeded" and cut >= 1 and run.summary["rows_cut"] == cut
    assert f"{cut} of 32 rows are longer than max_length={longest - 1} tokens and were cut" in capsys.readouterr().out


def test_max_length_shorter_than_every_prompt_leaves_nothing_to_train_on(train_ws, run_here, tokenizer):
    ws, model_id = train_ws
    cfg = config(model_id, max_length=8)
    gate = quality_gate(ws, cfg, tokenizer)
    assert gate["truncated"] == gate["rows"] == gate["dropped"] == 32 and gate["longest"] > 8
    assert gate["kept"] == gate["cut"] == 0 and gate_blocks(gate)  # the CLI refuses it before launch
    run, info = run_here(ws, cfg)
    assert_failed_cleanly(ws, run, info, "32 of 32 rows skipped",
                          "the prompt alone is longer than max_length=8, nothing left to learn", "提示词本身超过最大长度")


# --- model ------------------------------------------------------------------------------------------------
def test_unknown_lora_targets_are_named_with_the_valid_ones(train_ws, run_here, tmp_path, capsys):
    ws, model_id = train_ws
    cfg = config(model_id, lora_targets=["q_proj", "qkv", "attn.c_proj"])
    expected = f"LoRA target modules not in this model: qkv, attn.c_proj; available: {LLAMA_LINEAR}"
    [problem] = check_launch(ws, cfg)
    assert problem.startswith(expected) and "模型中没有这些 LoRA 目标模块：qkv, attn.c_proj" in problem
    assert check_launch(ws, config(model_id, lora_targets=[]))[0].startswith(
        "LoRA target modules not in this model: (none chosen)")
    assert check_launch(ws, config(model_id, lora_targets=["q_proj", "v_proj"])) == []
    assert expected in refused_by_cli(ws, tmp_path, cfg, capsys)
    run, info = run_here(ws, cfg)  # the job checks again against the loaded model
    assert_failed_cleanly(ws, run, info, expected)


def test_rank_zero_and_a_negative_learning_rate_are_located_in_the_yaml(tmp_path, capsys):
    assert config_errors({"dataset": "qa", "lora_rank": 0, "learning_rate": -1e-3}) == [
        "learning_rate: learning rate must be > 0 / 学习率必须大于 0", "lora_rank: must be at least 1 / 必须至少为 1"]
    path = tmp_path / "config.yaml"
    path.write_text("dataset: qa\nlearning_rate: -0.001\nlora_rank: 0\nlora_alpha: 16\n", encoding="utf-8")
    with pytest.raises(ValueError) as raised:
        read_config(path)
    assert str(raised.value).splitlines() == [
        f"{path}:2: learning_rate: learning rate must be > 0 / 学习率必须大于 0",
        f"{path}:3: lora_rank: must be at least 1 / 必须至少为 1"]
    ws_root = tmp_path / "workspace"
    assert cli.main(["--workspace", str(ws_root), "train", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:3: lora_rank" in err and "Traceback" not in err


@pytest.fixture(scope="module")
def bert_folder(tmp_path_factory, tokenizer):
    """A BertModel (an encoder, not a causal LM) saved with a tokenizer: it passes every file check."""
    from transformers import AutoModel, BertConfig

    bert = BertConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                      vocab_size=len(tokenizer))
    return save_tiny_model(tmp_path_factory.mktemp("bert") / "bert", tokenizer, bert, auto=AutoModel)


def test_a_bert_folder_is_refused_as_not_a_causal_lm(train_ws, run_here, bert_folder, tmp_path, capsys):
    ws, _ = train_ws
    spec = models.register_local(ws, bert_folder, "bert")  # a complete model folder, so it can be registered
    message = f"{bert_folder.resolve()} holds a BertModel model, not a causal language model"
    [problem] = check_launch(ws, config(spec.id))
    assert problem.startswith(message) and "不是因果语言模型" in problem
    assert check_launch(ws, config(str(bert_folder)))[0].startswith(message)  # as a path too
    assert message in refused_by_cli(ws, tmp_path, config(spec.id), capsys)
    run, info = run_here(ws, config(spec.id))  # without the preflight, the job refuses it itself
    assert_failed_cleanly(ws, run, info, message)


def test_an_empty_folder_or_random_files_are_not_a_model(train_ws, run_here, tmp_path, tokenizer):
    ws, _ = train_ws
    empty = (tmp_path / "empty").resolve()
    empty.mkdir()
    [problem] = check_launch(ws, config(str(empty)))
    assert f"{empty} is not a model folder" in problem and "不是模型文件夹" in problem
    with pytest.raises(models.ModelError, match="not a model folder"):
        models.register_local(ws, empty)

    garbage = (tmp_path / "garbage").resolve()
    garbage.mkdir()
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        (garbage / name).write_bytes(bytes(range(256)) * 4)
    [problem] = check_launch(ws, config(str(garbage)))
    assert f"{garbage} is not a transformers model folder" in problem and "不是有效的模型文件夹" in problem

    # a real causal-LM config with random tokenizer or weight files: only loading them can tell
    from transformers import AutoModelForCausalLM, LlamaConfig

    llama = LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                        vocab_size=len(tokenizer))
    llama.save_pretrained(garbage)
    spec = models.register_local(ws, garbage, "garbage")
    assert check_launch(ws, config(spec.id)) == []
    run, info = run_here(ws, config(spec.id))  # random weights (and tokenizer): the model loads first
    assert_failed_cleanly(ws, run, info, f"cannot load the llama weights in {garbage}", "无法加载模型权重")
    AutoModelForCausalLM.from_config(llama).save_pretrained(garbage)  # good weights, the random tokenizer.json
    run, info = run_here(ws, config(spec.id))
    assert_failed_cleanly(ws, run, info, f"cannot load the tokenizer of {spec.id}", "无法加载")
    (garbage / "tokenizer.json").unlink()
    (garbage / "model.safetensors").write_bytes(bytes(range(256)) * 4)
    tokenizer.save_pretrained(garbage)  # a good tokenizer, random weights again
    run, info = run_here(ws, config(spec.id))
    assert_failed_cleanly(ws, run, info, f"cannot load the llama weights in {garbage}", "无法加载模型权重")


# --- resources --------------------------------------------------------------------------------------------
def out_of_memory_after(monkeypatch, calls: int, error: BaseException) -> None:
    """batch_loss works `calls` times, then raises `error` (what CUDA or the CPU allocator raise)."""
    real, count = modeling.batch_loss, [0]

    def batch_loss(*args, **kwargs):
        count[0] += 1
        if count[0] > calls:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(modeling, "batch_loss", batch_loss)


def oom_errors():
    import torch

    return [torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.1 GiB total)"),
            RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: "
                         "you tried to allocate 8589934592 bytes."),
            MemoryError()]


@pytest.mark.parametrize("error", oom_errors(), ids=["cuda", "cpu-allocator", "memory-error"])
def test_out_of_memory_fails_with_advice_and_the_last_checkpoint_resumes(train_ws, run_here, monkeypatch, capsys,
                                                                         error):
    ws, model_id = train_ws
    cfg = config(model_id, max_steps=6, save_steps=3, eval_steps=0, batch_size=4, tokens_per_micro_batch=256)
    out_of_memory_after(monkeypatch, 4, error)  # one micro-batch per step here: step 5 runs out of memory
    run, info = run_here(ws, cfg)
    message = assert_failed_cleanly(ws, run, info, "out of memory", "smaller batch size", "shorter max length",
                                    "gradient checkpointing", "内存不足")
    assert message == modeling.OOM_ADVICE and info.resumable
    assert [r["step"] for r in read_metrics(run.folder)] == [1, 2, 3, 4]
    saved = checkpoint.latest(run.folder / "checkpoints")
    assert saved.name == "step-000003" and not list((run.folder / "checkpoints").glob(".*"))

    monkeypatch.undo()  # more memory (or a smaller batch): resume continues from step 3
    monkeypatch.setattr(jobs, "_spawn", lambda ws, job_id: None)
    jobs.resume(ws, info.id)
    run, info = run_here(ws, cfg, job_id=info.id)
    assert info.state == "succeeded" and run.state == "succeeded", info.error
    assert "resumed from step-000003" in capsys.readouterr().out
    assert [r["step"] for r in read_metrics(run.folder) if "loss" in r] == [1, 2, 3, 4, 5, 6]


def test_out_of_memory_while_loading_the_model_gives_the_same_advice(train_ws, run_here, monkeypatch):
    import torch

    ws, model_id = train_ws

    def load_base(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.00 GiB")

    monkeypatch.setattr(modeling, "load_base", load_base)
    run, info = run_here(ws, config(model_id))
    assert_failed_cleanly(ws, run, info, modeling.OOM_ADVICE)
