"""Length statistics: Unicode characters, tokens from real `tokenizers` objects, streaming and resume."""
import json

import numpy as np
import pyarrow as pa
import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from workbench.data.stats import StatsAccumulator, histogram, length_stats

KEYS = {"count", "empty", "mean", "p50", "p90", "p99", "max"}


def word_tokenizer() -> Tokenizer:
    vocab = {"[UNK]": 0, "hello": 1, "world": 2, "the": 3}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return tokenizer


@pytest.fixture(scope="module")
def huanhuan(huanhuan_rows):
    return pa.Table.from_pylist(huanhuan_rows)


@pytest.fixture(scope="module")
def chinese_bpe(huanhuan_rows) -> Tokenizer:
    """A small BPE trained on the dataset itself (no downloads here)."""
    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=3000, special_tokens=["[UNK]"], show_progress=False)
    tokenizer.train_from_iterator((r["instruction"] + r["output"] for r in huanhuan_rows), trainer)
    return tokenizer


def test_characters_are_unicode_characters_and_blank_cells_are_empty():
    table = pa.table({"text": pa.array(["甄嬛", "皇上万福金安", None, "  ", "\u3000", "ab"], pa.string())})
    chars = length_stats(table)["fields"]["text"]["chars"]
    assert chars == {"count": 6, "empty": 3, "mean": round((2 + 6 + 0 + 2 + 1 + 2) / 6, 2),
                     "p50": 2, "p90": 6, "p99": 6, "max": 6}


def test_huanhuan_character_statistics_match_python(huanhuan, huanhuan_rows):
    stats = length_stats(huanhuan, ["instruction", "input", "output"])
    assert stats["rows"] == 3729 and stats["token_rows"] is None
    for name in ("instruction", "input", "output"):
        lengths = np.array([len(r[name]) for r in huanhuan_rows])
        chars = stats["fields"][name]["chars"]
        assert set(chars) == KEYS and chars["count"] == 3729
        assert chars["max"] == lengths.max() and chars["mean"] == round(lengths.mean(), 2)
        assert chars["p50"] == int(np.percentile(lengths, 50, method="inverted_cdf"))
        assert chars["empty"] == sum(1 for r in huanhuan_rows if not r[name].strip())
        assert stats["fields"][name]["_lengths"].tolist() == lengths.tolist()
    assert stats["fields"]["input"]["chars"]["empty"] == 3729  # huanhuan has no inputs


def test_token_counts_with_tokenizers_and_transformers_tokenizers_agree():
    from transformers import PreTrainedTokenizerFast

    table = pa.table({"text": pa.array(["hello world", "the hello x y", "", None, "world"], pa.string())})
    expected = [2, 4, 0, 0, 1]
    raw = length_stats(table, tokenizer=word_tokenizer())
    wrapped = length_stats(table, tokenizer=PreTrainedTokenizerFast(tokenizer_object=word_tokenizer(),
                                                                     unk_token="[UNK]", bos_token="[UNK]"))
    for stats in (raw, wrapped):
        assert stats["fields"]["text"]["_token_lengths"].tolist() == expected
        assert stats["fields"]["text"]["tokens"]["max"] == 4 and stats["fields"]["text"]["tokens"]["empty"] == 2
        assert stats["token_rows"] == 5


def test_any_hf_style_callable_or_encode_object_works():
    class Callable:
        def __call__(self, texts, add_special_tokens=True):
            return {"input_ids": [text.split() for text in texts]}

    class Encoder:
        def encode(self, text):
            return list(text)

    table = pa.table({"text": ["a b c", "d"]})
    assert length_stats(table, tokenizer=Callable())["fields"]["text"]["_token_lengths"].tolist() == [3, 1]
    assert length_stats(table, tokenizer=Encoder())["fields"]["text"]["_token_lengths"].tolist() == [5, 1]


def test_tokens_on_a_seeded_sample(huanhuan, chinese_bpe):
    first = length_stats(huanhuan, ["output"], tokenizer=chinese_bpe, sample=500, seed=3)
    again = length_stats(huanhuan, ["output"], tokenizer=chinese_bpe, sample=500, seed=3)
    assert first["token_rows"] == 500 and first["fields"]["output"]["tokens"]["count"] == 500
    assert first["fields"]["output"]["tokens"] == again["fields"]["output"]["tokens"]
    assert first["fields"]["output"]["chars"]["count"] == 3729  # characters still over every row
    tokens = first["fields"]["output"]["tokens"]
    chars = first["fields"]["output"]["chars"]
    assert 0 < tokens["mean"] < chars["mean"]  # BPE merges Chinese characters
    assert length_stats(huanhuan, ["output"], tokenizer=chinese_bpe, sample=10**6)["token_rows"] == 3729


