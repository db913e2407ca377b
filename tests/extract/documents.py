"""Small real documents built in the tests: PDFs with a Chinese/English text layer, scanned-like and
password-protected PDFs, DOCX files with headings and tables."""
from __future__ import annotations

import io

CMAP_HEAD = (b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
             b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
             b"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
             b"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
CMAP_TAIL = b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"


def _to_unicode_cmap() -> bytes:
    """Glyph code == Unicode code point (2 bytes): what pypdf reads the text back through."""
    ranges = b"".join(b"<%02X00> <%02XFF> <%02X00>\n" % (high, high, high) for high in range(256))
    return CMAP_HEAD + b"256 beginbfrange\n" + ranges + b"endbfrange\n" + CMAP_TAIL


def text_pdf(pages: list[str], password: str | None = None, owner_password: str | None = None) -> bytes:
    """A PDF whose pages carry `pages` as a real text layer (any BMP text, Chinese included)."""
    from pypdf import PdfWriter
    from pypdf.generic import (ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject,
                               TextStringObject)

    writer = PdfWriter()
    cmap = DecodedStreamObject()
    cmap.set_data(_to_unicode_cmap())
    descendant = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/CIDFontType2"),
        NameObject("/BaseFont"): NameObject("/STSong-Light"), NameObject("/DW"): NumberObject(1000),
        NameObject("/CIDSystemInfo"): DictionaryObject({
            NameObject("/Registry"): TextStringObject("Adobe"), NameObject("/Ordering"): TextStringObject("Identity"),
            NameObject("/Supplement"): NumberObject(0)}),
    })
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type0"),
        NameObject("/BaseFont"): NameObject("/STSong-Light"), NameObject("/Encoding"): NameObject("/Identity-H"),
        NameObject("/DescendantFonts"): ArrayObject([writer._add_object(descendant)]),
        NameObject("/ToUnicode"): writer._add_object(cmap),
    })
    font_ref = writer._add_object(font)
    for text in pages:
        page = writer.add_blank_page(595, 842)
        lines = [b"BT /F1 10 Tf 40 800 Td 12 TL"]
        for line in text.split("\n"):
            hex_text = "".join(f"{ord(ch):04X}" for ch in line if ord(ch) <= 0xFFFF)
            lines.append(f"<{hex_text}> Tj T*".encode("ascii"))
        lines.append(b"ET")
        content = DecodedStreamObject()
        content.set_data(b"\n".join(lines))
        page[NameObject("/Contents")] = writer._add_object(content)
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})})
    if password is not None or owner_password is not None:
        writer.encrypt(user_password=password or "", owner_password=owner_password or password,
                       algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def scanned_pdf(pages: int = 2) -> bytes:
    """Pages that are only images (what a scanner makes): no text layer at all."""
    from PIL import Image, ImageDraw

    images = []
    for number in range(pages):
        image = Image.new("RGB", (400, 560), "white")
        ImageDraw.Draw(image).rectangle((40, 40 + number * 10, 360, 120), outline="black", width=3)
        images.append(image)
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


def docx_bytes(blocks: list[tuple[str, str]], title: str = "") -> bytes:
    """A .docx from (style, text) blocks: "Title", "Heading 1".."Heading 3", "List Number", "Normal" or
    ("table", "a|b;c|d")."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for style, text in blocks:
        if style == "table":
            rows = [row.split("|") for row in text.split(";")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(text, style=style)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
