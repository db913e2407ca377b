"""UI strings of the Inference page (merged into workbench.i18n.STRINGS).

Knob help texts reuse InferConfig's field descriptions as the English side (the YAML comments, the CLI and
the page say the same thing); only the Chinese side is written here.
"""
from .config import Arm, InferConfig, help_text

LABELS = {
    "name": ("Inference name (optional)", "推理名称（可选）"), "dataset": ("Dataset", "数据集"),
    "version": ("Version", "版本"), "split": ("Split", "划分"), "arms": ("Models to compare", "参与对比的模型"),
    "temperature": ("Temperature", "温度"), "top_p": ("Top-p", "Top-p"),
    "max_new_tokens": ("Max new tokens", "最大生成 token 数"), "seed": ("Seed", "随机种子"),
    "batch_size": ("Batch size (local models)", "批大小（本地模型）"),
    "concurrency": ("Requests in flight (endpoints)", "并发请求数（接口）"),
    "max_rows": ("Only the first N rows (empty = all)", "仅前 N 行（空 = 全部）"),
}
HELP_ZH = {
    "name": "在推理列表中显示的名称（默认：数据集 + 划分 + 时间）",
    "dataset": "提供提示词的数据集 id",
    "version": "数据集版本；留空 = 最新版本",
    "split": "在哪个划分上推理（默认 test）；“all”或留空 = 全部行",
    "arms": "要对比的模型；同一模型配不同系统提示词算作不同的对比项",
    "temperature": "0 = 贪心解码（可复现）；越高回答越多样",
    "top_p": "只从累计概率达到此值的最可能 token 中采样",
    "max_new_tokens": "回答的最大 token 数；更长的回答会被截断",
    "seed": "采样随机种子：种子相同，回答相同（本地模型；以及支持该参数的接口）",
    "batch_size": "本地模型：一起生成的提示词数（长度相近的放在同一批）",
    "concurrency": "接口：同时进行的请求数",
    "max_rows": "只用该划分的前 N 行（留空 = 全部），用于快速试跑",
}
ARM_LABELS = {
    "label": ("Label", "名称"), "model": ("Model or endpoint", "模型或接口"),
    "system_prompt": ("System prompt (optional)", "系统提示词（可选）"),
}
ARM_HELP_ZH = {
    "label": "此对比项在结果和报告中的名称；同一次推理内不可重复",
    "model": "模型 id（smollm2-135m-instruct、run-<id>）、本地模型文件夹，或模型接口名称（local:<id> 或已保存的接口）",
    "system_prompt": "对每一行使用的系统提示词，替换行内自带的；留空 = 保留每行自己的系统提示词",
}

