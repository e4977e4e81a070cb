"""The mark of a printed copy (R-FLOW-6, attachment art. 2): every page of the sealed PDF
gets, in the bottom margin, a QR code of the public verification address and a few lines
(份号, 核验码, who printed it and when).

GB/T 9704 leaves 35 mm below the text block and puts the page number ~7 mm under it, so the
mark lives in the lowest 25 mm of the page: nothing of the document is covered.

The copy is for paper: the pages are written anew (pypdf), so the file's electronic
signature is not carried over; the printed page shows the seal picture, and the code leads
to the platform's record of the sealed original. The text uses the PDF standard CJK font
STSong-Light (no font file to embed; every viewer and printer driver substitutes a Song
face). Pure: no Django.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from pypdf import PdfReader, PdfWriter
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

__all__ = ["MarkError", "mark_copy"]

FONT = "STSong-Light"
QR_SIZE = 18 * mm
MARGIN_X = 14 * mm
MARGIN_Y = 5 * mm


class MarkError(ValueError):
    """The file cannot be marked (not a PDF, encrypted, damaged)."""

    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _overlay(sizes: Sequence[tuple[float, float]], lines: Sequence[str], qr_text: str) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pageCompression=1)
    font = _font()
    qr = QrCodeWidget(qr_text, barLevel="M")
    x0, y0, x1, y1 = qr.getBounds()
    drawing = Drawing(QR_SIZE, QR_SIZE,
                      transform=[QR_SIZE / (x1 - x0), 0, 0, QR_SIZE / (y1 - y0), 0, 0])
    drawing.add(qr)
    for width, height in sizes:
        c.setPageSize((width, height))
        renderPDF.draw(drawing, c, MARGIN_X, MARGIN_Y)
        c.setFont(font, 8)
        y = MARGIN_Y + QR_SIZE - 8
        for line in lines:
            c.drawString(MARGIN_X + QR_SIZE + 3 * mm, y, line)
            y -= 11
        c.showPage()
    c.save()
    return buf.getvalue()


def mark_copy(pdf: bytes, *, lines: Sequence[str], qr_text: str) -> bytes:
    """``pdf`` with ``lines`` and a QR code of ``qr_text`` in the bottom margin of every
    page. Raises :class:`MarkError` for a file that is not a readable PDF."""
    try:
        reader = PdfReader(io.BytesIO(pdf))
        if reader.is_encrypted:
            raise MarkError("encrypted PDF", "文件已加密，无法打印")
        pages = list(reader.pages)
        sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in pages]
    except MarkError:
        raise
    except Exception as exc:  # pypdf raises many kinds for a damaged file
        raise MarkError(f"unreadable PDF: {exc}", "文件不是可读的 PDF，无法打印") from exc
    if not pages:
        raise MarkError("PDF without pages", "文件没有页面，无法打印")
    marks = PdfReader(io.BytesIO(_overlay(sizes, lines, qr_text))).pages
    writer = PdfWriter()
    for page, mark in zip(pages, marks, strict=True):
        added = writer.add_page(page)
        added.merge_page(mark)
        added.compress_content_streams()  # the merge leaves the page's stream uncompressed
    writer.add_metadata({"/Producer": "gongwen", "/Subject": lines[0] if lines else ""})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
