"""Workbench: turn raw material into a fine-tuning dataset, tune, infer, evaluate — offline."""
__version__ = "0.1.0"
