"""The mark of a printed copy (gongwen.printmark), read back by poppler and zbar."""

from __future__ import annotations

import io
import subprocess

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen import canvas

from gongwen.printmark import MarkError, mark_copy

URL = "https://gw.example.gov.cn/v/ABCDEFGHJKLMNPQR/"


def two_pages() -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawString(100, 700, "page one")
    c.showPage()
    c.setPageSize(landscape(A4))
    c.drawString(100, 400, "page two")
    c.showPage()
    c.save()
    return buf.getvalue()


def test_every_page_is_marked_and_keeps_its_size(tmp_path):
    original = two_pages()
    marked = mark_copy(original, lines=["第 2 份　核验码 ABCD-EFGH-JKLM-NPQR", "东海县人民政府 打印"],
                       qr_text=URL)
    before, after = PdfReader(io.BytesIO(original)), PdfReader(io.BytesIO(marked))
    assert [p.mediabox for p in after.pages] == [p.mediabox for p in before.pages]
    path = tmp_path / "marked.pdf"
    path.write_bytes(marked)
    for n, own_text in ((1, "page one"), (2, "page two")):
        text = subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(path), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert own_text in text and "核验码 ABCD-EFGH-JKLM-NPQR" in " ".join(text.split())
        subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", str(n), "-l", str(n), str(path),
                        str(tmp_path / f"p{n}")], check=True)
        png = next(tmp_path.glob(f"p{n}*.png"))
        decoded = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True,
                                 text=True).stdout.strip()
        assert decoded == URL


def test_what_is_not_a_readable_pdf_is_refused_in_chinese():
    with pytest.raises(MarkError) as exc:
        mark_copy(b"%PDF-1.7 broken", lines=["x"], qr_text=URL)
    assert exc.value.message_zh == "文件不是可读的 PDF，无法打印"
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(two_pages())))
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(MarkError, match="encrypted"):
        mark_copy(buf.getvalue(), lines=["x"], qr_text=URL)