def test_unknown_fields_are_refused():
    with pytest.raises(ValueError, match="nope.*/.*不存在"):
        length_stats(pa.table({"a": ["x"]}), ["nope"])


def test_histogram_bins_cover_every_value():
    values = np.array([0, 1, 1, 2, 5, 9, 9, 10])
    bins = histogram(values, bins=5)
    assert sum(b["count"] for b in bins) == len(values)
    assert bins[0]["start"] == 0 and bins[-1]["end"] == 11
    assert all(a["end"] == b["start"] for a, b in zip(bins, bins[1:]))
    assert histogram(np.array([], dtype=int)) == []
    assert histogram(np.array([4, 4])) == [{"start": 4, "end": 5, "count": 2}]


def test_histogram_uses_growing_bins_for_a_long_tail():
    values = np.concatenate([np.full(1000, 20), np.arange(10, 60), [5_000, 40_000]])
    bins = histogram(values, bins=20)
    assert sum(b["count"] for b in bins) == len(values)
    widths = [b["end"] - b["start"] for b in bins]
    assert widths[0] < widths[-1] / 100  # short rows are not lumped into one bar
    assert len(histogram(values, bins=20, log=False)) == 20


def test_streaming_matches_the_in_memory_statistics(huanhuan, chinese_bpe):
    fields = ["instruction", "input", "output"]
    exact = length_stats(huanhuan, fields, tokenizer=chinese_bpe)
    accumulator = StatsAccumulator(fields, tokenizer=chinese_bpe)
    for batch in huanhuan.to_batches(max_chunksize=1000):
        accumulator.update(batch)
    result = accumulator.result()
    assert result["rows"] == 3729 and result["token_rows"] == 3729
    for name in fields:
        for unit in ("chars", "tokens"):  # every length here is below 256: binned quantiles are exact
            assert result["fields"][name][unit] == exact["fields"][name][unit]


def test_binned_quantiles_of_long_texts_are_within_one_percent():
    rng = np.random.default_rng(0)
    lengths = rng.lognormal(7, 1, 20_000).astype(int)
    table = pa.table({"text": pa.array(["字" * n for n in lengths])})
    accumulator = StatsAccumulator(["text"])
    for batch in table.to_batches(max_chunksize=3000):
        accumulator.update(batch)
    streamed = accumulator.result()["fields"]["text"]["chars"]
    exact = length_stats(table)["fields"]["text"]["chars"]
    assert {k: streamed[k] for k in ("count", "empty", "mean", "max")} == {
        k: exact[k] for k in ("count", "empty", "mean", "max")}
    for key in ("p50", "p90", "p99"):
        assert abs(streamed[key] - exact[key]) <= 0.01 * exact[key] + 1


def test_resuming_from_a_saved_state_counts_nothing_twice(huanhuan, chinese_bpe):
    fields = ["instruction", "output"]
    batches = huanhuan.to_batches(max_chunksize=700)
    straight = StatsAccumulator(fields, tokenizer=chinese_bpe)
    for batch in batches:
        straight.update(batch)
    first = StatsAccumulator(fields, tokenizer=chinese_bpe)
    for batch in batches[:3]:
        first.update(batch)
    state = json.loads(json.dumps(first.to_state()))  # what a checkpoint file holds
    resumed = StatsAccumulator.from_state(state, tokenizer=chinese_bpe)
    for batch in batches[3:]:
        resumed.update(batch)
    assert resumed.result() == straight.result()
    with pytest.raises(ValueError, match="tokenizer"):
        StatsAccumulator.from_state(state)


def test_streaming_accepts_tables_and_empty_batches():
    accumulator = StatsAccumulator(["text"])
    accumulator.update(pa.table({"text": pa.array([], pa.string())}))
    assert accumulator.result()["fields"]["text"]["chars"]["count"] == 0
    accumulator.update(pa.table({"text": ["甄嬛", None]}))
    assert accumulator.result()["fields"]["text"]["chars"] == {
        "count": 2, "empty": 1, "mean": 1.0, "p50": 0, "p90": 2, "p99": 2, "max": 2}
