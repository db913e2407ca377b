"""UI strings of the Quality page (merged into `workbench.i18n.STRINGS`)."""

STRINGS: dict[str, tuple[str, str]] = {
    "quality.nav": ("Quality", "数据质量"),
    "quality.title": ("Quality and duplicates", "数据质量与去重"),
    "quality.caption": (
        "Exact and near-duplicate rows, leakage between train and validation/test, empty and too-long rows, "
        "label balance and language mix. Each fix saves a new version; the old one stays.",
        "检查完全重复与近似重复、训练集与验证/测试集之间的泄漏、空行与超长行、标签分布和语言构成。"
        "每次修复都会保存为新版本，旧版本保留不变。"),
    "quality.fields": ("Fields to compare and measure", "参与比较和计长的字段"),
    "quality.label": ("Label column (balance)", "标签列（分布）"),
    "quality.max_tokens": ("Max length", "最大长度"),
    "quality.zero_off": ("0 = no length check; the fields are summed", "0 = 不检查长度；按所选字段之和计算"),
    "quality.tokenizer": ("Count with", "计数方式"),
    "quality.chars": ("characters", "字符"),
    "quality.tokens": ("tokens", "token"),
    "quality.threshold": ("Near-duplicate similarity (Jaccard)", "近似重复相似度（Jaccard）"),
    "quality.run": ("Run the check", "开始检查"),
    "quality.running": ("Checking {rows} rows…", "正在检查 {rows} 行……"),
    "quality.job_started": ("{rows} rows: the check runs in the background (job {id}).",
                            "共 {rows} 行：检查在后台运行（任务 {id}）。"),
    "quality.job_failed": ("The check did not finish: {message}", "检查未完成：{message}"),
    "quality.not_run": ("Choose the options and run the check.", "请选择选项并开始检查。"),
    "quality.result": ("Report of {ref}: {rows} rows, {seconds} s", "{ref} 的检查结果：{rows} 行，用时 {seconds} 秒"),
    "quality.exact": ("Exact duplicates", "完全重复"),
    "quality.near": ("Near duplicates", "近似重复"),
    "quality.leakage": ("Leakage", "数据泄漏"),
    "quality.empty": ("Empty rows", "空行"),
    "quality.too_long": ("Too long", "超长"),
    "quality.rows_to_drop": ("rows to drop", "行待删除"),
    "quality.fix.exact": ("Drop exact duplicates", "删除完全重复"),
    "quality.fix.near": ("Drop near duplicates", "删除近似重复"),
    "quality.fix.leakage": ("Drop leaked val/test rows", "删除泄漏的验证/测试行"),
    "quality.fix.empty": ("Drop empty rows", "删除空行"),
    "quality.fix.too_long": ("Drop too-long rows", "删除超长行"),
    "quality.fixed": ("{fix}: dropped {count} rows → {ref}.", "{fix}：已删除 {count} 行 → {ref}。"),
    "quality.tab.duplicates": ("Duplicates", "重复"),
    "quality.tab.leakage": ("Leakage", "泄漏"),
    "quality.tab.lengths": ("Empty and long", "空行与超长"),
    "quality.tab.labels": ("Labels", "标签"),
    "quality.tab.languages": ("Languages", "语言"),
    "quality.exact_help": (
        "Same text after normalizing (NFKC, spaces collapsed, lower case). The first row of each group is kept "
        "(a train row when the group spans splits).",
        "规范化（NFKC、合并空白、转小写）后文本相同。每组保留第一行（若跨越多个划分，保留训练集中的行）。"),
    "quality.near_help": (
        "Groups of rows whose character 3-gram sets overlap at least {threshold} (MinHash estimate); similarity "
        "is to the kept row. Dropping near duplicates also drops exact ones.",
        "字符 3-gram 集合相似度不低于 {threshold} 的行组（MinHash 估计）；相似度为与保留行相比。"
        "删除近似重复时也会删除完全重复。"),
    "quality.shown_groups": ("{shown} of {total} groups shown.", "显示 {shown} / {total} 组。"),
    "quality.no_split": ("This version has no train/validation/test split yet; split it to check leakage.",
                         "该版本尚未划分训练/验证/测试集；划分后才能检查泄漏。"),
    "quality.leakage_help": ("Validation/test rows that equal or nearly equal a train row; the fix drops them "
                             "(the train side stays).",
                             "与训练集某行相同或近似的验证/测试行；修复会删除这些行（保留训练集一侧）。"),
    "quality.blank_cells": ("Blank cells per field (a blank {fields} makes an empty row)",
                            "各字段空白单元格数（{fields} 为空即为空行）"),
    "quality.length_off": ("Set a max length to find too-long rows.", "设置最大长度后可查找超长行。"),
    "quality.too_long_help": ("{count} rows longer than {max} {unit} (longest {longest}).",
                              "{count} 行超过 {max} {unit}（最长 {longest}）。"),
    "quality.no_label": ("Pick a label column to see its balance.", "选择标签列以查看其分布。"),
    "quality.label_help": ("{distinct} distinct labels; largest/smallest = {imbalance}.",
                           "共 {distinct} 种标签；最多/最少 = {imbalance}。"),
    "quality.language_help": (
        "Per row, from letters only: zh when Han characters are ≥ 80% of the units (Han characters, Latin words, "
        "other-script letters), en when Latin words are, mixed when both together are; other otherwise.",
        "按行统计字母（不计数字、标点、表情）：汉字占单位数（汉字、拉丁单词、其他文字字母）≥ 80% 为 zh，"
        "拉丁单词 ≥ 80% 为 en，两者合计 ≥ 80% 为 mixed，其余为 other。"),
    "quality.language": ("Language", "语言"),
    "quality.count": ("Rows", "行数"),
    "quality.split": ("Split", "划分"),
}
