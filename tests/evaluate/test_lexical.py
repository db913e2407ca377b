"""Lexical metrics: our ROUGE/BLEU against independent implementations on a fixed set of zh/en pairs."""
import math
from collections import Counter

import pytest
from rouge_score import rouge_scorer, tokenizers
from sacrebleu.metrics import BLEU

from workbench.evaluate.lexical import (METRICS, clean_text, lexical_scores, score_pairs, segment,
                                        summarize)

# (candidate, reference): Chinese, English, mixed, punctuation, repeats, short and long, odd characters.
PAIRS = [
    ("猫坐在垫子上。", "一只猫坐在垫子上。"),
    ("今天天气很好，我们去公园散步吧。", "今天天气不错，我们去公园走走吧！"),
    ("臣妾做不到啊！", "臣妾做不到。"),
    ("皇上万福金安。", "皇上万福金安。"),
    ("本宫乏了，你们都退下吧。", "你们都退下吧，本宫累了。"),
    ("小主，该用晚膳了。", "娘娘，御膳房送来了点心。"),
    ("甄嬛传是一部电视剧。", "这部剧讲的是后宫的故事。"),
    ("好", "好的"),
    ("是", "否"),
    ("嗯嗯嗯嗯", "嗯"),
    ("我爱北京天安门，天安门上太阳升。", "我爱北京天安门。"),
    ("The cat sat on the mat.", "A cat sat on a mat."),
    ("the the the the", "the cat"),
    ("Hello world", "hello world"),
    ("I like machine learning very much", "Machine learning is something I like"),
    ("completely unrelated words here", "nothing in common at all"),
    ("OK", "OK"),
    ("我用Python写代码，速度很快。", "我用 Python 写程序，速度快。"),
    ("GPU训练需要CUDA 12.1版本", "训练需要 CUDA 版本 12.1 和 GPU"),
    ("价格是99元，包邮。", "价格：99元（包邮）"),
    ("！！！", "。。。"),
    ("……", "好吧……"),
    ("“你好”，他说。", "他说：“你好”。"),
    ("１２３ＡＢＣ", "123ABC"),
    ("a b c d e f g", "a b c d e f g"),
    ("e=mc^2 是质能方程", "质能方程：E=mc²"),
    ("😀今天很开心😀", "今天很开心"),
    ("第一句。第二句。第三句。", "第三句。第二句。第一句。"),
    ("重复重复重复重复重复", "重复一次"),
    ("Tab\tseparated\ttext", "Tab separated text"),
    ("line one\nline two", "line one line two"),
    ("英文 and 中文 mixed 混合 text 文本", "中文 and 英文 mixed 文本"),
    ("臣妾" * 60 + "知道了", "臣妾知道了"),
]


class _Whitespace(tokenizers.Tokenizer):
    """Pre-segmented text for rouge-score: tokens are what is between spaces, nothing else touched."""

    def tokenize(self, text):
        return text.split()


def _reference_rouge(candidate, reference):
    """rouge-score's own scorer on jieba-segmented text joined by spaces (LLaMA-Factory's preprocessing)."""
    hypothesis, target = " ".join(segment(candidate)), " ".join(segment(reference))
    if not hypothesis or not target:
        return {"rouge-1": 0.0, "rouge-2": 0.0, "rouge-l": 0.0}
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], tokenizer=_Whitespace())
    scores = scorer.score(target, hypothesis)
    return {"rouge-1": scores["rouge1"].fmeasure * 100, "rouge-2": scores["rouge2"].fmeasure * 100,
            "rouge-l": scores["rougeL"].fmeasure * 100}


def _textbook_rouge(candidate, reference):
    """ROUGE-N with clipped counts and ROUGE-L from an LCS table, written from Lin (2004)."""
    c, r = segment(candidate), segment(reference)

    def f1(overlap, n_candidate, n_reference):
        if not overlap:
            return 0.0
        precision, recall = overlap / n_candidate, overlap / n_reference
        return 200 * precision * recall / (precision + recall)

    result = {}
    for n in (1, 2):
        grams_c = Counter(tuple(c[i:i + n]) for i in range(len(c) - n + 1))
        grams_r = Counter(tuple(r[i:i + n]) for i in range(len(r) - n + 1))
        result[f"rouge-{n}"] = f1(sum((grams_c & grams_r).values()), sum(grams_c.values()), sum(grams_r.values()))
    table = [[0] * (len(r) + 1) for _ in range(len(c) + 1)]
    for i, word_c in enumerate(c):
        for j, word_r in enumerate(r):
            table[i + 1][j + 1] = table[i][j] + 1 if word_c == word_r else max(table[i][j + 1], table[i + 1][j])
    result["rouge-l"] = f1(table[-1][-1], len(c), len(r))
    return result


