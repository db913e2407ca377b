"""Names and one-line explanations of the evaluation metrics, as the report shows them (merged into
workbench.i18n.STRINGS). Keys: `metric.<name>` and `metric.<name>.help`, where <name> is the metric as stored in
scores.parquet ("rouge-1", "similarity", "exact", ...) or a summary figure ("baseline", "lift", "kappa", ...).
`column_name` is the one naming of metrics and summary columns for the report, its exports and the compare table.
"""


def column_name(column: str, lang: str | None) -> str:
    """A summary column or metric in `lang` ("arm" -> "对比项", "rouge-1" -> "ROUGE-1"); None: "English / 中文";
    a name without a string (a metric we do not know) stays as stored."""
    from ..i18n import STRINGS, t  # i18n loads this module's STRINGS while it starts: import it at call time

    for key in (f"eval.column.{column}", f"metric.{column}"):
        if key in STRINGS:
            return t(key, lang) if lang else f"{t(key, 'en')} / {t(key, 'zh')}"
    return column

NAMES = {
    "rouge-1": ("ROUGE-1", "ROUGE-1"),
    "rouge-2": ("ROUGE-2", "ROUGE-2"),
    "rouge-l": ("ROUGE-L", "ROUGE-L"),
    "bleu-4": ("BLEU-4", "BLEU-4"),
    "similarity": ("Similarity", "语义相似度"),
    "judge": ("Judge score", "评审得分"),
    "baseline": ("Chance baseline", "随机基线"),
    "lift": ("Lift over chance", "高于随机基线"),
    "exact": ("Exact match", "完全匹配"),
    "accuracy": ("Accuracy", "准确率"),
    "macro_f1": ("Macro-F1", "宏平均 F1"),
    "confusion": ("Confusion matrix", "混淆矩阵"),
    "other": ("other", "其他"),
    "win_rate": ("Win rate", "胜率"),
    "tie_rate": ("Ties", "平局率"),
    "kappa": ("Cohen's κ", "Cohen's κ 一致性"),
    "ci95": ("95% CI", "95% 置信区间"),
    "n": ("Rows scored", "计分行数"),
    "excluded": ("Left out", "未计入"),
    "judge_human": ("Judge score with human overrides", "评审得分（含人工修正）"),
}

HELP = {
    "rouge-1": ("Share of words (jieba-segmented) the answer has in common with the reference, as F1 ×100.",
                "回答与参考答案（jieba 分词后）共有词语的比例，F1 ×100。"),
    "rouge-2": ("Like ROUGE-1 for pairs of consecutive words: rewards the same phrasing, not just the same words.",
                "与 ROUGE-1 相同，但按相邻两个词计算：奖励相同的措辞，而不只是相同的词。"),
    "rouge-l": ("Longest run of words shared in the same order (not necessarily adjacent), as F1 ×100.",
                "按相同顺序出现（不必相邻）的最长公共词序列，F1 ×100。"),
    "bleu-4": ("Character n-gram precision (1 to 4) with a brevity penalty and NIST smoothing, ×100, "
               "as LLaMA-Factory reports it. Short answers score low even when right.",
               "字符级 1–4 元组精确率，含长度惩罚与 NIST 平滑，×100，与 LLaMA-Factory 的算法一致。很短的回答即使正确得分也偏低。"),
    "similarity": ("Cosine similarity of the answer's and the reference's embeddings ({model}). Such scores bunch "
                   "together, so read it next to the chance baseline.",
                   "回答与参考答案向量（{model}）的余弦相似度。此类分数普遍偏高，请与随机基线对照阅读。"),
    "judge": ("The judge model's score on the rubric's scale, written after its reason; a judge call that failed "
              "is left out, never counted as 0.",
              "评审模型按评分模板给出的分数（先写理由再打分）；评审失败的调用不计入，也不会按 0 分计算。"),
    "baseline": ("The same answers scored against the other rows' references (the average over every shuffle): "
                 "what an answer to a different question would get.",
                 "同一批回答与其他行参考答案的相似度（对所有打乱方式取平均）：即答非所问时的得分。"),
    "lift": ("Similarity minus the chance baseline: how much closer the answers are to their own references "
             "than to unrelated ones. 0 = no better than chance.",
             "相似度减去随机基线：回答与自身参考答案比与无关答案更接近的程度。0 = 与随机无异。"),
    "exact": ("1 when the answer equals the reference label after normalization (spaces, full-width forms, case, "
              "quotes, trailing punctuation), else 0.",
              "规范化（空格、全角、大小写、引号、末尾标点）后回答与参考标签相同记 1，否则记 0。"),
    "accuracy": ("Share of answers that exactly match their label.", "与标签完全匹配的回答所占比例。"),
    "macro_f1": ("F1 of each label, averaged with equal weight: a rare label counts as much as a common one.",
                 "每个标签的 F1 的等权平均：少见标签与常见标签同等重要。"),
    "confusion": ("Rows: the reference label; columns: what the model answered. Answers outside the label set are "
                  "counted under “other”.", "行：参考标签；列：模型的回答。不在标签集内的回答计入“其他”。"),
    "win_rate": ("Share of rows where this model scored higher than the baseline model; ties are counted apart.",
                 "该模型得分高于基准模型的行所占比例；平局单独统计。"),
    "tie_rate": ("Share of rows where both models scored the same.", "两个模型得分相同的行所占比例。"),
    "kappa": ("Agreement between the human reviewer and the judge beyond chance: 1 = always agree, 0 = no better "
              "than chance.", "人工复核与模型评审之间超出偶然的一致程度：1 = 完全一致，0 = 与偶然无异。"),
    "ci95": ("95% bootstrap confidence interval of the mean (rows resampled with replacement, seeded). Two models "
             "whose intervals do not overlap differ beyond row-to-row noise.",
             "均值的 95% bootstrap 置信区间（有放回重抽样，固定随机种子）。两个模型的区间不重叠，说明差异超出了逐行波动。"),
    "n": ("Rows that had a score.", "有分数的行数。"),
    "excluded": ("Rows without a score: the generation or the judge call failed, or there is no reference. They "
                 "are left out of averages, never counted as 0.",
                 "没有分数的行：生成或评审调用失败，或没有参考答案。它们不计入平均值，也不会按 0 分计算。"),
    "judge_human": ("The judge's scores with each human score in place of the judge's (a human score also fills a "
                    "failed judge call); how many rows a human scored is counted beside n.",
                    "用人工评分替换对应的评审得分（人工评分也可补上评审失败的行）；括号中注明人工评分的条数。"),
}

STRINGS: dict[str, tuple[str, str]] = {
    **{f"metric.{name}": pair for name, pair in NAMES.items()},
    **{f"metric.{name}.help": pair for name, pair in HELP.items()},
}
