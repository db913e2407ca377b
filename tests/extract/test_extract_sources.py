"""Reading documents: every supported kind from real bytes, and a located bilingual problem for each bad input."""
import io
import zipfile

import pytest

from tests.extract.conftest import FAQ_HTML
from tests.extract.documents import docx_bytes, scanned_pdf, text_pdf
from workbench.extract import STRICT, FetchPolicy, Pasted, read_path, read_sources, read_upload, sources_key
from workbench.problems import ReadError

ZH = "问：如何重置密码？\n答：打开设置页面，点击“忘记密码”。\n"


def problem_of(name, data, **kwargs):
    with pytest.raises(ReadError) as caught:
        read_upload(name, data, **kwargs)
    (problem,) = caught.value.problems
    assert problem.file == name and problem.message_en and problem.message_zh
    assert "{" not in problem.message_en + problem.message_zh
    return problem


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_text_in_each_encoding_is_decoded(encoding):
    text = ZH + "英文 mixed text, 㐀 rare.\n" if encoding in ("utf-8", "utf-8-sig", "gb18030", "utf-16") else ZH
    document = read_upload("faq.txt", text.encode(encoding))
    assert document.text == text and document.kind == "txt"
    assert document.meta["encoding"] in (encoding, "gb18030", "utf-16", "utf-8-sig")


def test_gbk_file_on_disk_and_crlf_line_ends(tmp_path):
    path = tmp_path / "常见问题.txt"
    path.write_bytes(ZH.replace("\n", "\r\n").encode("gbk"))
    document = read_path(path)
    assert document.text == ZH and document.source == "常见问题.txt" and document.meta["encoding"] == "gb18030"


def test_a_wrong_encoding_is_located():
    problem = problem_of("faq.txt", ("第一行\n" + ZH).encode("gbk"), encoding="utf-8")
    assert problem.code == "encoding_error" and problem.line == 1 and problem.column == 1
    assert "UTF-8".lower() in problem.message_en.lower() and "GB18030" in problem.message_en


def test_binary_data_is_not_text():
    assert problem_of("notes.txt", bytes(range(256)) * 40).code == "extract_binary"


def test_empty_and_blank_files():
    assert problem_of("empty.txt", b"").code == "file_empty"
    assert problem_of("empty.pdf", b"").code == "file_empty"
    problem = problem_of("blank.md", b"  \n\n \t\n")
    assert problem.code == "extract_no_text" and "文件" in problem.message_zh


@pytest.mark.parametrize("name, hint", [("table.xlsx", "Import"), ("old.doc", ".docx"), ("photo.jpg", ""),
                                        ("noextension", "")])
def test_unknown_types_are_refused_with_advice(name, hint):
    problem = problem_of(name, b"data")
    assert problem.code == "extract_unsupported" and hint in problem.message_en


def test_markdown_title_and_text():
    document = read_upload("guide.md", "# 用户指南\n\n## 账户\n\n内容。\n".encode())
    assert document.kind == "md" and document.title == "用户指南" and document.text.startswith("# 用户指南")


def test_pdf_text_layer_in_chinese_and_english_with_pages():
    data = text_pdf(["问：能开发票吗？\n答：可以，在订单页申请。", "Q: Is there a free trial?\nA: Yes, 14 days."])
    document = read_upload("faq.pdf", data)
    assert document.kind == "pdf" and document.meta["pages"] == 2
    assert "问：能开发票吗？\n答：可以，在订单页申请。" in document.text and "A: Yes, 14 days." in document.text
    assert document.page_at(document.text.index("能开发票")) == 1
    assert document.page_at(document.text.index("free trial")) == 2


def test_scanned_pdf_says_so():
    problem = problem_of("scan.pdf", scanned_pdf(3))
    assert problem.code == "extract_pdf_no_text" and problem.params["pages"] == 3
    assert "OCR" in problem.message_en and "扫描" in problem.message_zh


def test_pdf_with_some_scanned_pages_is_read_with_a_warning():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in (text_pdf(["第一页的文字。"]), scanned_pdf(1)):
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    result = read_sources([("mixed.pdf", buffer.getvalue())])
    assert result.ok and result.documents[0].text == "第一页的文字。"
    (warning,) = result.problems
    assert warning.severity == "warning" and warning.params["pages"] == "2"


def test_password_protected_pdf_is_refused_but_an_owner_only_password_is_not():
    assert problem_of("locked.pdf", text_pdf(["机密"], password="secret")).code == "extract_pdf_encrypted"
    assert read_upload("owner.pdf", text_pdf(["公开内容"], owner_password="owner")).text == "公开内容"


