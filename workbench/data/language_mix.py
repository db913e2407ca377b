"""Language mix of texts by Unicode script, without a model.

Only letters count (digits, punctuation, symbols and emoji are ignored). A text's units are its Han
characters, its Latin-letter words (runs of Latin letters, full-width ones included) and its letters of
other scripts (kana, Hangul, Cyrillic, Greek, Arabic, Hebrew, Indic, Thai, Georgian). Han characters and
Latin words are compared as units because a Chinese word is one or two characters and an English word
several letters.
- zh: Han characters are >= 80% of the units; en: Latin words are >= 80%;
- mixed: both are present and together >= 80%;
- other: the rest (another script dominates) and texts without letters.
Japanese heavy in kanji counts as zh; pass NFKC-normalized text for the best result.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .near_duplicates import CHUNK_TEXTS, codepoints

LANGUAGES = ("zh", "en", "mixed", "other")
DOMINANT = 0.8  # share of a text's units that makes it zh, en or mixed
_HAN_LETTER, _LATIN_LETTER, _OTHER_LETTER = 1, 2, 3
_HAN = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x323AF))
_LATIN = ((0x41, 0x5A), (0x61, 0x7A), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x24F), (0x1E00, 0x1EFF),
          (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
_OTHER_LETTERS = ((0x370, 0x3FF), (0x400, 0x52F), (0x531, 0x58F), (0x5D0, 0x5F2), (0x620, 0x64A),
                  (0x671, 0x6D3), (0x900, 0xDFF), (0xE01, 0xEDF), (0x10A0, 0x10FF), (0x1100, 0x11FF),
                  (0x3040, 0x30FF), (0x3130, 0x318F), (0xAC00, 0xD7AF))


def language_codes(texts: list[str]) -> np.ndarray:
    """An index into LANGUAGES per text, by the rule in the module docstring."""
    out = np.empty(len(texts), dtype=np.int64)
    for start in range(0, len(texts), CHUNK_TEXTS):  # small arrays stay in cache
        chunk = texts[start:start + CHUNK_TEXTS]
        points, lengths = codepoints(chunk)
        kind = _script_table()[points]
        latin = kind == _LATIN_LETTER
        word_start = latin.copy()
        word_start[1:] &= ~latin[:-1]
        starts = (np.cumsum(lengths) - lengths)[lengths > 0]
        word_start[starts] = latin[starts]  # a text's first letter starts a word
        owner = np.repeat(np.arange(len(chunk), dtype=np.int32), lengths)
        han, words, other = (np.bincount(owner[mask], minlength=len(chunk))
                             for mask in (kind == _HAN_LETTER, word_start, kind == _OTHER_LETTER))
        units = np.maximum(han + words + other, 1)
        zh, en = han >= DOMINANT * units, words >= DOMINANT * units
        mixed = (han > 0) & (words > 0) & (han + words >= DOMINANT * units)
        out[start:start + len(chunk)] = np.select([zh, en, mixed], [0, 1, 2], default=3)
    return out


@lru_cache(maxsize=1)
def _script_table() -> np.ndarray:
    """Letter kind per code point (0 not a letter we count, then Han, Latin, other script)."""
    table = np.zeros(0x110000, dtype=np.uint8)
    for kind, ranges in ((_HAN_LETTER, _HAN), (_LATIN_LETTER, _LATIN), (_OTHER_LETTER, _OTHER_LETTERS)):
        for low, high in ranges:
            table[low:high + 1] = kind
    return table
