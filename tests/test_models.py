"""The model registry: bundled SmolLM2, registered folders, tokenizer and GGUF-conversion caches, the
Qwen part join. Fast tests use a tiny random model (as a folder and as a GGUF); the real SmolLM2
conversion (~20-30 s) is marked `slow`."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench import jobs, model_convert, models
from workbench.models import ModelError, ModelSpec
from workbench.workspace import Workspace

CHAT = [{"role": "user", "content": "What is the capital of France?"}]


# --- fixtures: one workspace whose SmolLM2 tokenizer is extracted once for the module ----------------
@pytest.fixture(scope="module")
def model_ws(tmp_path_factory):
    return Workspace(tmp_path_factory.mktemp("models") / "workspace")


@pytest.fixture(scope="module")
def smol_tokenizer(model_ws):
    started = time.perf_counter()
    folder = models.tokenizer_folder(model_ws, models.SMOLLM2_ID)
    return folder, time.perf_counter() - started


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory, smol_tokenizer):
    """A random 2-layer Qwen2 model saved with the real SmolLM2 tokenizer beside it."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen2Config

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(smol_tokenizer[0])
    config = Qwen2Config(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, vocab_size=len(tokenizer), tie_word_embeddings=True)
    folder = tmp_path_factory.mktemp("tiny") / "tiny-qwen2"
    AutoModelForCausalLM.from_config(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory):
    path = tmp_path_factory.mktemp("gguf") / "tiny-llama.gguf"
    write_tiny_gguf(path)
    return path


