"""Classification mode (sentiment, product category, ...): exact match after normalization, accuracy,
macro-F1 and a confusion matrix.

Normalization makes "正面。", " 正面 ", "「正面」" and a full-width "ＰＯＳＩＴＩＶＥ！" equal to their plain label:
NFKC (full-width -> half-width), case folding, inner whitespace collapsed, wrapping quotes/brackets and trailing
punctuation removed, then optional aliases ({"积极": "正面", "positive": "正面"}). A prediction outside the label
set is counted in the confusion matrix's "other / 其他" column and is wrong; a failed prediction (None) is left
out and counted.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

OTHER = "other / 其他"
TRAILING = ".。!?,;:、…~～·"          # after NFKC: ！？，；： are already their ASCII forms
WRAPPERS = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』", "《": "》", "【": "】", "(": ")",
            "[": "]", "<": ">", "*": "*", "`": "`"}
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class LabelScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int        # references with this label


@dataclass(frozen=True)
class ClassificationReport:
    labels: list[str]               # the label set, in a stable order (given, else sorted)
    accuracy: float | None          # exact-match rate over the scored rows; None when none was scored
    macro_f1: float | None          # unweighted mean of the labels' F1 (labels with no reference included)
    per_label: list[LabelScore]
    confusion: list[list[int]]      # rows: reference label (in `labels` order); columns: `columns`
    columns: list[str]              # `labels` + [OTHER]
    matches: list[bool | None] = field(repr=False)  # per row: exact match, None when left out
    n: int = 0                      # rows scored
    excluded: int = 0               # failed predictions or blank references
    other: int = 0                  # predictions outside the label set


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _strip_label(text: str) -> str:
    previous = None
    while text != previous:  # "「正面。」" needs both rules, in either order
        previous = text
        text = text.rstrip(TRAILING).strip()
        if len(text) >= 2 and WRAPPERS.get(text[0]) == text[-1]:
            text = text[1:-1].strip()
    return text


def normalize_label(text, aliases: Mapping[str, str] | None = None) -> str | None:
    """The comparable form of a label or prediction; None for a missing one (None, NaN)."""
    if _missing(text):
        return None
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    text = _strip_label(_SPACES.sub(" ", text).strip())
    if aliases:
        text = _normalized_aliases(aliases).get(text, text)
    return text


def _normalized_aliases(aliases: Mapping[str, str]) -> dict[str, str]:
    return {normalize_label(alias): normalize_label(label) for alias, label in aliases.items()}


def exact_match(prediction, reference, aliases: Mapping[str, str] | None = None) -> bool | None:
    """Whether the normalized texts are equal; None when either is missing or the reference is blank."""
    prediction, reference = normalize_label(prediction, aliases), normalize_label(reference, aliases)
    if prediction is None or not reference:
        return None
    return prediction == reference


def label_order(references: Sequence, labels: Sequence[str] | None = None,
                aliases: Mapping[str, str] | None = None) -> list[str]:
    """The label set: the given labels (normalized, in their order) then any other reference label, sorted."""
    given = [normalize_label(label, aliases) for label in labels or []]
    given = list(dict.fromkeys(label for label in given if label))
    seen = {normalize_label(reference, aliases) for reference in references}
    return given + sorted(label for label in seen if label and label not in given)


def classification_report(predictions: Sequence, references: Sequence, labels: Sequence[str] | None = None,
                          aliases: Mapping[str, str] | None = None) -> ClassificationReport:
    """Accuracy, macro-F1, per-label scores and the confusion matrix of predictions against reference labels."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references / 预测与参考数量不一致")
    order = label_order(references, labels, aliases)
    pairs = [(normalize_label(p, aliases), normalize_label(r, aliases)) for p, r in zip(predictions, references)]
    matches = [None if p is None or not r else p == r for p, r in pairs]
    kept = [(p if p in order else OTHER, r) for (p, r), m in zip(pairs, matches) if m is not None]
    columns = order + [OTHER]
    if not kept:
        return ClassificationReport(order, None, None, [], [[0] * len(columns) for _ in order], columns, matches,
                                    0, len(pairs), 0)
    y_pred, y_true = [p for p, _ in kept], [r for _, r in kept]
    matrix = confusion_matrix(y_true, y_pred, labels=columns)[:len(order)]  # no reference is ever OTHER
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=order,
                                                                     zero_division=0)
    per_label = [LabelScore(label, float(p), float(r), float(f), int(s))
                 for label, p, r, f, s in zip(order, precision, recall, f1, support)]
    accuracy = sum(p == r for p, r in kept) / len(kept)
    return ClassificationReport(order, accuracy, float(f1.mean()), per_label, matrix.tolist(), columns, matches,
                                len(kept), len(pairs) - len(kept), sum(p == OTHER for p, _ in kept))


def looks_like_labels(references: Sequence, max_labels: int = 20, max_chars: int = 20) -> bool:
    """True when the references read like class labels: few distinct short values, each seen at least twice."""
    return not_labels_reason(references, max_labels, max_chars) is None


def not_labels_reason(references: Sequence, max_labels: int = 20, max_chars: int = 20) -> str | None:
    """Why auto mode leaves classification off for these references (one bilingual line); None when they read
    like labels. Said out loud so that a small test split is not mistaken for a model that got nothing right."""
    values = [normalize_label(r) for r in references]
    values = [v for v in values if v]
    distinct = set(values)
    if len(values) < 4:
        return (f"classification: off (auto needs at least 4 rows with a reference label, found {len(values)}; "
                f"set classification: on to force it) / 分类指标：关（自动判断至少需要 4 行带参考标签的数据，"
                f"实际 {len(values)} 行；可设为“开”强制计算）")
    if not 2 <= len(distinct) <= max_labels:
        return (f"classification: off (auto needs 2 to {max_labels} distinct reference labels, found "
                f"{len(distinct)}) / 分类指标：关（自动判断需要 2 到 {max_labels} 种不同的参考标签，实际 {len(distinct)} 种）")
    longest = max(len(v) for v in distinct)
    if longest > max_chars:
        return (f"classification: off (references up to {longest} characters read as free text, labels are at most "
                f"{max_chars}) / 分类指标：关（参考答案最长 {longest} 个字符，像自由文本；标签不超过 {max_chars} 个字符）")
    if len(values) < 2 * len(distinct):
        return (f"classification: off (auto needs each label about twice: {len(values)} rows for {len(distinct)} "
                f"distinct references) / 分类指标：关（自动判断要求每个标签平均至少出现 2 次：{len(values)} 行对应 "
                f"{len(distinct)} 种参考答案）")
    return None