STRINGS: dict[str, tuple[str, str]] = {
    **{f"infer.knob.{field}": LABELS[field] for field in InferConfig.model_fields},
    **{f"infer.help.{field}": (help_text(field), HELP_ZH[field]) for field in InferConfig.model_fields},
    **{f"infer.arm.{field}": ARM_LABELS[field] for field in Arm.model_fields},
    **{f"infer.arm_help.{field}": (Arm.model_fields[field].description, ARM_HELP_ZH[field]) for field in Arm.model_fields},
    "infer.nav": ("Inference", "批量推理"),
    "infer.title": ("Batch inference", "批量推理"),
    "infer.caption": ("Run a dataset split (test by default) through several models at once: the base model, your "
                      "training runs, API endpoints, or one model with different system prompts. Runs in the "
                      "background; cancel and resume never answer a row twice.",
                      "用多个模型同时回答一个数据集划分（默认 test）：基础模型、训练结果、API 接口，或同一模型配不同的"
                      "系统提示词。在后台运行；取消后继续不会重复回答任何一行。"),
    "infer.section.data": ("Rows", "数据"), "infer.section.arms": ("Models", "模型"),
    "infer.section.generation": ("Generation", "生成设置"),
    "infer.all_rows": ("all rows", "全部行"),
    "infer.add_arm": ("Add a model", "添加模型"), "infer.add_variant": ("Add a system-prompt variant", "添加提示词变体"),
    "infer.remove_arm": ("Remove", "移除"),
    "infer.start": ("Start inference (background job)", "开始推理（后台任务）"),
    "infer.started": ("Started inference {id} (job {job}); follow it in the sidebar.",
                      "已启动推理 {id}（任务 {job}），可在侧边栏查看进度。"),
    "infer.list": ("Inferences", "推理记录"), "infer.none": ("No inference yet.", "还没有推理记录。"),
    "infer.outputs": ("Outputs", "推理结果"), "infer.download_csv": ("Download CSV", "下载 CSV"),
    "infer.progress": ("{done} / {total} answers", "已完成 {done} / {total} 条回答"),
    "infer.summary": ("{arm}: {ok} answered, {failed} failed, {pending} pending",
                      "{arm}：已回答 {ok} 条，失败 {failed} 条，待处理 {pending} 条"),
    "infer.col.row_id": ("Row", "行"), "infer.col.arm": ("Arm", "对比项"), "infer.col.model": ("Model", "模型"),
    "infer.col.system_prompt": ("System prompt", "系统提示词"), "infer.col.prompt": ("Prompt", "提示词"),
    "infer.col.reference": ("Reference", "参考答案"), "infer.col.output": ("Output", "模型输出"),
    "infer.col.status": ("Status", "状态"), "infer.col.error": ("Error", "错误"),
    "infer.col.seconds": ("Seconds", "耗时（秒）"), "infer.col.prompt_tokens": ("Prompt tokens", "提示词 token 数"),
    "infer.col.completion_tokens": ("Answer tokens", "回答 token 数"),
    "infer.status.ok": ("answered", "已回答"), "infer.status.failed": ("failed", "失败"),
    "infer.status.pending": ("pending", "待处理"),
    "infer.engine.local": ("local transformers (length-sorted batches)", "本地 transformers（按长度分批）"),
    "infer.engine.vllm": ("vLLM on the GPU", "GPU 上的 vLLM"),
    "infer.engine.endpoint": ("OpenAI-compatible endpoint", "OpenAI 兼容接口"),
    "infer.error.no_arms": ("Add at least one model.", "请至少添加一个模型。"),
    "infer.error.duplicate_label": ("Two models have the label '{label}'; give each its own.",
                                    "有两个模型都叫“{label}”，请分别命名。"),
    "infer.error.no_rows": ("The split '{split}' of {ref} has no rows.", "{ref} 的划分“{split}”没有任何行。"),
    "infer.error.no_splits": ("{ref} has no splits: choose 'all rows' or split it first.",
                              "{ref} 没有划分：请选择“全部行”或先划分数据集。"),
    "infer.error.no_reference": ("Some rows have no reference answer: similarity and lexical scores skip them.",
                                 "部分行没有参考答案：相似度和词汇指标会跳过这些行。"),
    # the page
    "infer.no_models": ("No model is available: add one on the Models page, or an endpoint on the LLM page.",
                        "没有可用的模型：请在“模型”页添加模型，或在“大模型接口”页添加接口。"),
    "infer.pick_models": ("Pick at least one model.", "请至少选择一个模型。"),
    "infer.arm_caption": ("Each model is one column of the comparison; give it a system prompt to replace the rows' own.",
                          "每个模型是对比中的一列；填写系统提示词会替换每行自带的系统提示词。"),
    "infer.variant": ("Variant {n}", "变体 {n}"),
    "infer.variant_caption": ("The same model with another system prompt counts as a separate model in the comparison.",
                              "同一模型配另一个系统提示词，在对比中算作一个单独的模型。"),
    "infer.invalid": ("Fix these settings first:", "请先修正以下设置："),
    "infer.cannot_start": ("The inference cannot start:", "无法开始推理："),
    "infer.pick": ("Inference", "推理记录"), "infer.per_arm": ("Per model", "按模型汇总"),
    "infer.evaluate": ("Evaluate these answers", "评估这些回答"),
    "infer.evaluate_wait": ("Evaluate it when it has finished.", "完成后即可评估。"),
    "infer.list.name": ("Name", "名称"), "infer.list.state": ("State", "状态"),
    "infer.list.dataset": ("Dataset version", "数据集版本"), "infer.list.split": ("Split", "划分"),
    "infer.list.arms": ("Models", "模型数"), "infer.list.answered": ("Answered", "已回答"),
    "infer.list.failed": ("Failed", "失败"), "infer.list.rows": ("Rows", "行数"),
    "infer.sum.arm": ("Arm", "对比项"), "infer.sum.model": ("Model", "模型"), "infer.sum.ok": ("Answered", "已回答"),
    "infer.sum.failed": ("Failed", "失败"), "infer.sum.pending": ("Pending", "待处理"),
    "infer.sum.completion_tokens": ("Answer tokens", "回答 token 数"),
    "infer.sum.seconds_per_answer": ("Seconds per answer", "每条回答耗时（秒）"),
    "infer.sum.errors": ("Error kinds", "错误类型"),
    "infer.error.model_load": ("Model '{model}' could not be loaded; its rows are marked failed.",
                               "模型“{model}”无法加载，其所有行已标记为失败。"),
}
