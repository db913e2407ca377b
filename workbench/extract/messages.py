"""Problem messages of the extract feature, registered into `workbench.problems.MESSAGES` on import.

They live beside the feature (like its UI strings) so its engineers do not edit the shared file;
`setdefault` keeps this harmless if they are moved into problems.py later.
"""
from __future__ import annotations

from ..problems import MESSAGES

EXTRACT_MESSAGES: dict[str, tuple[str, str]] = {
    "extract_expected_column": (
        "The labelled sample has no {what} column; name one of: {choices} (columns found: {columns}).",
        "标注样本缺少{what_zh}列；请使用以下列名之一：{choices}（现有列：{columns}）。",
    ),
    "extract_expected_empty": ("The labelled sample holds no question.", "标注样本中没有问题。"),
    "extract_unsupported": (
        "Unsupported document type '{suffix}'. Use .txt, .md, .pdf, .docx, .html, pasted text or a URL.{hint}",
        "不支持的文档类型“{suffix}”。请使用 .txt、.md、.pdf、.docx、.html、粘贴的文本或网址。{hint_zh}",
    ),
    "extract_no_text": ("No text found in this {kind}.", "在该{kind_zh}中没有找到文字。"),
    "extract_binary": (
        "The file does not look like text (it holds binary data); upload a .txt/.md file or pick another type.",
        "该文件看起来不是文本（含二进制数据）；请上传 .txt/.md 文件或选择其他类型。",
    ),
    "extract_pdf_no_text": (
        "The PDF has {pages} page(s) but no text layer; it is probably scanned images. Run OCR on it first "
        "(e.g. ocrmypdf) or paste the text.",
        "该 PDF 有 {pages} 页，但没有文字层，可能是扫描图片。请先做 OCR 识别（例如 ocrmypdf）或直接粘贴文字。",
    ),
    "extract_pdf_pages_without_text": (
        "Pages {pages} of the PDF have no text layer (scanned?) and were skipped.",
        "PDF 的第 {pages} 页没有文字层（扫描件？），已跳过。",
    ),
    "extract_pdf_encrypted": (
        "The PDF is password-protected{detail}. Remove the password (print to PDF, or qpdf --decrypt) and try again.",
        "该 PDF 受密码保护{detail_zh}。请先去除密码（另存/打印为 PDF，或 qpdf --decrypt）后再试。",
    ),
    "extract_pdf_corrupt": ("The file is not a readable PDF: {detail}", "该文件不是可读取的 PDF：{detail}"),
    "extract_docx_corrupt": (
        "The file is not a readable Word document (.docx): {detail}. Old .doc files must be saved as .docx first.",
        "该文件不是可读取的 Word 文档（.docx）：{detail}。旧版 .doc 文件请先另存为 .docx。",
    ),
    "extract_url_invalid": ("'{url}' is not a valid web address: {detail}", "“{url}”不是有效的网址：{detail}"),
    "extract_url_scheme": (
        "Only http:// and https:// addresses can be fetched, not '{scheme}://'.",
        "只能抓取 http:// 和 https:// 网址，不支持“{scheme}://”。",
    ),
    "extract_url_blocked": (
        "Refused to fetch {host}: it is (or resolves to) {address}, a {kind} address. Internal addresses are not "
        "fetched unless 'Allow private network URLs' is on in the settings (cloud metadata addresses never are).",
        "已拒绝抓取 {host}：它是（或解析为）{address}，属于{kind_zh}地址。除非在设置中开启“允许内网网址”，"
        "否则不会抓取内网地址（云元数据地址始终禁止）。",
    ),
    # The same refusals on the command line, where a flag (not the page's switch) widens the policy.
    "extract_url_blocked_cli": (
        "Refused to fetch {host}: it is (or resolves to) {address}, a {kind} address. Internal addresses are not "
        "fetched unless you add --allow-private-urls to the command (it applies to that command only; cloud "
        "metadata addresses are never fetched).",
        "已拒绝抓取 {host}：它是（或解析为）{address}，属于{kind_zh}地址。除非在命令中加上 --allow-private-urls"
        "（只对该条命令有效），否则不会抓取内网地址（云元数据地址始终禁止）。",
    ),
    "extract_url_blocked_metadata": (
        "Refused to fetch {host}: it is (or resolves to) {address}, a cloud metadata address. These are never "
        "fetched, not even with --allow-private-urls.",
        "已拒绝抓取 {host}：它是（或解析为）{address}，属于云元数据地址。此类地址始终禁止抓取，"
        "加上 --allow-private-urls 也不行。",
    ),
    "extract_url_dns": ("The host name {host} cannot be resolved: {detail}", "无法解析主机名 {host}：{detail}"),
    "extract_url_unreachable": ("Cannot connect to {host}: {detail}", "无法连接到 {host}：{detail}"),
    "extract_url_timeout": (
        "The download did not finish within {seconds} s.", "下载未能在 {seconds} 秒内完成。"),
    "extract_url_too_large": (
        "The download is larger than the limit of {limit} MB{detail}; it was stopped.",
        "下载内容超过 {limit} MB 的上限{detail_zh}，已停止下载。",
    ),
    "extract_url_redirects": ("More than {limit} redirects; stopped at {url}.", "重定向超过 {limit} 次；停在 {url}。"),
    "extract_url_status": (
        "The server answered HTTP {status} {reason} for {url}.", "服务器对 {url} 返回 HTTP {status} {reason}。"),
    "extract_url_content_type": (
        "Content type '{content_type}' cannot be read; only web pages (HTML), plain text, PDF and DOCX can.",
        "无法读取内容类型“{content_type}”；只支持网页（HTML）、纯文本、PDF 和 DOCX。",
    ),
    "extract_pattern_invalid": (
        "The pattern is not a valid regular expression: {detail}", "该模式不是有效的正则表达式：{detail}"),
    "extract_pattern_missing": (
        "The custom rule needs a pattern: a regular expression with (?P<question>...) and (?P<answer>...).",
        "自定义规则需要填写模式：含 (?P<question>...) 和 (?P<answer>...) 的正则表达式。",
    ),
    "extract_pattern_groups": (
        "The pattern needs the named groups (?P<question>...) and (?P<answer>...); missing: {missing}.",
        "该模式需要命名分组 (?P<question>...) 和 (?P<answer>...)；缺少：{missing}。",
    ),
    "extract_pattern_timeout": (
        "The pattern took longer than {seconds} s on this text (it backtracks too much); make it more specific.",
        "该模式在此文本上运行超过 {seconds} 秒（回溯过多）；请把模式写得更具体。",
    ),
    "extract_no_pairs": (
        "No question/answer pairs found with the rule '{rule}'.{hint}", "使用规则“{rule}”没有找到问答对。{hint_zh}"),
    "extract_answer_too_long": (
        "The pair '{question}' was dropped: its answer has {chars} characters, over the limit of {limit} "
        "(an answer that long is usually a mis-parse). Check where its answer should end.",
        "问答对“{question}”已丢弃：其答案有 {chars} 个字符，超过上限 {limit}（这么长的答案通常是解析错误）。"
        "请检查答案应在何处结束。",
    ),
}

# Chinese names for the words placed into messages (kinds of documents and of blocked addresses).
KIND_NAMES_ZH = {
    "file": "文件", "document": "文档", "web page": "网页", "PDF": "PDF", "Word document": "Word 文档",
    "text": "文本", "loopback": "本机回环", "private": "内网", "link-local": "链路本地", "multicast": "组播",
    "reserved": "保留", "unspecified": "未指定", "non-public": "非公网", "cloud metadata": "云元数据",
}

for _code, _pair in EXTRACT_MESSAGES.items():
    MESSAGES.setdefault(_code, _pair)


def zh(word: str) -> str:
    """The Chinese for a word put into a message (falls back to the word itself)."""
    return KIND_NAMES_ZH.get(word, word)