def write_tiny_gguf(path: Path, hidden=64, layers=2, heads=4, kv_heads=2, ffn=128) -> None:
    """A random llama GGUF (F16 weights) with a byte-level BPE vocabulary of ~270 tokens and a ChatML template.

    Small on purpose: parsing SmolLM2's 49k-token vocabulary is most of its 20 s load time.
    """
    import numpy as np
    from gguf import GGUFWriter
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    merges = ["Ġ t", "h e", "Ġt he", "i n", "Ġ a"]
    tokens = special + list(bytes_to_unicode().values()) + ["Ġt", "he", "Ġthe", "in", "Ġa"]
    writer = GGUFWriter(str(path), arch="llama")
    writer.add_name("tiny-random-llama")
    for key, value in (("block_count", layers), ("context_length", 256), ("embedding_length", hidden),
                       ("feed_forward_length", ffn), ("attention.head_count", heads),
                       ("attention.head_count_kv", kv_heads), ("vocab_size", len(tokens)),
                       ("rope.dimension_count", hidden // heads)):
        writer.add_uint32(f"llama.{key}", value)
    writer.add_float32("llama.rope.freq_base", 10000.0)
    writer.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    writer.add_string("tokenizer.ggml.model", "gpt2")
    writer.add_string("tokenizer.ggml.pre", "smollm")
    writer.add_array("tokenizer.ggml.tokens", tokens)
    writer.add_array("tokenizer.ggml.token_type", [3] * len(special) + [1] * (len(tokens) - len(special)))
    writer.add_array("tokenizer.ggml.merges", merges)
    for key, value in (("bos_token_id", 1), ("eos_token_id", 2), ("unknown_token_id", 0), ("padding_token_id", 2)):
        writer.add_uint32(f"tokenizer.ggml.{key}", value)
    writer.add_bool("tokenizer.ggml.add_bos_token", False)
    writer.add_string("tokenizer.chat_template", "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}"
                      "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    rng = np.random.default_rng(0)

    def add(name, *shape):
        writer.add_tensor(name, (rng.standard_normal(shape) * 0.02).astype(np.float16))

    add("token_embd.weight", len(tokens), hidden)
    writer.add_tensor("output_norm.weight", np.ones(hidden, np.float32))
    for i in range(layers):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(hidden, np.float32))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(hidden, np.float32))
        add(f"blk.{i}.attn_q.weight", hidden, hidden)
        add(f"blk.{i}.attn_k.weight", kv_heads * hidden // heads, hidden)
        add(f"blk.{i}.attn_v.weight", kv_heads * hidden // heads, hidden)
        add(f"blk.{i}.attn_output.weight", hidden, hidden)
        add(f"blk.{i}.ffn_gate.weight", ffn, hidden)
        add(f"blk.{i}.ffn_up.weight", ffn, hidden)
        add(f"blk.{i}.ffn_down.weight", hidden, ffn)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def assert_loads_and_runs(folder: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    ids = tokenizer.apply_chat_template(CHAT, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        logits = model(**ids).logits
    assert logits.shape[-1] == model.config.vocab_size and torch.isfinite(logits).all()


# --- the list and resolving ---------------------------------------------------------------------------
def test_importing_models_does_not_import_torch():
    """Pages import the registry to list models; that must stay fast and torch-free."""
    code = ("import sys, workbench.models; "
            "print(sorted(m for m in ('torch', 'transformers', 'gguf') if m in sys.modules))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[1]).stdout
    assert output.strip() == "[]"


def test_list_models_shows_bundled_smollm2_available(ws):
    for listed in (models.list_models(), models.list_models(ws)):
        smol = next(spec for spec in listed if spec.id == "smollm2-135m-instruct")
        assert smol.available and smol.kind == "bundled" and smol.gguf_path.is_file()
        assert "qwen2.5-coder-0.5b-instruct" in [spec.id for spec in listed]
    assert models.resolve(ws, "smollm2-135m-instruct") == smol


def test_qwen_is_refused_with_the_install_command_when_its_packages_are_missing(ws):
    if model_convert.qwen_part_files() is not None:
        pytest.skip("the Qwen part packages are installed here")
    qwen = next(spec for spec in models.list_models(ws) if spec.id == models.QWEN_ID)
    assert not qwen.available and "install_qwen.py" in qwen.notes
    with pytest.raises(ModelError, match="install_qwen.py"):
        models.resolve(ws, models.QWEN_ID)


def test_resolve_takes_hub_ids_paths_and_refuses_unknown_names(ws, tiny_gguf):
    hub = models.resolve(ws, "HuggingFaceTB/SmolLM2-135M-Instruct")
    assert hub.kind == "hub" and hub.path is None  # resolving never touches the network
    by_path = models.resolve(ws, tiny_gguf)
    assert by_path.kind == "local" and by_path.gguf_file == tiny_gguf.name
    assert by_path == models.resolve(ws, str(tiny_gguf))  # the same id each time: its caches are reused
    assert not (ws.root / "models" / "registry.json").exists()  # a path is used, not registered
    with pytest.raises(ModelError, match="未知模型"):
        models.resolve(ws, "no-such-model")


# --- tokenizer cache ------------------------------------------------------------------------------------
def test_tokenizer_folder_is_cached_and_the_second_call_is_fast(model_ws, smol_tokenizer):
    folder, first_seconds = smol_tokenizer
    assert folder == model_ws.root / "models" / "cache" / "smollm2-135m-instruct" / "tokenizer"
    started = time.perf_counter()
    assert models.tokenizer_folder(model_ws, "smollm2-135m-instruct") == folder
    second_seconds = time.perf_counter() - started
    print(f"tokenizer extraction: first {first_seconds:.2f} s, second {second_seconds * 1000:.1f} ms")
    assert second_seconds < 1.0
    assert not list(folder.parent.glob(".tmp-*"))
    tokenizer = models.load_tokenizer(model_ws, "smollm2-135m-instruct")
    for text in ("你好，世界", "Hello, world"):
        ids = tokenizer.encode(text, add_special_tokens=False)
        assert ids and tokenizer.decode(ids) == text


def test_chat_template_is_the_models_own_and_renders(model_ws, smol_tokenizer):
    template = models.chat_template(model_ws, "smollm2-135m-instruct")
    assert "<|im_start|>" in template
    tokenizer = models.load_tokenizer(model_ws, "smollm2-135m-instruct")
    text = tokenizer.apply_chat_template(CHAT, tokenize=False, add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n") and "<|im_start|>user\nWhat is the capital" in text


# --- registering local folders ----------------------------------------------------------------------------
def test_register_local_refuses_what_is_not_a_model_with_a_bilingual_message(ws, tmp_path, smol_tokenizer):
    with pytest.raises(ModelError, match="Not found.*找不到"):
        models.register_local(ws, tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError) as error:
        models.register_local(ws, empty)
    assert "config.json" in str(error.value) and "不是模型文件夹" in str(error.value)
    no_tokenizer = tmp_path / "no-tokenizer"
    no_tokenizer.mkdir()
    (no_tokenizer / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="no tokenizer files.*缺少分词器文件"):
        models.register_local(ws, no_tokenizer)
    no_weights = tmp_path / "no-weights"
    no_weights.mkdir()
    (no_weights / "config.json").write_text("{}")
    (no_weights / "tokenizer.json").write_text("{}")
    with pytest.raises(ModelError, match="no weights.*缺少权重文件"):
        models.register_local(ws, no_weights)
    assert [spec.kind for spec in models.list_models(ws)] == ["bundled", "bundled"]


def test_register_local_accepts_a_tiny_model_folder(ws, tiny_folder):
    spec = models.register_local(ws, tiny_folder, label="Tiny Qwen2")
    assert spec.id == "local-tiny-qwen2" and spec.kind == "local" and spec.available
    assert json.loads((ws.root / "models" / "registry.json").read_text())["models"][0]["path"] == str(tiny_folder)
    assert spec in models.list_models(ws)
    assert models.register_local(ws, tiny_folder) == spec  # registering twice keeps one entry
    assert models.resolve(ws, tiny_folder) == spec == models.resolve(ws, "local-tiny-qwen2")
    # A transformers folder is used in place: no copy, no conversion.
    assert models.tokenizer_folder(ws, spec) == tiny_folder
    assert models.converted_model_folder(ws, spec) == tiny_folder
    assert "<|im_start|>" in models.chat_template(ws, spec.id)
    assert_loads_and_runs(tiny_folder)
    assert models.unregister_local(ws, spec.id) and spec not in models.list_models(ws)


# --- GGUF conversion ----------------------------------------------------------------------------------------
def test_a_registered_gguf_converts_to_a_cached_safetensors_folder(ws, tiny_gguf):
    """The same code path as SmolLM2 (GGUF tokenizer extraction, dequantize, save), on a tiny file."""
    spec = models.register_local(ws, tiny_gguf)
    assert spec.gguf_file == "tiny-llama.gguf" and spec.id == "local-tiny-llama"
    stages = []
    folder = models.converted_model_folder(ws, spec, progress=lambda stage, fraction: stages.append((stage, fraction)))
    assert folder == ws.root / "models" / "cache" / spec.id / "model-bfloat16"
    fractions = [fraction for _, fraction in stages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(stages) >= 4
    assert {"model.safetensors", "config.json", "tokenizer.json", "chat_template.jinja"} <= {
        p.name for p in folder.iterdir()}
    assert "quantization_config" not in json.loads((folder / "config.json").read_text())
    assert json.loads((folder / "config.json").read_text())["dtype"] == "bfloat16"
    assert not list(folder.parent.glob(".tmp-*"))
    assert_loads_and_runs(folder)

    started = time.perf_counter()
    stages.clear()
    assert models.converted_model_folder(ws, spec, progress=lambda *a: stages.append(a)) == folder
    assert time.perf_counter() - started < 0.5 and stages == [("already converted / 已转换", 1.0)]


def test_convert_job_records_its_stages_and_result(ws, tiny_gguf, monkeypatch):
    """The registered job function run by the real worker entry point (in this process)."""
    monkeypatch.setattr(jobs, "_spawn", lambda ws, job_id: None)
    job_id = jobs.start(ws, "convert_model", {"model": str(tiny_gguf), "dtype": "float32"}, "convert tiny")
    handler = signal.getsignal(signal.SIGTERM)
    try:
        assert jobs.run(ws, job_id) == 0
    finally:
        signal.signal(signal.SIGTERM, handler)
    info = jobs.get(ws, job_id)
    assert info.state == "succeeded" and info.fraction == 1.0, info.error
    assert info.result["folder"].endswith("model-float32") and info.result["dtype"] == "float32"
    assert (Path(info.result["folder"]) / "model.safetensors").is_file()


def test_convert_job_runs_as_a_background_process(ws, tiny_gguf):
    job_id = jobs.start(ws, "convert_model", {"model": str(tiny_gguf)}, "convert tiny")
    info = jobs.wait(ws, job_id, timeout=300)
    assert info.state == "succeeded", info.log_tail()
    assert "saving safetensors" in info.log_tail(50)


@pytest.mark.slow
def test_smollm2_converts_once_and_still_answers(model_ws, smol_tokenizer):
    """The real 135M GGUF: dequantized to bf16 safetensors, later loads are fast and greedy answers hold."""
    import torch
    from transformers import AutoModelForCausalLM

    started = time.perf_counter()
    folder = models.converted_model_folder(model_ws, "smollm2-135m-instruct")
    converted = time.perf_counter() - started
    started = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    loaded = time.perf_counter() - started
    print(f"SmolLM2 conversion {converted:.1f} s, later load {loaded:.2f} s")
    assert loaded < 3.0
    tokenizer = models.load_tokenizer(model_ws, "smollm2-135m-instruct")
    ids = tokenizer.apply_chat_template(CHAT, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    output = model.generate(**ids, max_new_tokens=12, do_sample=False)
    assert "Paris" in tokenizer.decode(output[0][ids["input_ids"].shape[1]:])


# --- the optional Qwen model: joining its parts ---------------------------------------------------------------
@pytest.fixture
def fake_parts(tmp_path):
    parts = []
    for i in range(1, 4):
        parts.append(tmp_path / f"part0{i}.bin")
        parts[-1].write_bytes(bytes([i]) * (1000 * i))
    return parts


def test_join_parts_writes_the_verified_file(ws, fake_parts):
    import hashlib

    joined = b"".join(part.read_bytes() for part in fake_parts)
    target = model_convert.install_qwen(ws, hashlib.sha256(joined).hexdigest(), pip=False, parts=fake_parts,
                                        log=lambda message: None)
    assert target == model_convert.qwen_gguf_target(ws) and target.read_bytes() == joined
    qwen = next(spec for spec in models.list_models(ws) if spec.id == models.QWEN_ID)
    assert qwen.available and qwen.gguf_path == target  # a joined file counts even without the packages


def test_join_parts_refuses_and_deletes_a_file_with_the_wrong_sha256(ws, fake_parts):
    target = model_convert.qwen_gguf_target(ws)
    with pytest.raises(ModelError, match="sha256"):
        model_convert.install_qwen(ws, "0" * 64, pip=False, parts=fake_parts, log=lambda message: None)
    assert not target.exists() and not list(target.parent.glob(".tmp-*"))
    target.write_bytes(b"tampered")
    with pytest.raises(ModelError, match="deleted"):
        model_convert.verify_file(target, "0" * 64)
    assert not target.exists()


def test_model_spec_is_frozen():
    spec = models.list_models()[0]
    assert isinstance(spec, ModelSpec)
    with pytest.raises(Exception):
        spec.id = "other"


def test_a_run_lists_its_base_models_languages_and_license_through_continued_runs(ws):
    from workbench.train.config import TrainConfig
    from workbench.train.runs import create_run, finish_run

    first = create_run(ws, TrainConfig(dataset="d"), "d", 1, models.SMOLLM2_ID)
    second = create_run(ws, TrainConfig(dataset="d"), "d", 1, f"run-{first.id}")
    elsewhere = create_run(ws, TrainConfig(dataset="d"), "d", 1, "/no/such/folder")
    for run in (first, second, elsewhere):
        finish_run(ws, run.id, "succeeded")
    listed = {spec.id: spec for spec in models.list_models(ws)}
    smollm2 = listed[models.SMOLLM2_ID]
    for run in (first, second):
        assert (listed[f"run-{run.id}"].languages, listed[f"run-{run.id}"].license) == ("English", "Apache-2.0")
    assert listed[f"run-{elsewhere.id}"].license == models.UNKNOWN_BASE
    assert (smollm2.languages, smollm2.license) == ("English", "Apache-2.0")
    assert [spec.id for spec in models.list_models(ws) if spec.kind == "run"] == \
        [f"run-{run.id}" for run in (elsewhere, second, first)]  # newest first, as the Runs page lists them
