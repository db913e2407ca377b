"""LLM augmentation: paraphrase instructions or outputs, self-instruct, style transfer, multi-turn synthesis.

Runs as the resumable job `augment` (see jobs.py): prompts come from the template library
(`workbench/templates/builtin/augmentation.yaml`, Chinese or English by the row's language), every
call goes through `llm.batch` (cancel + resume never generates a row twice), quality controls drop
what should not be kept, and the result is a new version: the source rows plus the kept new rows,
each marked with `_augmented_from` (its parent row id) and `_aug_strategy`.
"""
from .core import STRATEGIES, AugmentConfig, Strategy, build_requests, filter_candidates, parse_result, start_augment

__all__ = ["STRATEGIES", "AugmentConfig", "Strategy", "build_requests", "filter_candidates", "parse_result",
           "start_augment"]
