"""Resumable checkpoints: trainable weights, optimizer, scheduler, RNG and counters, written atomically.

A checkpoint folder appears under its final name only when complete (written as `.tmp`, then renamed),
so a crash or a full disk while writing leaves the previous checkpoint valid.
"""
from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np

KEEP = 2


def trainable_state(model) -> dict:
    return {name: p.detach().cpu().clone() for name, p in model.named_parameters() if p.requires_grad}


def save(folder: Path, step: int, model, optimizer, scheduler, counters: dict) -> Path:
    """Write `folder/step-NNNNNN`; on failure remove the partial copy and re-raise (older ones stay)."""
    import torch

    final = folder / f"step-{step:06d}"
    partial = folder / f".step-{step:06d}.tmp"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        torch.save(trainable_state(model), partial / "weights.pt")
        torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "torch_rng": torch.get_rng_state(), "numpy_rng": np.random.get_state(),
                    "python_rng": random.getstate(),
                    "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None},
                   partial / "state.pt")
        (partial / "counters.json").write_text(json.dumps({**counters, "step": step}), encoding="utf-8")
        shutil.rmtree(final, ignore_errors=True)
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    for old in sorted(folder.glob("step-*"))[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest(folder: Path) -> Path | None:
    """The newest complete checkpoint, or None."""
    done = [p for p in sorted(folder.glob("step-*")) if (p / "counters.json").is_file()]
    return done[-1] if done else None


def load(path: Path, model, optimizer, scheduler) -> dict:
    """Restore a checkpoint into the model/optimizer/scheduler and RNGs; returns its counters."""
    import torch

    weights = torch.load(path / "weights.pt", map_location="cpu")
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(value)
    state = torch.load(path / "state.pt", map_location="cpu", weights_only=False)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    np.random.set_state(state["numpy_rng"])
    random.setstate(state["python_rng"])
    if state.get("cuda_rng") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    return json.loads((path / "counters.json").read_text(encoding="utf-8"))
