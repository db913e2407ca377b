"""Near-duplicate texts: MinHash signatures of character n-grams, LSH banding, verified pairs.

Chinese has no spaces, so the features are overlapping character n-grams, 3 by default (about a
word and a half of Chinese; unrelated English texts rarely share 80% of their trigram *sets*). A
text shorter than n is one shingle. A shingle's code points are folded into 64 bits and mixed down
to 32 (`shingle_hash`).

Signatures are exactly datasketch's `MinHash(num_perm, seed, scheme="affine32",
hashfunc=shingle_hash)` after `update_batch(shingles(text))` (a test compares them), computed for
all texts at once with numpy: one permutation at a time over every shingle, the minimum per text by
`np.minimum.reduceat`, chunks of texts on two threads. `MinHash.bulk` hashes every shingle in Python:
20x slower here (18k texts: 0.28 s vs 5.9 s).

`MinHashLSH(threshold, num_perm, weights=RECALL_WEIGHTS)` chooses the bands (b bands of r values),
tilted towards recall. Texts that agree on all r values of a band are candidates. Instead of
inserting every text into the index and querying it, each band's values are folded into one 64-bit
key and sorted, which finds the same buckets (a test checks it against MinHashLSH). In a bucket each
text is paired with the first one and with the next one, which connects the bucket without a bucket
of thousands making millions of pairs (18k texts: 0.07 s vs 12 s for insert + query). A candidate
pair is kept when its estimated Jaccard similarity (the share of equal signature values) reaches the
threshold. (So two similar texts that are neither first nor neighbours in any shared bucket, with only
dissimilar texts between them, are not paired; a bucket of unrelated texts sharing r values is rare.)
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

NGRAM = 3
NUM_PERM = 128
SEED = 1
CHUNK_TEXTS = 8_000  # texts per step: its arrays stay in cache (2-5x faster than 100k at once here)
THREADS = 2
# (false positive, false negative) weights for choosing the bands. Equal weights find only ~40% of the
# pairs right at the threshold; these find ~95% (128 permutations, 0.5-0.95). The extra candidates
# cost a vectorized check, never a wrong result: every pair is verified against the threshold.
RECALL_WEIGHTS = (0.05, 0.95)
EMPTY = np.uint32(0xFFFFFFFF)  # the signature value of a text without shingles (as datasketch)
_FOLD = np.uint64(0x100000001B3)  # odd (FNV prime): folding code points into one 64-bit key
_MASK64 = (1 << 64) - 1


def shingles(text: str, ngram: int = NGRAM) -> list[str]:
    """The text's overlapping character n-grams (the text itself when shorter; none when empty)."""
    if len(text) <= ngram:
        return [text] if text else []
    return [text[i:i + ngram] for i in range(len(text) - ngram + 1)]


def shingle_hash(gram: str) -> int:
    """32-bit hash of one shingle (the reference for the vectorized path; usable as a datasketch hashfunc)."""
    key = 0
    for char in gram:
        key = (key * int(_FOLD) + ord(char)) & _MASK64
    return int(_fmix64(np.array([key], dtype=np.uint64))[0] >> np.uint64(32))


def permutations(num_perm: int = NUM_PERM, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a, b) for this seed."""
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return a, b


def lsh_bands(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """(bands, rows per band) that datasketch's MinHashLSH picks for this threshold, favouring recall."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=RECALL_WEIGHTS)
    return lsh.b, lsh.r


