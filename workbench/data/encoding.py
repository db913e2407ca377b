"""Text encodings: detect them, stream any of them as UTF-8, and locate the first byte that does not decode.

Readers never hold a whole large file as one Python string: `DecodedStream` hands pyarrow (or a
line loop) UTF-8 bytes block by block, transcoding GB18030/GBK/UTF-16 on the way.
"""
from __future__ import annotations

import codecs
import io
import os

from ..problems import Problem, ReadError

CHUNK_BYTES = 4 << 20
UTF8_NAMES = ("utf-8", "utf-8-sig")
TAIL_BYTES = 4096  # the end of the stream is kept to tell trailing blank lines from blank lines inside
# Longest BOM first: the UTF-32-LE BOM starts with the UTF-16-LE one.
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def normalize_encoding(name: str | None) -> str | None:
    """A Python codec name ("UTF8" -> "utf-8"); None for auto-detection; unknown names raise ReadError."""
    if name is None or str(name).strip().lower() in ("", "auto"):
        return None
    try:
        canonical = codecs.lookup(str(name).strip()).name
    except LookupError:
        raise ReadError([Problem("file_unreadable", params={"detail": f"unknown encoding '{name}'"})]) from None
    return {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig"}.get(canonical, canonical)


def detect_encoding(path, sample_bytes: int = 1 << 20) -> str:
    """BOM -> its encoding; valid UTF-8 -> "utf-8"; strict GB18030 -> "gb18030"; else charset_normalizer's guess."""
    with open(path, "rb") as handle:
        sample = handle.read(sample_bytes)
        whole = len(sample) < sample_bytes or not handle.read(1)
    for bom, name in BOMS:
        if sample.startswith(bom):
            return name
    for name in ("utf-8", "gb18030"):
        try:
            # Incremental, so a sample cut in the middle of a character still counts as valid.
            codecs.getincrementaldecoder(name)("strict").decode(sample, final=whole)
            return name
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    return normalize_encoding(best.encoding) if best is not None else "utf-8"


def resolve_encoding(path, requested: str | None) -> str:
    """The encoding to read with: the requested one (a UTF-8 BOM is skipped either way) or the detected one."""
    encoding = normalize_encoding(requested)
    if encoding is None:
        return detect_encoding(path)
    if encoding == "utf-8" and _starts_with(path, codecs.BOM_UTF8):
        return "utf-8-sig"
    return encoding


def _starts_with(path, prefix: bytes) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(prefix)) == prefix


class DecodedStream(io.RawIOBase):
    """A text file as UTF-8 bytes: BOM skipped, other encodings transcoded while streaming, progress reported.

    Also counts the newlines it hands out and keeps the last bytes, so a reader can map rows to lines.
    UTF-8 input is passed through unchecked (the Arrow readers validate it); others decode strictly.
    """

    def __init__(self, path, encoding: str, progress=None, chunk_bytes: int = CHUNK_BYTES, count_lines: bool = True):
        super().__init__()
        self._count_lines = count_lines
        self._file = open(path, "rb")
        self.total = os.fstat(self._file.fileno()).st_size
        self._progress, self._chunk_bytes = progress, chunk_bytes
        self._decoder = None if encoding in UTF8_NAMES else codecs.getincrementaldecoder(encoding)("strict")
        self._pending, self._eof = b"", False
        self.newlines, self.tail = 0, b""
        if self._decoder is None and self._file.read(3) != codecs.BOM_UTF8:
            self._file.seek(0)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(self._chunk_bytes), b""))
        if self._decoder is None:
            data = self._file.read(size)
        else:
            while len(self._pending) < size and not self._eof:
                raw = self._file.read(self._chunk_bytes)
                self._eof = not raw
                self._pending += self._decoder.decode(raw, final=self._eof).encode("utf-8")
            data, self._pending = self._pending[:size], self._pending[size:]
        if self._count_lines:
            self.newlines += data.count(b"\n")
            self.tail = data[-TAIL_BYTES:] if len(data) >= TAIL_BYTES else (self.tail + data)[-TAIL_BYTES:]
        if self._progress is not None:
            self._progress(self._file.tell(), self.total)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._file.close()
        super().close()

    def last_content_line(self) -> int | None:
        """1-based line of the last non-blank text, once everything was read (None if the tail is all blank)."""
        content = self.tail.rstrip()
        if not content and len(self.tail) >= TAIL_BYTES:
            return None
        return self.newlines - self.tail[len(content):].count(b"\n") + 1


def iter_lines(stream: DecodedStream, chunk_bytes: int = CHUNK_BYTES):
    """(1-based line number, line bytes without the newline) for every line of the stream."""
    number, rest = 0, b""
    for chunk in iter(lambda: stream.read(chunk_bytes), b""):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            number += 1
            yield number, line
    if rest:
        yield number + 1, rest


BLOCK_BYTES = 16 << 20  # pyarrow parses blocks in parallel; a row longer than a block needs a bigger one
MAX_BLOCK_BYTES = 1 << 30


def arrow_read(path, encoding: str, file: str, progress, read, utf8_invalid_is_decode_error: bool = False):
    """(table, the stream it was read from) from `read(pyarrow file, block_size)` over the decoded text, with
    blocks grown 4x while a row straddles them; None when pyarrow cannot take the file as it is (the caller's slow
    path then locates the problem). Undecodable bytes raise decode_error's located ReadError."""
    import pyarrow as pa

    block = BLOCK_BYTES
    while True:
        stream = DecodedStream(path, encoding, progress)
        try:
            return read(pa.PythonFile(stream, mode="r"), block), stream
        except UnicodeDecodeError:
            raise decode_error(path, encoding, file) from None
        except pa.ArrowInvalid as error:
            if "straddl" in str(error) and block < min(MAX_BLOCK_BYTES, stream.total + 1):
                block *= 4
                continue
            if utf8_invalid_is_decode_error and "utf8" in str(error).lower():
                raise decode_error(path, encoding, file) from None
            return None
        finally:
            stream.close()


def decode_error(path, encoding: str, display_name: str) -> ReadError:
    """A ReadError locating the first undecodable byte (line, column); scans the file again in chunks."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    line, column = 1, 0
    with open(path, "rb") as handle:
        if encoding in UTF8_NAMES and handle.read(3) != codecs.BOM_UTF8:
            handle.seek(0)
        while True:
            raw = handle.read(CHUNK_BYTES)
            try:
                text = decoder.decode(raw, final=not raw)
            except UnicodeDecodeError as error:
                # error.object holds any bytes left over from the previous chunk; they start on a character.
                text = error.object[: error.start].decode(encoding)
                line, column = _advance(text, line, column)
                byte = error.object[error.start: error.start + 1].hex().upper()
                return _encoding_read_error(display_name, encoding, byte, line, column + 1)
            line, column = _advance(text, line, column)
            if not raw:
                break
    return ReadError([Problem("file_unreadable", file=display_name,
                              params={"detail": f"the text is not valid {encoding}"})])


def _advance(text: str, line: int, column: int) -> tuple[int, int]:
    newlines = text.count("\n")
    if newlines:
        return line + newlines, len(text) - text.rfind("\n") - 1
    return line, column + len(text)


def _encoding_read_error(display_name, encoding, byte, line, column) -> ReadError:
    return ReadError([Problem("encoding_error", file=display_name, line=line, column=column,
                              params={"encoding": encoding, "byte": byte, "line": line, "column": column})])

