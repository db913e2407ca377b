"""Evaluation: metrics, LLM judge, human overrides and reports."""
