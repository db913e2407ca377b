"""Text out of document bytes: decoding plain text (BOM, UTF-8, GB18030/GBK, charset_normalizer), PDF text
layers (pypdf), Word documents (python-docx) and web pages (trafilatura). Each raises ReadError with a
located bilingual Problem when there is no text to get. trafilatura, pypdf and docx load on first use.
"""
from __future__ import annotations

import codecs
import io
import re

from ..data.encoding import BOMS, normalize_encoding
from ..problems import Problem, ReadError
from .messages import zh

CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
BOLD = re.compile(r"\*\*(\S(?:[^\n]*?\S)?)\*\*")
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.I)


def decode_text(data: bytes, name: str, encoding: str | None = None, hint: str | None = None) -> tuple[str, str]:
    """(text, encoding used): the given encoding, else BOM, UTF-8, GB18030 (covers GBK), then charset_normalizer."""
    requested = normalize_encoding(encoding)
    if requested is not None:
        return normalize_newlines(_decode_strict(data, requested, name)), requested
    for bom, bom_encoding in BOMS:
        if data.startswith(bom):
            return _checked_text(_decode_strict(data, bom_encoding, name), name), bom_encoding
    candidates = [c for c in (_codec(hint), "utf-8", "gb18030") if c]
    for candidate in dict.fromkeys(candidates):
        try:
            return _checked_text(data.decode(candidate), name), candidate
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 1 << 20]).best()
    if best is None or best.encoding is None:
        raise ReadError([Problem("extract_binary", file=name)])
    guessed = normalize_encoding(best.encoding)
    return _checked_text(_decode_strict(data, guessed, name), name), guessed


def _codec(name: str | None) -> str | None:
    try:
        return normalize_encoding(name) if name else None
    except ReadError:
        return None


def _checked_text(text: str, name: str) -> str:
    sample = text[:100_000]
    if "\x00" in sample or len(CONTROL.findall(sample)) > max(8, len(sample) // 100):
        raise ReadError([Problem("extract_binary", file=name)])
    return normalize_newlines(text)


def _decode_strict(data: bytes, encoding: str, name: str) -> str:
    try:
        return codecs.decode(data, encoding)
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1:].decode(encoding, "replace")) + 1
        byte = data[error.start: error.start + 1].hex().upper()
        raise ReadError([Problem("encoding_error", file=name, line=line, column=column, params={
            "encoding": encoding, "byte": byte, "line": line, "column": column})]) from None


def normalize_newlines(text: str) -> str:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def first_heading(text: str) -> str:
    match = re.search(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", text[:20_000], re.M)
    return match.group(1) if match else ""


# --- PDF --------------------------------------------------------------------------------------------
def pdf_text(data: bytes, name: str) -> tuple[str, str, dict]:
    """(text, title, meta with pages/page_starts/warnings) of a PDF's text layer; pages joined by a blank line."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    def corrupt(detail) -> ReadError:
        return ReadError([Problem("extract_pdf_corrupt", file=name, params={"detail": str(detail)[:200]})])

    if b"%PDF" not in data[:1024]:
        raise corrupt("it does not start with %PDF")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            detail = ("", "")
            try:
                opened = reader.decrypt("")  # owner-password-only PDFs open with an empty user password
            except DependencyError:  # AES needs the `cryptography` package, which is not installed
                opened, detail = 0, (" (AES encryption)", "（AES 加密）")
            if not opened:
                raise ReadError([Problem("extract_pdf_encrypted", file=name,
                                         params={"detail": detail[0], "detail_zh": detail[1]})])
        texts = [normalize_newlines(page.extract_text() or "").strip() for page in reader.pages]
    except ReadError:
        raise
    except Exception as error:  # pypdf raises many kinds (PdfReadError, KeyError, ValueError…) on broken files
        raise corrupt(error) from None
    if not texts or not any(texts):
        raise ReadError([Problem("extract_pdf_no_text", file=name, params={"pages": len(texts)})])
    parts, starts, offset = [], [], 0
    for text in texts:  # pages without text add nothing; their start is where the next page's text begins
        starts.append(offset)
        if text:
            parts.append(text)
            offset += len(text) + 2
    empty = [str(number) for number, text in enumerate(texts, 1) if not text]
    warnings = [Problem("extract_pdf_pages_without_text", severity="warning", file=name,
                        params={"pages": ", ".join(empty)}).to_dict()] if empty else []
    title = (reader.metadata.title if reader.metadata else None) or ""
    text = "\n\n".join(parts)
    return text, str(title) or _first_line(text), {"pages": len(texts), "page_starts": starts, "warnings": warnings}


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:120]


# --- DOCX -------------------------------------------------------------------------------------------
def docx_text(data: bytes, name: str) -> tuple[str, str, dict]:
    """(text, title, meta) of a Word document: headings as markdown headings, tables as `a | b` rows."""
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        blocks, number = [], 0
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in block.rows]
                blocks.append("\n".join(row for row in rows if row.strip(" |")))
                number = 0
                continue
            style = (block.style.name if block.style is not None else "") or ""
            text = block.text.strip()
            if not text:
                continue
            level = _heading_level(style)
            if level:
                text, number = "#" * level + " " + text, 0
            elif style.startswith("List Number"):  # Word numbers these itself; the numbers are not in the text
                number += 1
                text = f"{number}. {text}"
            else:
                number = 0
            blocks.append(text)
        title = document.core_properties.title or ""
    except Exception as error:  # python-docx raises BadZipFile, KeyError, PackageNotFoundError, XML errors…
        raise ReadError([Problem("extract_docx_corrupt", file=name, params={"detail": str(error)[:200] or
                                                                             type(error).__name__})]) from None
    text = normalize_newlines("\n\n".join(block for block in blocks if block))
    if not text.strip():
        raise ReadError([Problem("extract_no_text", file=name, params={"kind": "Word document",
                                                                         "kind_zh": zh("Word document")})])
    return text, title or first_heading(text), {}


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style)
    return min(int(match.group(1)), 6) if match else 0


# --- HTML -------------------------------------------------------------------------------------------
def html_text(data: bytes, name: str, charset: str | None = None) -> tuple[str, str, dict]:
    """(main content as markdown, title, meta) of a web page; navigation, ads and footers are left out."""
    import trafilatura

    declared = META_CHARSET.search(data[:4096])
    hint = charset or (declared.group(1).decode("ascii") if declared else None)
    html, used = decode_text(data, name, hint=hint)
    text = trafilatura.extract(html, output_format="markdown", include_formatting=True, include_tables=True,
                               include_links=False, include_images=False, include_comments=False,
                               favor_recall=True) or trafilatura.html2txt(html) or ""
    text = BOLD.sub(r"\1", normalize_newlines(text)).strip()
    if not text:
        raise ReadError([Problem("extract_no_text", file=name, params={"kind": "web page", "kind_zh": zh("web page")})])
    metadata = trafilatura.extract_metadata(html)
    return text, (metadata.title if metadata is not None else None) or first_heading(text), {"encoding": used}
