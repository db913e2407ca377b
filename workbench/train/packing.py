"""Deterministic step plans and batch tensors: packed (padding-free, attention per row) or padded.

A step takes `batch_size x gradient_accumulation` rows of a seeded per-epoch shuffle, so step k
always sees the same rows: resuming at step k continues the exact same run.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .formatting import IGNORE, Example

if TYPE_CHECKING:
    import torch


@dataclass
class Batch:
    input_ids: "torch.Tensor"        # [1, T] packed or [B, L] padded
    position_ids: "torch.Tensor"     # resets to 0 at every row start
    targets: "torch.Tensor"          # next-token labels already shifted; IGNORE where no loss
    attention_mask: "torch.Tensor | None"   # padded batches only
    cu_seqlens: "torch.Tensor | None"       # packed batches only: row boundaries (int32)
    max_row: int
    tokens: int                      # real (non-pad) tokens
    answer_tokens: int


def steps_per_epoch(rows: int, batch_size: int, accumulation: int) -> int:
    return max(1, math.ceil(rows / (batch_size * accumulation)))


def total_steps(rows: int, batch_size: int, accumulation: int, epochs: float, max_steps: int | None) -> int:
    steps = max(1, math.ceil(steps_per_epoch(rows, batch_size, accumulation) * epochs))
    return max_steps if max_steps else steps  # like transformers: max_steps overrides epochs (data repeats)


def step_rows(rows: int, step: int, batch_size: int, accumulation: int, seed: int) -> np.ndarray:
    """Row indices of global step `step` (0-based): a slice of the seeded shuffle of its epoch."""
    per_epoch = steps_per_epoch(rows, batch_size, accumulation)
    epoch, index = divmod(step, per_epoch)
    order = np.random.default_rng(seed + epoch).permutation(rows)
    size = batch_size * accumulation
    return order[index * size:(index + 1) * size]


def micro_batches(indices: np.ndarray, lengths: np.ndarray, batch_size: int, token_cap: int) -> list[list[int]]:
    """Groups of at most `batch_size` rows and `token_cap` tokens (longest first, first fit)."""
    groups: list[list[int]] = []
    for start in range(0, len(indices), batch_size):
        chunk = sorted(indices[start:start + batch_size].tolist(), key=lambda i: -lengths[i])
        bins: list[tuple[int, list[int]]] = []
        for row in chunk:
            for position, (used, members) in enumerate(bins):
                if used + lengths[row] <= token_cap:
                    bins[position] = (used + lengths[row], members + [row])
                    break
            else:
                bins.append((int(lengths[row]), [row]))
        groups += [members for _, members in bins]
    return groups


def _shifted(example: Example) -> np.ndarray:
    return np.concatenate([example.labels[1:], [IGNORE]]).astype(np.int64)


def packed_batch(examples: list[Example]) -> Batch:
    """Rows end to end in one sequence; position ids and the attention restart at every row."""
    import torch

    ids = np.concatenate([e.input_ids for e in examples])
    targets = np.concatenate([_shifted(e) for e in examples])
    positions = np.concatenate([np.arange(len(e.input_ids)) for e in examples])
    bounds = np.cumsum([0] + [len(e.input_ids) for e in examples])
    return Batch(torch.from_numpy(ids)[None], torch.from_numpy(positions)[None], torch.from_numpy(targets)[None],
                 None, torch.from_numpy(bounds.astype(np.int32)), int(max(len(e.input_ids) for e in examples)),
                 int(len(ids)), int((targets != IGNORE).sum()))


def padded_batch(examples: list[Example], pad_id: int) -> Batch:
    """Rows padded on the right to the longest row of the batch (the plain dynamic-padding layout)."""
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids = np.full((len(examples), width), pad_id, dtype=np.int64)
    targets = np.full((len(examples), width), IGNORE, dtype=np.int64)
    mask = np.zeros((len(examples), width), dtype=np.int64)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        ids[row, :n], targets[row, :n], mask[row, :n] = example.input_ids, _shifted(example), 1
    positions = np.broadcast_to(np.arange(width), (len(examples), width)).copy()
    return Batch(torch.from_numpy(ids), torch.from_numpy(positions), torch.from_numpy(targets),
                 torch.from_numpy(mask), None, width, int(mask.sum()), int((targets != IGNORE).sum()))


def make_batch(examples: list[Example], packing: bool, pad_id: int) -> Batch:
    return packed_batch(examples) if packing else padded_batch(examples, pad_id)
