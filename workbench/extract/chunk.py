"""Cut a document into overlapping chunks at natural boundaries, each with its exact span and heading path.

    chunks = chunk_document(document, size=800, overlap=100)             # sizes in characters
    chunks = chunk_document(document, size=256, overlap=32, tokenizer=tok)  # sizes in tokens

A markdown heading always starts a new chunk and its titles are carried as `headings` (the section
path, e.g. ("用户指南", "账户", "如何重置密码？")). Inside a section a chunk ends at the best boundary in
the second half of its window: a paragraph end, else a line end, else a sentence end (Chinese 。！？；…
and their full-width/ASCII forms, English . ! ? ;), else a comma or space, else it is cut. The next
chunk starts at the earliest paragraph, line or sentence start inside the overlap (else a clause start).
`document.text[chunk.start:chunk.end] == chunk.text`.
Same input, same chunks.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from pydantic import BaseModel, Field, model_validator

CLOSERS = "\"'”’)\\]）】」』》"
PARAGRAPH_END = re.compile(r"\n[ \t]*\n\s*")
LINE_END = re.compile(r"\n")
SENTENCE_END = re.compile(rf"(?:[。！？；｡．!?;…⋯]+|\.(?=\s|$|[{CLOSERS}]))[{CLOSERS}]*")
CLAUSE_END = re.compile(r"[，、,：:]|\s+")
BOUNDARIES = (PARAGRAPH_END, LINE_END, SENTENCE_END, CLAUSE_END)  # best first
HEADING_OR_FENCE = re.compile(
    r"^(?:(?P<fence>```|~~~)[^\n]*|(?P<hashes>#{1,6})[ \t]+(?P<title>[^\n]*?)(?:[ \t]+#+)?[ \t]*)$", re.M)


class ChunkConfig(BaseModel):
    """How documents are cut (saved with LLM extraction jobs; the same YAML for the page and the CLI)."""

    size: int = Field(1000, ge=20, le=1_000_000, description="largest chunk, in characters (or tokens)")
    overlap: int = Field(100, ge=0, description="text repeated from the end of the previous chunk")
    tokenizer: str | None = Field(None, description="a model id: count tokens of its tokenizer, not characters")

    @model_validator(mode="after")
    def overlap_below_half(self):
        if self.overlap * 2 > self.size:
            raise ValueError(f"overlap ({self.overlap}) must be at most half the chunk size ({self.size}) / "
                             f"重叠长度（{self.overlap}）不能超过块大小（{self.size}）的一半")
        return self


@dataclass(frozen=True)
class Chunk:
    id: str                        # "<document id>:<index>"
    document_id: str
    index: int
    text: str
    start: int                     # character offsets into the document text: text == document.text[start:end]
    end: int
    headings: tuple[str, ...] = ()

    @property
    def heading_path(self) -> str:
        return " > ".join(self.headings)


@dataclass(frozen=True)
class Section:
    start: int
    end: int
    headings: tuple[str, ...]


def chunk_document(document, size: int = 1000, overlap: int = 100, tokenizer=None) -> list[Chunk]:
    """The chunks of a Document (or anything with `.id` and `.text`)."""
    return chunk_text(document.text, size, overlap, tokenizer, document_id=document.id)


def chunk_documents(documents, config: ChunkConfig, ws=None) -> list[Chunk]:
    """Chunks of several documents with one config; a tokenizer id is loaded from the workspace's models."""
    tokenizer = None
    if config.tokenizer:
        from ..models import load_tokenizer

        tokenizer = load_tokenizer(ws, config.tokenizer)
    return [chunk for document in documents
            for chunk in chunk_document(document, config.size, config.overlap, tokenizer)]


