"""Read documents for extraction: .txt/.md/.pdf/.docx/.html files or uploads, pasted text and URLs.

    result = read_sources(["faq.pdf", ("notes.txt", raw_bytes), Pasted("问：…答：…"), "https://…/faq"])
    result.documents   # [Document(id, source, kind, text, title, meta), ...]
    result.problems    # located bilingual problems: what could not be read and why (never a traceback)

Text is normalised to "\\n" line ends; every offset elsewhere (chunks, pairs) points into Document.text.
DOCX headings become markdown headings ("## …") so chunking and the FAQ rule see the structure.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ..problems import Problem, ReadError
from .fetch import fetch
from .formats import decode_text, docx_text, first_heading, html_text, normalize_newlines, pdf_text
from .messages import zh
from .policy import STRICT, FetchPolicy

KINDS = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".pdf": "pdf", ".docx": "docx",
         ".html": "html", ".htm": "html", ".xhtml": "html"}
HINTS = {  # suffix -> (English, Chinese) advice for files we do not read
    ".doc": (" Save old .doc files as .docx first.", "旧版 .doc 文件请先另存为 .docx。"),
    **{suffix: (" Datasets (tables) go through Import instead.", "数据集（表格）请使用“导入”功能。")
       for suffix in (".json", ".jsonl", ".csv", ".xlsx", ".xls", ".parquet", ".tsv")},
}


@dataclass(frozen=True)
class Document:
    """One source's text, ready for chunking and extraction; `id` is stable for the same source and text."""

    id: str
    source: str          # the file name or the URL
    kind: str            # "txt", "md", "pdf", "docx", "html" or "text" (pasted)
    text: str
    title: str = ""
    meta: dict = field(default_factory=dict, compare=False, hash=False)  # encoding, pages, page_starts, url, …

    def page_at(self, offset: int) -> int | None:
        """1-based PDF page holding the character at `offset` (None for other kinds)."""
        starts = self.meta.get("page_starts")
        if not starts:
            return None
        import bisect

        return bisect.bisect_right(starts, offset)


@dataclass(frozen=True)
class Pasted:
    """Text pasted into the page (a source for `read_sources`)."""

    text: str
    name: str = "pasted text"


@dataclass
class SourcesResult:
    documents: list[Document]
    problems: list[Problem]    # errors (a source that was not read) and warnings (read, with a remark)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


# --- many sources at once ----------------------------------------------------------------------------
def read_sources(items, policy: FetchPolicy = STRICT, encoding: str | None = None) -> SourcesResult:
    """Read each item (path, URL, (name, bytes) upload, Pasted or Document); one bad source never stops the rest."""
    documents, problems, seen = [], [], set()
    for item in items:
        try:
            document = read_source(item, policy, encoding)
        except ReadError as error:
            problems += error.problems
            continue
        if document.id in seen:  # the same text from the same source twice: keep one id per document
            document = Document(f"{document.id}-{len(documents) + 1}", document.source, document.kind,
                                document.text, document.title, document.meta)
        seen.add(document.id)
        documents.append(document)
        problems += [Problem.from_dict(p) for p in document.meta.get("warnings", [])]
    return SourcesResult(documents, problems)


def sources_key(items, policy: FetchPolicy = STRICT, encoding: str | None = None) -> tuple:
    """What decides `read_sources(items, policy, encoding)`: each item by content (a digest of uploaded bytes,
    pasted text, the URL or path) and the policy's fetch rules, so a cached read is never reused under another
    policy (a page fetched while private URLs were allowed, or a refusal from before they were)."""
    def item_key(item):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], (bytes, bytearray)):
            return ("upload", item[0], hashlib.sha1(item[1]).hexdigest())
        if isinstance(item, (Pasted, Document)):
            return (type(item).__name__, getattr(item, "name", getattr(item, "id", "")),
                    hashlib.sha1(item.text.encode("utf-8", "surrogatepass")).hexdigest())
        return ("source", str(item))

    rules = (policy.allow_private, tuple(policy.allowed_addresses), policy.max_bytes, policy.timeout_s,
             policy.max_redirects, policy.user_agent)
    return tuple(item_key(item) for item in items), rules, encoding


def read_source(item, policy: FetchPolicy = STRICT, encoding: str | None = None) -> Document:
    """One source of any supported form; raises ReadError."""
    if isinstance(item, Document):
        return item
    if isinstance(item, Pasted):
        return read_pasted(item.text, item.name)
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], (bytes, bytearray)):
        return read_upload(item[0], bytes(item[1]), encoding)
    if isinstance(item, str) and "://" in item.strip()[:12]:
        return read_url(item.strip(), policy)
    return read_path(item, encoding)


def is_url(text: str) -> bool:
    return "://" in str(text).strip()[:12]


# --- one source -------------------------------------------------------------------------------------
def read_path(path, encoding: str | None = None) -> Document:
    """A file on this machine (the type comes from its extension)."""
    path = Path(path)
    if not path.is_file():
        code = "file_unreadable" if path.exists() else "file_not_found"
        raise ReadError([Problem(code, file=path.name, params={"path": str(path), "detail": "not a file"})])
    return read_upload(path.name, path.read_bytes(), encoding)


def read_upload(name: str, data: bytes, encoding: str | None = None) -> Document:
    """Uploaded bytes; `name` (its file name) decides the type."""
    suffix = Path(name).suffix.lower()
    kind = KINDS.get(suffix)
    if kind is None:
        hint = HINTS.get(suffix, ("", ""))
        raise ReadError([Problem("extract_unsupported", file=name, params={
            "suffix": suffix or name, "hint": hint[0], "hint_zh": hint[1]})])
    return parse_bytes(data, name, kind, encoding=encoding)


def read_pasted(text: str, name: str = "pasted text") -> Document:
    text = normalize_newlines(text)
    if not text.strip():
        raise ReadError([Problem("extract_no_text", file=name, params={"kind": "text", "kind_zh": zh("text")})])
    return _document(name, "text", text, first_heading(text) or name)


def read_url(url: str, policy: FetchPolicy = STRICT) -> Document:
    """A web page (main content via trafilatura), or a PDF/DOCX/text file served over http(s)."""
    result = fetch(url, policy)
    document = parse_bytes(result.data, url, result.kind, charset=result.charset)
    meta = {**document.meta, "url": url, "final_url": result.final_url, "content_type": result.content_type,
            "redirects": list(result.redirects)}
    return Document(document.id, url, document.kind, document.text, document.title, meta)


def parse_bytes(data: bytes, name: str, kind: str, encoding: str | None = None, charset: str | None = None) -> Document:
    """Bytes of a known kind -> Document; raises ReadError with the reason when there is no text to get."""
    if not data:
        raise ReadError([Problem("file_empty", file=name)])
    if kind == "pdf":
        text, title, meta = pdf_text(data, name)
    elif kind == "docx":
        text, title, meta = docx_text(data, name)
    elif kind == "html":
        text, title, meta = html_text(data, name, charset)
    else:
        text, used = decode_text(data, name, encoding, hint=charset)
        if not text.strip():
            raise ReadError([Problem("extract_no_text", file=name, params={"kind": "file", "kind_zh": zh("file")})])
        title, meta = first_heading(text), {"encoding": used}
    return _document(name, kind, text, title or Path(name).stem, meta)


def _document(source: str, kind: str, text: str, title: str, meta: dict | None = None) -> Document:
    digest = hashlib.sha1(f"{source}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return Document(f"doc-{digest}", source, kind, text, title.strip()[:200], meta or {})
