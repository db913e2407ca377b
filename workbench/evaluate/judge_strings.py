"""Messages and knob labels of the LLM judge and human overrides (merged into workbench.i18n.STRINGS).

`both(key, **values)` gives "English / 中文" for values stored in results (a failed judgement's reason).
"""
from __future__ import annotations

# JudgeConfig's knobs: (label, help) in English and Chinese; the English help is the field's description.
LABELS = {
    "judge": ("Judge model", "评审模型"), "mode": ("Mode", "评审方式"), "rubric": ("Rubric", "评分模板"),
    "scale": ("Scale", "分制"), "variables": ("Rubric values for every row", "所有行共用的模板取值"),
    "max_retries": ("Retries per call", "每次调用的重试次数"), "max_new_tokens": ("Max answer tokens", "回答最大 token 数"),
    "max_concurrency": ("Calls in flight", "并发调用数"),
}
HELP = {
    "judge": ("The judge model: a configured endpoint's name or local:<model id>",
              "评审用的模型：已配置接口的名称，或 local:<模型 id>"),
    "mode": ("pointwise scores each answer on the rubric; pairwise picks the better of two answers (or a tie)",
             "pointwise 按评分模板给每个回答打分；pairwise 在两个回答中选出更好的一个（或平局）"),
    "rubric": ("Rubric template (id or id@N) from the template library; empty = general helpfulness (pointwise) "
               "or the A/B comparison (pairwise), in Chinese",
               "模板库中的评分模板（id 或 id@N）；留空 = 综合有用性（pointwise）或 A/B 比较（pairwise），中文"),
    "scale": ("Score range (pointwise); empty = what the rubric template states",
              "分数范围（pointwise）；留空 = 按评分模板注明的分制"),
    "variables": ("Values every row shares for the rubric's extra variables, e.g. persona (the character) or "
                  "criteria (what matters most)", "所有行共用的模板变量取值，例如 persona（角色设定）或 criteria（评判重点）"),
    "max_retries": ("Extra attempts per judge call on errors (429, 5xx, timeouts, empty answers) before the item "
                    "is recorded as failed", "评审调用出错（429、5xx、超时、空回答）时的额外重试次数，之后该条记为失败"),
    "max_new_tokens": ("Room for the judge's reason and verdict", "留给评审写理由和结论的长度"),
    "max_concurrency": ("Judge calls in flight at once; empty = the endpoint's own setting",
                        "同时进行的评审调用数；留空 = 使用接口自身的设置"),
}

STRINGS: dict[str, tuple[str, str]] = {
    **{f"judge.knob.{name}": label for name, label in LABELS.items()},
    **{f"judge.help.{name}": text for name, text in HELP.items()},
    # why a judgement failed (kept with the raw answer; failed items are left out of averages)
    "judge.error.no_score": ("The judge's answer has no score that could be read",
                             "评审的回答中没有可读取的分数"),
    "judge.error.out_of_range": ("The judge gave {score}, outside the {scale} scale",
                                 "评审给出的分数 {score} 超出了 {scale} 的范围"),
    "judge.error.scale_mismatch": ("The judge scored {score} out of {of}, not on the {scale} scale",
                                   "评审按满分 {of} 给了 {score} 分，不是 {scale} 分制"),
    "judge.error.no_verdict": ("The judge's answer names no winner (A, B or tie)",
                               "评审的回答中没有给出胜者（A、B 或平局）"),
    "judge.error.copied_format": ("The judge repeated the answer format (a range, a list of choices or a placeholder) "
                                  "instead of giving a verdict",
                                  "评审模型照抄了格式说明（分数范围、选项列表或占位文字），没有给出判断"),
    "judge.error.missing_value": ("This row has no value for '{variable}', which the rubric needs",
                                  "该行缺少评分模板需要的“{variable}”"),
    "judge.error.order": ("{order} order: {detail}", "{order} 顺序：{detail}"),
    # the evaluate job's progress while the judge runs
    "judge.progress.start_pointwise": ("pointwise judge {judge}: {todo} of {total} answers to score",
                                       "逐条评分（{judge}）：{total} 条回答中有 {todo} 条待评"),
    "judge.progress.start_pairwise": ("pairwise judge {judge}: {todo} of {total} pairs to compare, each in both orders",
                                      "两两比较（{judge}）：{total} 对中有 {todo} 对待比较，每对交换顺序各评一次"),
    # (no " / " inside a half: the UI splits "English / 中文" at the last one)
    "judge.progress.pointwise": ("pointwise judge: {done} of {total} answers scored", "逐条评分：已评 {done}/{total} 条回答"),
    "judge.progress.pairwise": ("pairwise judge: {done} of {total} pairs compared", "两两比较：已比较 {done}/{total} 对"),
    # checks before a judge job starts
    "judge.config.wrong_mode": ("Rubric '{rubric}' cannot be used for {mode} judging: its text must use {needed}",
                                "评分模板“{rubric}”不能用于 {mode} 评审：模板中必须用到 {needed}"),
    "judge.config.no_scale": ("Rubric '{rubric}' does not state its score range; choose a scale (1-5, 1-10 or 0-1)",
                              "评分模板“{rubric}”没有注明分数范围；请选择分制（1-5、1-10 或 0-1）"),
    "judge.config.missing_variable": ("Rubric '{rubric}' needs '{variable}', which neither the rows nor the judge "
                                      "settings provide", "评分模板“{rubric}”需要“{variable}”，但数据行和评审设置都没有提供"),
    # labels
    "judge.status.ok": ("scored", "已评分"), "judge.status.failed": ("failed", "失败"),
    "judge.tie": ("tie", "平局"),
    "judge.mode.pointwise": ("Score each answer", "逐条打分"),
    "judge.mode.pairwise": ("Compare two answers (A/B, judged in both orders)", "两两比较（A/B，交换顺序各评一次）"),
    "judge.purpose.helpfulness": ("General helpfulness", "综合有用性"),
    "judge.purpose.persona": ("Persona / style fidelity (role-play)", "角色 / 风格还原度（角色扮演）"),
    "judge.purpose.correctness": ("Factual correctness against the reference", "对照参考答案的事实正确性"),
    "judge.purpose.classification": ("Classification label", "分类结果"),
    "judge.consistent": ("Same verdict in both orders", "两种顺序结论一致"),
    "judge.position_bias": ("The verdict flipped with the order: counted as a tie",
                            "交换顺序后结论改变：记为平局"),
    # human overrides
    "override.need_one": ("Give either a score or a winner, not both", "请给出分数或胜者，二者选一"),
    "override.bad_score": ("Score {score} is outside the {scale} scale", "分数 {score} 超出了 {scale} 的范围"),
    "override.bad_winner": ("Winner '{winner}' is neither of {arms} nor a tie", "胜者“{winner}”既不是 {arms} 之一，也不是平局"),
    "override.bad_key": ("An override needs a dataset, a row, an arm and a metric", "人工修正需要指定数据集、行、模型和指标"),
    "override.agreement": ("Human–judge agreement: κ = {kappa} over {compared} items ({overridden} overridden)",
                           "人工与评审的一致性：κ = {kappa}，共 {compared} 条（人工修正 {overridden} 条）"),
    "override.agreement_undefined": ("Agreement needs at least two items with more than one value",
                                     "计算一致性至少需要两条数据，且取值不能全部相同"),
}


def pair(key: str, **values) -> tuple[str, str]:
    english, chinese = STRINGS[key]
    return english.format(**values), chinese.format(**values)


def both(key: str, **values) -> str:
    """The message in English and Chinese, for texts stored in results and shown in either language."""
    return " / ".join(pair(key, **values))