@pytest.mark.parametrize("data", [b"%PDF-1.7\n garbage that is not a pdf", b"hello, not a pdf at all"])
def test_corrupt_pdf(data):
    assert problem_of("broken.pdf", data).code == "extract_pdf_corrupt"


def test_truncated_pdf_is_corrupt_or_says_there_is_no_text():
    data = text_pdf(["内容"])
    assert problem_of("cut.pdf", data[: len(data) // 3]).code in ("extract_pdf_corrupt", "extract_pdf_no_text")


def test_docx_headings_numbered_lists_and_tables():
    data = docx_bytes([("Title", "帮助中心"), ("Heading 2", "如何退款？"), ("Normal", "七天内可退。"),
                       ("List Number", "能开发票吗？"), ("List Number", "多久发货？"), ("table", "型号|价格;A1|99")],
                      title="FAQ")
    document = read_upload("help.docx", data)
    assert document.kind == "docx" and document.title == "FAQ"
    assert document.text == ("# 帮助中心\n\n## 如何退款？\n\n七天内可退。\n\n1. 能开发票吗？\n\n2. 多久发货？\n\n"
                             "型号 | 价格\nA1 | 99")


def test_corrupt_docx():
    assert problem_of("broken.docx", b"PK\x03\x04 not really a zip").code == "extract_docx_corrupt"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "a zip, but not a Word document")
    problem = problem_of("other.docx", buffer.getvalue())
    assert problem.code == "extract_docx_corrupt" and ".doc" in problem.message_en


def test_docx_without_text():
    assert problem_of("empty.docx", docx_bytes([("Normal", "  ")])).code == "extract_no_text"


def test_html_file_in_gbk():
    page = FAQ_HTML.replace('charset="utf-8"', 'charset="gbk"').replace(" © ", " ").replace(" · ", " ")
    document = read_upload("faq.html", page.encode("gbk"))
    assert document.kind == "html" and "## 退款多久到账？" in document.text


def test_html_without_any_text():
    assert problem_of("blank.html", b"<html><body><script>var a=1;</script></body></html>").code == "extract_no_text"


def test_many_sources_at_once_keep_going_past_bad_ones(tmp_path):
    good = tmp_path / "good.md"
    good.write_text("# FAQ\n\nQ: Why?\nA: Because.\n", encoding="utf-8")
    result = read_sources([good, str(tmp_path / "missing.txt"), ("scan.pdf", scanned_pdf(1)),
                           ("a.txt", ZH.encode("gbk")),
                           Pasted("问：今天几号？\n答：三号。"), Pasted("   "), "ftp://example.com/faq.txt",
                           ("a.txt", ZH.encode("gbk"))])
    assert [d.source for d in result.documents] == ["good.md", "a.txt", "pasted text", "a.txt"]
    assert len({d.id for d in result.documents}) == 4  # the repeated upload still gets its own id
    assert [p.code for p in result.problems] == ["file_not_found", "extract_pdf_no_text", "extract_no_text",
                                                 "extract_url_scheme"]
    assert [p.file for p in result.problems] == ["missing.txt", "scan.pdf", "pasted text", "ftp://example.com/faq.txt"]
    assert not result.ok


def test_document_ids_are_stable_and_depend_on_source_and_text():
    first, again = read_upload("a.txt", ZH.encode()), read_upload("a.txt", ZH.encode())
    assert first.id == again.id and first.id.startswith("doc-")
    assert read_upload("b.txt", ZH.encode()).id != first.id
    assert read_upload("a.txt", (ZH + "更多").encode()).id != first.id


def test_the_key_a_read_is_cached_under_holds_the_fetch_policy_and_the_contents():
    """Same sources under another policy, or an upload with the same name and size but other bytes: another key."""
    items = ["http://127.0.0.1:8640/?x=1", ("a.txt", b"abc"), Pasted("问：一\n答：二")]
    key = sources_key(items, STRICT)
    assert sources_key(list(items), FetchPolicy()) == key
    assert sources_key(items, FetchPolicy(allow_private=True)) != key
    assert sources_key(items, FetchPolicy(allowed_addresses=("127.0.0.1:8640",))) != key
    assert sources_key([items[0], ("a.txt", b"abd"), items[2]], STRICT) != key
    assert sources_key([items[0], items[1], Pasted("问：一\n答：三")], STRICT) != key
