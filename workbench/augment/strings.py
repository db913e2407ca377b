"""UI strings of the Augment page (merged into workbench.i18n.STRINGS)."""
STRINGS = {
    "augment.nav": ("Augment", "数据增强"),
    "augment.title": ("Augment a dataset with an LLM", "用大模型增强数据集"),
    "augment.caption": ("New rows are added to a new version, each marked with the row it came from. Prompts come from "
                        "the template library (Chinese or English by each row's language).",
                        "新生成的行会写入新版本，并标明来源行。提示词来自模板库（按每行语言自动选择中文或英文）。"),
    "augment.strategy": ("Strategy", "策略"),
    "augment.strategy.paraphrase_instruction": ("paraphrase the instruction", "改写指令"),
    "augment.strategy.paraphrase_output": ("paraphrase the answer", "改写回答"),
    "augment.strategy.style_transfer": ("answer in another style / persona", "风格迁移（换一种口吻回答）"),
    "augment.strategy.self_instruct": ("new instructions in the same style (self-instruct)", "仿写新指令（self-instruct）"),
    "augment.strategy.multi_turn": ("multi-turn dialogue from one turn", "单轮扩展为多轮对话"),
    "augment.multiplier": ("New rows per row (×)", "每行生成数（×）"),
    "augment.endpoint": ("LLM endpoint", "模型接口"),
    "augment.language": ("Prompt language", "提示词语言"),
    "augment.language.auto": ("each row's own language", "按每行语言自动选择"),
    "augment.style": ("Target style", "目标风格"), "augment.domain": ("Topic (optional)", "主题（可选）"),
    "augment.split": ("Only this split", "仅此划分"), "augment.max_rows": ("Only the first N rows (0 = all)", "仅前 N 行（0 = 全部）"),
    "augment.controls": ("Quality controls", "质量控制"),
    "augment.same_language": ("Drop results not in the row's language", "丢弃与原行语言不同的结果"),
    "augment.near_duplicate": ("Drop near-duplicates above this similarity (0 = off)", "丢弃相似度高于此值的近似重复（0 = 关闭）"),
    "augment.similarity": ("Keep results whose embedding similarity to the source is in this range",
                           "只保留与原文向量相似度在此区间内的结果"),
    "augment.use_similarity": ("Check similarity to the source (embeddings)", "检查与原文的相似度（向量）"),
    "augment.length": ("Length bounds (characters)", "长度范围（字符）"),
    "augment.start": ("Start augmentation (background job)", "开始增强（后台任务）"),
    "augment.sample": ("Latest results", "最新结果"),
    "augment.done": ("Saved {ref}: {added} new rows ({generated} generated; not kept: {dropped}).",
                     "已保存 {ref}：新增 {added} 行（共生成 {generated} 条；未保留：{dropped}）。"),
    "augment.stale": ("{old} is not the newest version of {dataset} ({new} is), and new rows can only be saved after "
                      "the newest. Pick {new} under Version above and start again, or first make {old} the newest "
                      "on the Versions page (Restore).",
                      "{old} 不是数据集 {dataset} 的最新版本（最新为 {new}），新增的行只能保存在最新版本之后。"
                      "请在上方“版本”中选择 {new} 后重新开始；或先在“版本历史”页把 {old} 恢复为最新版本（恢复）。"),
    "augment.stale_done": ("Nothing was saved: {new} was saved while the job ran.",
                           "没有保存任何内容：任务运行期间已保存了 {new}。"),
    "augment.none_kept": ("Nothing was kept: {dropped}.", "没有保留任何结果：{dropped}。"),
    "augment.unparsable_hint": ("The model did not answer in the JSON format the prompt asks for, which small models "
                                "often cannot do. Pick a stronger model on the LLM endpoints page, or look at the "
                                "answers in the table above and the job's log.",
                                "模型没有按提示词要求的 JSON 格式作答，小模型常常做不到。请在“模型接口”页选择更强的模型，"
                                "或查看上表中的回答和任务日志。"),
    "augment.unparsable_hint_cli": ("The model did not answer in the JSON format the prompt asks for, which small "
                                    "models often cannot do. Use a stronger endpoint (`llm list`, `llm add`), or read "
                                    "its answers in {path}.",
                                    "模型没有按提示词要求的 JSON 格式作答，小模型常常做不到。请换用更强的模型接口"
                                    "（`llm list`、`llm add`），或在 {path} 中查看它的回答。"),
    "augment.lost.failed_requests": ("{n} calls failed", "{n} 次调用失败"),
    "augment.lost.unparsable": ("{n} answers not in the asked-for JSON", "{n} 条回答不是要求的 JSON 格式"),
    "augment.lost.length": ("{n} out of the length bounds", "{n} 条超出长度范围"),
    "augment.lost.language": ("{n} in another language", "{n} 条语言与原行不同"),
    "augment.lost.near_duplicate": ("{n} near-duplicates", "{n} 条近似重复"),
    "augment.lost.similarity": ("{n} outside the similarity range", "{n} 条相似度超出范围"),
    "augment.col.row": ("Source row", "原行"),
    "augment.col.ok": ("Answered", "成功"),
    "augment.col.text": ("Answer (or error)", "回答（或错误）"),
}
