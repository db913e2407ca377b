"""Classification mode on a product-review sentiment example (正面 / 负面 / 中性)."""
import pytest
from sklearn.metrics import accuracy_score, f1_score

from workbench.evaluate.classification import (OTHER, classification_report, exact_match, label_order,
                                               looks_like_labels, normalize_label)

LABELS = ["正面", "负面", "中性"]
# What a small model answers for ten product reviews, against the annotated labels.
REFERENCES = ["正面", "负面", "中性", "正面", "负面", "正面", "中性", "负面", "正面", "中性"]
PREDICTIONS = ["正面。", " 负面 ", "「中性」", "积极", "正面", "正面！", "还行吧", None, "ＰＯＳＩＴＩＶＥ", "中性"]
ALIASES = {"积极": "正面", "positive": "正面", "消极": "负面"}


@pytest.mark.parametrize("raw,expected", [
    ("正面。", "正面"), ("  正面  ", "正面"), ("「正面」", "正面"), ("“正面。”", "正面"), ("正面！！", "正面"),
    ("Positive.", "positive"), ("ＰＯＳＩＴＩＶＥ！", "positive"), ("(neutral)", "neutral"), ("**负面**", "负面"),
    ("very   good", "very good"), ("中性…", "中性"), ("", ""), ("。", ""),
])
def test_normalize_label(raw, expected):
    """Whitespace, full-width forms, case, wrapping quotes and trailing punctuation do not count."""
    assert normalize_label(raw) == expected


def test_aliases_and_missing_values():
    """Aliases map onto the canonical label (both normalized); None and NaN stay missing."""
    assert normalize_label("积极。", ALIASES) == "正面"
    assert normalize_label("POSITIVE", ALIASES) == "正面"
    assert normalize_label(None) is None and normalize_label(float("nan")) is None
    assert exact_match("积极", "正面", ALIASES) is True
    assert exact_match("积极", "正面") is False
    assert exact_match(None, "正面") is None and exact_match("正面", "  ") is None


def test_report_on_product_reviews():
    """Accuracy and macro-F1 agree with scikit-learn on the normalized labels; failed rows are left out."""
    report = classification_report(PREDICTIONS, REFERENCES, labels=LABELS, aliases=ALIASES)
    assert report.labels == LABELS and report.columns == LABELS + [OTHER]
    assert report.n == 9 and report.excluded == 1 and report.other == 1  # "还行吧" is outside the label set
    # By hand: rows 0,1,2,3,5,8,9 right (7 of 9); row 4 says 正面 for 负面; row 6 says 还行吧 for 中性.
    assert report.accuracy == pytest.approx(7 / 9)
    assert report.matches == [True, True, True, True, False, True, False, None, True, True]
    y_true = [r for r, p in zip(REFERENCES, PREDICTIONS) if p is not None]
    y_pred = [normalize_label(p, ALIASES) for p in PREDICTIONS if p is not None]
    y_pred = [p if p in LABELS else "other" for p in y_pred]
    assert report.accuracy == pytest.approx(accuracy_score(y_true, y_pred))
    assert report.macro_f1 == pytest.approx(f1_score(y_true, y_pred, labels=LABELS, average="macro"))
    # Confusion: rows = reference labels, columns = labels + other.
    assert report.confusion == [[4, 0, 0, 0],   # 正面: all four right (正面。, 积极, 正面！, ＰＯＳＩＴＩＶＥ)
                                [1, 1, 0, 0],   # 负面: one right, one called 正面 (the failed row is left out)
                                [0, 0, 2, 1]]   # 中性: two right, one "还行吧"
    positive = report.per_label[0]
    assert (positive.label, positive.support) == ("正面", 4)
    assert positive.precision == pytest.approx(4 / 5) and positive.recall == pytest.approx(1.0)


def test_label_order_is_stable():
    """Given labels keep their order; labels only found in references follow, sorted; no duplicates."""
    assert label_order(["b", "a", "c", "a"]) == ["a", "b", "c"]
    assert label_order(["b", "a", "c"], labels=["c", "C。", "b"]) == ["c", "b", "a"]
    shuffled = classification_report(PREDICTIONS[::-1], REFERENCES[::-1], aliases=ALIASES)
    assert shuffled.labels == sorted(LABELS)
    assert classification_report(PREDICTIONS, REFERENCES, aliases=ALIASES).accuracy == shuffled.accuracy


def test_nothing_scorable():
    """All predictions failed: no accuracy (None, not 0) and an all-zero matrix."""
    report = classification_report([None, None], ["正面", "负面"])
    assert report.accuracy is None and report.macro_f1 is None and report.n == 0 and report.excluded == 2
    assert report.confusion == [[0, 0, 0], [0, 0, 0]]


def test_looks_like_labels():
    """Few distinct short repeated values read as labels; free-text answers do not."""
    assert looks_like_labels(REFERENCES)
    assert not looks_like_labels(["今天天气很好。", "臣妾做不到啊！", "你放心，本宫不会委屈了这孩子。", "好"])
    assert not looks_like_labels(["正面"] * 10)  # a single class is not a classification task


def test_lengths_must_match():
    with pytest.raises(ValueError):
        classification_report(["正面"], ["正面", "负面"])
