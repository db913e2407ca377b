"""Load documents and URLs, chunk them, and extract question/answer pairs (rule mode; LLM mode builds on it).

    from workbench.extract import read_sources, chunk_document, Rule, extract_pairs, preview, score_extraction
    read = read_sources(["faq.pdf", "https://example.com/faq", Pasted("问：…\\n答：…")])   # strict URL policy
    result = extract_pairs(read.documents, Rule(preset="auto"))
    version = save_extraction(ws, pairs_to_rows(result.pairs, read.documents), "faq",
                              source_summaries(read.documents, result.pairs), Rule(preset="auto"))
    chunks = chunk_document(read.documents[0], size=800, overlap=100)                   # for LLM mode
    job_id = start_rules_job(ws, sources, Rule(), "faq")                                 # many/large sources

Heavy libraries (trafilatura, pypdf, python-docx) are imported only when a document of that kind is read.
"""
from . import messages  # noqa: F401  (registers the feature's problem messages)
from .chunk import Chunk, ChunkConfig, Section, chunk_document, chunk_documents, chunk_text, sections
from .dataset import extract_to_dataset, pair_row, pairs_to_rows, rows_table, save_extraction, source_summaries
from .fetch import FetchResult, fetch
from .formats import decode_text
from .policy import STRICT, FetchPolicy, address_kind, fetch_policy_for, save_fetch_settings
from .rules import (PRESETS, Pair, Rule, RuleResult, extract_pairs, find_pairs, looks_like_question, preset_pattern,
                    preview, rule_from)
from .score import Score, answer_overlap, normalize_question, score_extraction
from .sources import (Document, Pasted, SourcesResult, parse_bytes, read_pasted, read_path, read_source,
                      read_sources, read_upload, read_url, sources_key)

__all__ = ["Chunk", "ChunkConfig", "Section", "chunk_document", "chunk_documents", "chunk_text", "sections",
           "extract_to_dataset", "pair_row", "pairs_to_rows", "rows_table", "save_extraction", "source_summaries",
           "STRICT", "FetchPolicy", "FetchResult", "address_kind", "fetch", "fetch_policy_for", "save_fetch_settings",
           "PRESETS", "Pair", "Rule", "RuleResult", "extract_pairs", "find_pairs", "looks_like_question",
           "preset_pattern", "preview", "rule_from", "Score", "answer_overlap", "normalize_question", "score_extraction",
           "Document", "Pasted", "SourcesResult", "decode_text", "parse_bytes", "read_pasted", "read_path",
           "read_source", "read_sources", "read_upload", "read_url", "sources_key", "start_rules_job"]


def __getattr__(name: str):
    """`start_rules_job` from .jobs, imported on first use: a job process of another kind that reads documents
    does not register the extraction job's kind (nor load the job machinery)."""
    if name == "start_rules_job":
        from .jobs import start_rules_job

        return start_rules_job
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
