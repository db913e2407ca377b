"""UI strings of the Evaluate page (merged into workbench.i18n.STRINGS).

Knob help texts reuse EvalConfig's field descriptions as the English side (the YAML, the CLI and the page say
the same thing); only the Chinese side is written here.
"""
from .config import EvalConfig

HELP_ZH = {
    "similarity": "每个回答与参考答案的向量相似度，并列出随机基线（同一批回答与打乱后的参考答案的相似度）",
    "embedder": "计算相似度的向量模型：内置模型 id，或本地 sentence-transformers 文件夹",
    "lexical": "与参考答案比较的 ROUGE-1/2/L 和 BLEU-4（中文用 jieba 分词），×100",
    "classification": "精确匹配准确率、宏平均 F1 和混淆矩阵；auto = 参考答案像标签（取值少且短）时开启",
    "judge": "大模型评审逐条打分（先写理由，再给分数）；留空 = 不使用评审",
    "pairwise": "大模型评审把每个模型与基准模型做 A/B 比较（交换顺序各评一次）；留空 = 不比较",
    "baseline_arm": "其他模型与之比较的基准模型（两两比较和胜率）；留空 = 第一个模型",
}


def _help(field: str) -> tuple[str, str]:
    return EvalConfig.model_fields[field].description or "", HELP_ZH[field]