def chunk_text(text: str, size: int = 1000, overlap: int = 100, tokenizer=None,
               document_id: str = "text") -> list[Chunk]:
    if size < 1 or not 0 <= overlap < size:
        raise ValueError("size must be positive and overlap smaller than size / 块大小必须为正数，且重叠小于块大小")
    ruler = _TokenRuler(text, tokenizer) if tokenizer is not None else _CharRuler()
    boundaries = [[match.end() for match in pattern.finditer(text)] for pattern in BOUNDARIES]
    chunks: list[Chunk] = []
    for section in sections(text):
        start = section.start
        while start < section.end:
            end = _chunk_end(start, section.end, size, ruler, boundaries)
            _add_chunk(chunks, text, start, end, section.headings, document_id)
            if end >= section.end:
                break
            start = _next_start(text, start, end, overlap, ruler, boundaries)
    return chunks


def sections(text: str) -> list[Section]:
    """The text split at markdown headings (not those inside ``` code fences), with each heading path."""
    found, stack, in_fence = [], [], None
    for match in HEADING_OR_FENCE.finditer(text):
        fence = match.group("fence")
        if fence:
            in_fence = None if in_fence == fence else (in_fence or fence)
            continue
        title = match.group("title").strip()
        if in_fence or not title:
            continue
        level = len(match.group("hashes"))
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        found.append((match.start(), tuple(t for _, t in stack)))
    starts = [(0, ())] + found if not found or found[0][0] > 0 else found
    ends = [position for position, _ in starts[1:]] + [len(text)]
    return [Section(start, end, headings) for (start, headings), end in zip(starts, ends) if text[start:end].strip()]


def _chunk_end(start: int, stop: int, size: int, ruler, boundaries) -> int:
    limit = ruler.forward(start, size)
    if limit >= stop:
        return stop
    lowest = start + max(1, (limit - start) // 2)  # never shorter than half the window
    for positions in boundaries:
        index = bisect.bisect_right(positions, limit) - 1
        if index >= 0 and positions[index] >= lowest:
            return positions[index]
    return max(limit, start + 1)


def _next_start(text: str, start: int, end: int, overlap: int, ruler, boundaries) -> int:
    """Where the next chunk starts: the earliest sentence start (else clause start) inside the overlap."""
    if overlap <= 0:
        return end
    content_end = start + len(text[start:end].rstrip())  # a start in trailing blanks would overlap nothing
    earliest = max(ruler.back(end, overlap), start + 1)
    for positions in boundaries:
        index = bisect.bisect_left(positions, earliest)
        if index < len(positions) and positions[index] < content_end:
            return positions[index]
    return earliest if earliest < content_end else end  # no boundary at all: repeat exactly `overlap`


def _add_chunk(chunks: list, text: str, start: int, end: int, headings, document_id: str) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    start += len(piece) - len(piece.lstrip())
    end = start + len(stripped)
    if chunks and chunks[-1].start <= start and end <= chunks[-1].end:
        return  # wholly inside the previous chunk (a tail that only repeats the overlap)
    index = len(chunks)
    chunks.append(Chunk(f"{document_id}:{index}", document_id, index, stripped, start, end, tuple(headings)))


class _CharRuler:
    @staticmethod
    def forward(position: int, count: int) -> int:
        return position + count

    @staticmethod
    def back(position: int, count: int) -> int:
        return position - count


class _TokenRuler:
    """Moves by tokens: positions are the character offsets where the tokenizer's tokens start."""

    def __init__(self, text: str, tokenizer):
        self.length = len(text)
        self.starts = sorted({start for start, end in _token_offsets(text, tokenizer) if end > start})

    def forward(self, position: int, count: int) -> int:
        index = bisect.bisect_left(self.starts, position) + count
        return self.starts[index] if index < len(self.starts) else self.length

    def back(self, position: int, count: int) -> int:
        index = bisect.bisect_left(self.starts, position) - count
        return self.starts[max(index, 0)] if self.starts else 0


def _token_offsets(text: str, tokenizer) -> list[tuple[int, int]]:
    """(start, end) character offsets of each token: transformers fast tokenizers or `tokenizers.Tokenizer`."""
    if hasattr(tokenizer, "encode") and not hasattr(tokenizer, "convert_ids_to_tokens"):
        return list(tokenizer.encode(text, add_special_tokens=False).offsets)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return [tuple(pair) for pair in encoded["offset_mapping"]]