def codepoints(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every text's code points in one uint32 array, and each text's length in characters."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    points = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return points, lengths


def shingle_hashes(points: np.ndarray, lengths: np.ndarray, ngram: int = NGRAM) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of every text's shingles in text order, and how many shingles each text has."""
    ends = np.cumsum(lengths)
    starts = ends - lengths
    padded = np.concatenate([points, np.zeros(ngram, dtype=np.uint32)]).astype(np.uint64)
    keys = np.zeros(len(points), dtype=np.uint64)
    for k in range(ngram):
        keys = keys * _FOLD + padded[k:k + len(points)]
    # A shingle starts where the whole n-gram lies in its text; a shorter text is one shingle.
    longer = lengths >= ngram
    marks = np.zeros(len(points) + 1, dtype=np.int64)
    marks[starts[longer]] += 1  # distinct positions, so plain fancy indexing adds each once
    marks[ends[longer] - ngram + 1] -= 1
    valid = np.cumsum(marks[:-1]) > 0
    short = np.flatnonzero((lengths > 0) & ~longer)
    if len(short):
        key = np.zeros(len(short), dtype=np.uint64)
        for k in range(ngram - 1):
            inside = k < lengths[short]
            key = np.where(inside, key * _FOLD + padded[np.minimum(starts[short] + k, len(points))], key)
        keys[starts[short]] = key
        valid[starts[short]] = True
    hashes = (_fmix64(keys[valid]) >> np.uint64(32)).astype(np.uint32)
    counts = np.where(longer, lengths - ngram + 1, (lengths > 0).astype(np.int64))
    return hashes, counts


def signatures(texts: list[str], num_perm: int = NUM_PERM, ngram: int = NGRAM, seed: int = SEED,
               progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """MinHash signatures, one column per text: uint32 array of shape (num_perm, len(texts))."""
    a, b = permutations(num_perm, seed)
    out = np.empty((num_perm, len(texts)), dtype=np.uint32)

    def sign(start: int) -> int:
        chunk = texts[start:start + CHUNK_TEXTS]
        hashes, counts = shingle_hashes(*codepoints(chunk), ngram=ngram)
        hashes = _fmix32(hashes)  # datasketch's affine32 pre-mix
        offsets = np.minimum(np.cumsum(counts) - counts, max(len(hashes) - 1, 0))
        buffer = np.empty_like(hashes)
        for k in range(num_perm):
            row = out[k, start:start + len(chunk)]
            if len(buffer):
                np.multiply(hashes, a[k], out=buffer)
                buffer += b[k]
                row[:] = np.minimum.reduceat(buffer, offsets)
            row[counts == 0] = EMPTY
        return len(chunk)

    done = 0
    pool = ThreadPoolExecutor(THREADS)  # numpy releases the GIL: chunks run side by side
    try:
        for count in pool.map(sign, range(0, len(texts), CHUNK_TEXTS)):
            done += count
            if progress:
                progress(done, len(texts))  # may raise (a cancelled job): the chunks not started are dropped
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return out


def candidate_pairs(sig: np.ndarray, bands: int, rows: int, among: np.ndarray | None = None) -> np.ndarray:
    """Unique (i, j) column pairs, i < j, that share all values of at least one band (int64, shape (P, 2))."""
    count = sig.shape[1]
    among = np.arange(count) if among is None else np.asarray(among, dtype=np.int64)
    found = []
    for band in range(bands):
        key = np.full(len(among), 0x2545F4914F6CDD1D, dtype=np.uint64)
        for value in sig[band * rows:(band + 1) * rows, among]:
            key = (key ^ value.astype(np.uint64)) * _FOLD
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        same = ordered[1:] == ordered[:-1]
        if not same.any():
            continue
        run_start = np.maximum.accumulate(np.where(np.r_[True, ~same], np.arange(len(order)), 0))
        members = among[order[1:][same]]
        for partner in (among[order[:-1][same]], among[order[run_start[1:][same]]]):  # the next one, the first one
            low, high = np.minimum(partner, members), np.maximum(partner, members)
            found.append((low * count + high)[low != high])
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    codes = np.unique(np.concatenate(found))
    return np.stack([codes // count, codes % count], 1)


def similarity(sig: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of column pairs: the share of equal signature values."""
    equal = np.zeros(len(left), dtype=np.int32)
    for values in sig:
        equal += values[left] == values[right]
    return equal / sig.shape[0]


def near_pairs(sig: np.ndarray, threshold: float,
               among: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(left, right, similarity) of column pairs whose estimated Jaccard similarity is >= threshold."""
    bands, rows = lsh_bands(threshold, sig.shape[0])
    pairs = candidate_pairs(sig, bands, rows, among)
    scores = similarity(sig, pairs[:, 0], pairs[:, 1])
    keep = scores >= threshold - 1e-9
    return pairs[keep, 0], pairs[keep, 1], scores[keep]


def connected_components(count: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """A component label per node (the smallest node index in its component), from undirected edges."""
    labels = np.arange(count, dtype=np.int64)
    if not len(left):
        return labels
    while True:
        low = np.minimum(labels[left], labels[right])
        before = labels.copy()
        np.minimum.at(labels, left, low)
        np.minimum.at(labels, right, low)
        while True:  # pointer jumping: every node points at its root
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels, before):
            return labels


def _fmix64(values: np.ndarray) -> np.ndarray:
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xFF51AFD7ED558CCD)
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xC4CEB9FE1A85EC53)
    return values ^ (values >> np.uint64(33))


def _fmix32(values: np.ndarray) -> np.ndarray:
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))