STRINGS: dict[str, tuple[str, str]] = {
    **{f"eval.help.{field}": _help(field) for field in HELP_ZH},
    "eval.nav": ("Evaluate", "评估"),
    "eval.title": ("Evaluate and compare", "评估与对比"),
    "eval.caption": ("Score an inference's answers (similarity with a chance baseline, ROUGE/BLEU, classification, "
                     "an LLM judge), then read the report side by side, review the judge, export it, compare it.",
                     "为一次推理的回答打分（相似度及随机基线、ROUGE/BLEU、分类指标、大模型评审），然后逐条对比阅读报告、"
                     "人工复核评审结果、导出并与其他报告比较。"),
    "eval.new_title": ("New evaluation", "新建评估"),
    "eval.inference": ("Inference to score", "要评估的推理"),
    "eval.no_inference": ("No finished inference yet: run one on the Inference page.",
                          "还没有已完成的推理：请先在“批量推理”页运行。"),
    "eval.similarity": ("Similarity", "相似度"), "eval.embedder": ("Embedding model", "向量模型"),
    "eval.lexical": ("ROUGE / BLEU", "ROUGE / BLEU"), "eval.classification": ("Classification", "分类指标"),
    "eval.classification.auto": ("auto", "自动"), "eval.classification.on": ("on", "开"),
    "eval.classification.off": ("off", "关"),
    "eval.baseline_arm": ("Baseline model", "基准模型"),
    "eval.use_judge": ("LLM judge: score each answer", "大模型评审：逐条打分"),
    "eval.use_pairwise": ("LLM judge: A/B against the baseline", "大模型评审：与基准模型 A/B 比较"),
    "eval.scale_from_rubric": ("as the rubric says", "按评分模板"),
    "eval.start": ("Start evaluation (background job)", "开始评估（后台任务）"),
    "eval.started": ("Started report {id} (job {job}).", "已开始生成报告 {id}（任务 {job}）。"),
    "eval.cannot_start": ("The evaluation cannot start:", "无法开始评估："),
    "eval.before_after_title": ("Before / after: base vs tuned", "训练前后对比：基础模型 vs 微调模型"),
    "eval.before_after_caption": ("One click: the run's base model and the tuned run answer the run's own dataset "
                                  "split, then both are scored in the same job.",
                                  "一键完成：训练所用的基础模型和微调后的模型回答该训练数据集的同一划分，并在同一任务中评分。"),
    "eval.no_runs": ("No finished training run yet.", "还没有成功完成的训练。"),
    "eval.run": ("Training run", "训练运行"),
    "eval.before_after_start": ("Answer and score (background job)", "生成回答并评分（后台任务）"),
    "eval.reports": ("Reports", "评估报告"), "eval.report": ("Report", "报告"),
    "eval.no_reports": ("No report yet: start an evaluation above.", "还没有报告：请在上方开始一次评估。"),
    "eval.not_finished": ("This report was not finished ({state}): {message}", "该报告未完成（{state}）：{message}"),
    "eval.no_metrics": ("No score was computed for this report.", "该报告没有计算任何分数。"),
    "eval.lineage": ("Dataset {dataset} · split {split} · {rows} rows · inference {inference}",
                     "数据集 {dataset} · 划分 {split} · {rows} 行 · 推理 {inference}"),
    "eval.summary": ("Summary: mean [95% bootstrap interval] per model", "汇总：各模型均值 [95% bootstrap 置信区间]"),
    "eval.baseline_why": ("Why a chance baseline: embedding similarities ({model}) bunch together (unrelated pairs "
                          "score about 0.7), so judge a model by its lift over the same answers against shuffled "
                          "references, not by the raw number.",
                          "为什么要看随机基线：向量相似度（{model}）普遍偏高（无关的两句话也约为 0.7），因此应看相对"
                          "于“同一批回答对打乱的参考答案”的提升值，而不是原始分数。"),
    "eval.metric": ("Metric", "指标"),
    "eval.win_rates": ("Win rate against the baseline · {metric}", "相对基准模型的胜率 · {metric}"),
    "eval.distribution": ("Score distribution · {metric}", "分数分布 · {metric}"),
    "eval.one_arm": ("Win rates need at least two models.", "胜率至少需要两个模型。"),
    "eval.outcome.wins": ("wins", "胜"), "eval.outcome.ties": ("ties", "平"), "eval.outcome.losses": ("losses", "负"),
    "eval.outcome.failed": ("failed", "失败"), "eval.outcome.win_rate": ("win rate", "胜率"),
    "eval.column.arm": ("arm", "对比项"), "eval.column.model": ("model", "模型"), "eval.column.ok": ("answered", "已回答"),
    "eval.column.failed": ("failed", "失败"), "eval.column.chance baseline": ("chance baseline", "随机基线"),
    "eval.column.lift": ("lift", "提升"),
    "eval.part.answer": ("answer", "回答"), "eval.part.human": ("human", "人工"),
    "eval.side.row_id": ("row", "行"), "eval.side.prompt": ("prompt", "提示"), "eval.side.reference": ("reference", "参考答案"),
    "eval.side.difference": ("difference", "差值"),
    "eval.share": ("share of rows", "行占比"), "eval.score": ("score", "分数"), "eval.rows": ("rows", "行数"),
    "eval.classification_of": ("**Classification · {arm}**", "**分类指标 · {arm}**"),
    "eval.accuracy": ("Accuracy", "准确率"), "eval.macro_f1": ("Macro-F1", "宏平均 F1"),
    "eval.pairwise_title": ("**Pairwise judge** ({judge}) against **{baseline}**",
                            "**两两比较**（评审 {judge}），基准为 **{baseline}**"),
    "eval.rows_title": ("Side by side", "逐条对比"),
    "eval.filter_text": ("Contains text", "包含文字"), "eval.filter_column": ("Score column", "分数列"),
    "eval.filter_low": ("Score ≥", "分数 ≥"), "eval.filter_high": ("Score ≤", "分数 ≤"),
    "eval.filter_length": ("Prompt ≤ chars", "提示词 ≤ 字符数"),
    "eval.rows_shown": ("{shown} of {total} rows, largest difference on {metric} first",
                        "显示 {shown} / {total} 行，按 {metric} 差异从大到小排序"),
    "eval.review_title": ("Human review", "人工复核"),
    "eval.overrides": ("Human scores", "人工评分数"),
    "eval.no_overrides": ("No human score yet: set one below; it is kept across re-runs.",
                          "还没有人工评分：在下方设置，重新评估时会保留。"),
    "eval.review_row": ("Row", "行"), "eval.review_arm": ("Model", "模型"),
    "eval.human_score": ("Your score ({scale})", "你的评分（{scale}）"),
    "eval.review_now": ("Judge: {judge} · human: {human}", "评审：{judge} · 人工：{human}"),
    "eval.review_save": ("Save my score", "保存我的评分"), "eval.review_clear": ("Clear my score", "清除我的评分"),
    "eval.pair_review_title": ("Human review of the A/B verdicts", "人工复核 A/B 对比结论"),
    "eval.pair_overrides": ("Human picks", "人工选择数"),
    "eval.no_pair_overrides": ("No human pick yet: choose the better answer below; it is kept across re-runs.",
                               "还没有人工选择：在下方选出更好的回答，重新评估时会保留。"),
    "eval.pair_challenger": ("Compared with {baseline}", "与 {baseline} 比较"),
    "eval.pair_winner": ("The better answer", "更好的回答"), "eval.tie": ("tie", "平局"),
    "eval.pair_now": ("Judge: {judge} · human: {human}", "评审：{judge} · 人工：{human}"),
    "eval.pair_save": ("Save my pick", "保存我的选择"), "eval.pair_clear": ("Clear my pick", "清除我的选择"),
    "eval.judge_variable": ("Rubric value: {name}", "评分标准变量：{name}"),
    "eval.judge_variable_help": ("The same for every row of this evaluation (e.g. the persona's description); "
                                 "empty = the rubric's default. {description}",
                                 "本次评估的每一行都相同（如角色设定）；留空则使用评分标准的默认值。{description}"),
    "eval.export_title": ("Export", "导出"),
    "eval.download_csv": ("Download CSV", "下载 CSV"), "eval.download_html": ("Download HTML report", "下载 HTML 报告"),
    "eval.compare_title": ("Compare with another report", "与其他报告比较"),
    "eval.compare_none": ("No other finished report to compare with.", "没有其他已完成的报告可供比较。"),
    "eval.compare_with": ("Earlier report (A)", "较早的报告（A）"),
    "eval.compare_caption": ("What changed from {a} (A) to {b} (B): metric means, B − A",
                             "从 {a}（A）到 {b}（B）的变化：各指标均值，B − A"),
    "eval.data_diff": ("Data diff between the dataset versions {a} → {b}:", "数据集版本 {a} → {b} 的数据差异："),
    "eval.data_other": ("A and B scored different datasets ({a}, {b}): no data diff.",
                        "A 和 B 评估的是不同的数据集（{a}、{b}），没有数据差异。"),
}
