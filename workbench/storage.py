"""Atomic file writes: write a temp file beside the target, fsync, rename. Readers never see half a file."""
from __future__ import annotations

import json
import os
import re
import unicodedata
import uuid
from contextlib import contextmanager
from pathlib import Path

TMP_PREFIX = ".tmp-"


@contextmanager
def atomic_path(target: Path):
    """Yield a temp path beside `target`; on success it is fsynced and renamed onto `target`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f"{TMP_PREFIX}{uuid.uuid4().hex}-{target.name}"
    try:
        yield tmp
        if tmp.is_file():
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        if tmp.exists() and tmp.is_file():
            tmp.unlink()


def write_text_atomic(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(target: Path, data) -> None:
    write_text_atomic(target, json.dumps(data, ensure_ascii=False, indent=2, default=str))


def settings_path(root, name: str) -> Path:
    return Path(root) / "settings" / name


def read_settings(root, name: str) -> dict:
    """The workspace's settings file settings/<name> ({} before its first save); ValueError when it holds
    something other than a JSON object."""
    path = settings_path(root, name)
    if not path.exists():
        return {}
    settings = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(settings, dict):
        raise ValueError(f"{path} is not a JSON object")
    return settings


def update_settings(root, name: str, **values) -> None:
    """Set `values` in settings/<name>, keeping its other keys (written atomically)."""
    write_json_atomic(settings_path(root, name), {**read_settings(root, name), **values})


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_temp_files(root: Path, min_age_seconds: float = 3600) -> int:
    """Delete temp files left by a process killed mid-write; returns how many.

    Only old ones: a young temp file may belong to another process writing right now.
    """
    import time

    removed = 0
    for path in Path(root).rglob(f"{TMP_PREFIX}*"):
        if path.is_file() and time.time() - path.stat().st_mtime >= min_age_seconds:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


# Bytes left for a name once atomic writes add ".tmp-<32 hex>-old-" beside it (most file systems allow 255).
MAX_NAME_BYTES = 200
# Device names Windows refuses as file names, with any extension (`con.json` too).
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_name(name: str, default: str = "file", max_length: int = 80) -> str:
    """A file-system-safe name: no folders, no dots at the start, no control characters.

    Chinese and other letters are kept; `../../etc/passwd` becomes `etc_passwd`. A long name is cut
    before its extension (readers pick the format by it) and to at most MAX_NAME_BYTES in UTF-8.
    """
    name = unicodedata.normalize("NFC", str(name)).replace("\\", "/")
    parts = [p for p in name.split("/") if p not in ("", ".", "..")]
    name = "_".join(parts)
    name = "".join(ch if (ch.isalnum() or ch in "-_. ") else "_" for ch in name)
    name = re.sub(r"[\s_]+", "_", name).strip("._ -")
    stem, dot, extension = name.rpartition(".")
    suffix = dot + extension if stem and 0 < len(extension) <= 16 else ""
    stem = name[:len(name) - len(suffix)]
    budget = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    cut = stem[:max(max_length - len(suffix), 1)].encode("utf-8")[:budget].decode("utf-8", "ignore")
    if cut != stem:
        stem = cut.rstrip("._ -")
    if stem.split(".")[0].upper() in WINDOWS_RESERVED:
        stem = "_" + stem
    return stem + suffix if stem else default


def slug(name: str, default: str = "dataset") -> str:
    """An ASCII identifier for ids and folder names."""
    text = re.sub(r"[^A-Za-z0-9]+", "-", str(name)).strip("-").lower()
    return text[:40] or default


def inside(root: Path, path: Path) -> bool:
    """True when `path` resolves inside `root` (guards every write the workspace makes)."""
    root, path = Path(root).resolve(), Path(path).resolve()
    return path == root or root in path.parents