def _reference_bleu(candidate, reference):
    """sacrebleu's n-gram statistics over characters, combined with NIST smoothing (Chen & Cherry method 3)."""
    def spaced(text):  # one token per character (its code point), so whitespace characters count too
        return " ".join(f"{ord(character):x}" for character in text)

    stats = BLEU(tokenize="none", smooth_method="none", effective_order=False).sentence_score(
        spaced(candidate), [spaced(reference)])
    if stats.counts[0] == 0:
        return 0.0  # nltk (and so LLaMA-Factory) returns 0 when no unigram matches
    log_sum, halvings = 0.0, 0
    for count, total in zip(stats.counts, stats.totals):
        if count == 0:
            halvings += 1
            precision = 1 / (2 ** halvings * max(total, 1))
        else:
            precision = count / total
        log_sum += math.log(precision) / 4
    length_c, length_r = len(candidate), len(reference)
    penalty = 1.0 if length_c > length_r else math.exp(1 - length_r / length_c)
    return 100 * penalty * math.exp(log_sum)


@pytest.mark.parametrize("candidate,reference", PAIRS)
def test_rouge_matches_rouge_score_and_the_textbook_definition(candidate, reference):
    """Each ROUGE F1 equals rouge-score on pre-segmented text and a from-scratch implementation within 0.01."""
    ours = lexical_scores(candidate, reference)
    for other in (_reference_rouge(candidate, reference), _textbook_rouge(candidate, reference)):
        for name in ("rouge-1", "rouge-2", "rouge-l"):
            assert ours[name] == pytest.approx(other[name], abs=0.01), (name, candidate, reference)


@pytest.mark.parametrize("candidate,reference", PAIRS)
def test_bleu_matches_sacrebleu_statistics_with_nist_smoothing(candidate, reference):
    """BLEU-4 over characters equals sacrebleu's counts combined with method-3 smoothing within 0.01."""
    ours = lexical_scores(candidate, reference)["bleu-4"]
    assert ours == pytest.approx(_reference_bleu(candidate, reference), abs=0.01), (candidate, reference)


def test_known_values_and_bounds():
    """Identical texts score 100 on ROUGE; no shared character scores 0 everywhere; all scores lie in [0, 100]."""
    same = lexical_scores("皇上万福金安。", "皇上万福金安。")
    assert same["rouge-1"] == same["rouge-2"] == same["rouge-l"] == pytest.approx(100)
    assert same["bleu-4"] == pytest.approx(100)
    assert lexical_scores("completely unrelated", "毫无关系") == {name: 0.0 for name in METRICS}
    # 猫/坐在/垫子/上/。 against 一只/猫/坐在/垫子/上/。: 5 of 5 and 5 of 6 words.
    assert lexical_scores("猫坐在垫子上。", "一只猫坐在垫子上。")["rouge-1"] == pytest.approx(200 * 5 / 6 / (1 + 5 / 6))
    for row in score_pairs(*zip(*PAIRS)):
        assert all(0 <= value <= 100 + 1e-9 for value in row.values())


def test_word_order_matters_for_rouge_2_and_l_not_rouge_1():
    """Reversed sentences keep every word (ROUGE-1 = 100) but lose bigrams and the common subsequence."""
    scores = lexical_scores("第一句。第二句。第三句。", "第三句。第二句。第一句。")
    assert scores["rouge-1"] == pytest.approx(100)
    assert scores["rouge-2"] < 100 and scores["rouge-l"] < 100


@pytest.mark.parametrize("candidate", ["", "   ", "\n\t", "\x00"])
def test_blank_candidate_scores_zero(candidate):
    """An empty or whitespace answer scores 0 on every metric (it is a bad answer, not a missing one)."""
    assert lexical_scores(candidate, "参考答案") == {name: 0.0 for name in METRICS}


def test_missing_candidate_or_reference_is_not_scored_and_is_counted():
    """A failed generation (None) or a blank reference gets None; averages leave them out and count them."""
    rows = score_pairs(["好的", None, "好的", ""], ["好的", "好的", "  ", "好的"])
    assert rows[1] is None and rows[2] is None
    summary = summarize(rows)
    assert summary.n == 2 and summary.excluded == 2
    assert summary.means["rouge-1"] == pytest.approx(50)  # (100 + 0) / 2
    assert summarize([None]).means == {name: None for name in METRICS}


def test_odd_text_never_raises():
    """Bytes (valid or not), lone surrogates, NUL and NaN are cleaned rather than crashing."""
    odd = [b"\xe4\xbd\xa0\xe5\xa5\xbd", b"\xff\xfe bad bytes", "bad \udcff surrogate", "nul\x00inside",
           float("nan"), 12345, "\u200b\u200b"]
    for value in odd:
        row = lexical_scores(value, "你好 bad surrogate inside 12345")
        assert row is None or all(0 <= v <= 100 for v in row.values())
    assert lexical_scores(b"\xe4\xbd\xa0\xe5\xa5\xbd", "你好")["rouge-1"] == pytest.approx(100)
    assert clean_text(float("nan")) is None and clean_text(" x ") == "x"


def test_lengths_must_match():
    with pytest.raises(ValueError):
        score_pairs(["a"], ["a", "b"])


def test_every_metric_has_a_name_and_help_in_both_languages():
    """The report can label each stored metric (and the summary figures) in English and Chinese."""
    from workbench.i18n import STRINGS

    for name in METRICS + ("similarity", "baseline", "lift", "exact", "accuracy", "macro_f1", "win_rate", "kappa",
                           "ci95"):
        assert f"metric.{name}" in STRINGS and f"metric.{name}.help" in STRINGS, name
