"""The lean page-text reader (``gongwen.sealing.pdftext``) gives the text pypdf's general
extractor gives on the platform's PDFs, sealed or not, and declines (``None``) whatever it
does not handle, so the caller falls back instead of reading wrong text."""

from __future__ import annotations

import io
import re
import zlib

import pytest
from pypdf import PdfReader

from gongwen.sealing import pdftext

from .conftest import notice_layout_and_pdf, seal, small_pdf_bytes


def squash(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def pypdf_text(data: bytes) -> str:
    return "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


def rendered(doc) -> bytes:
    from gongwen.documents.gbt9704 import FontSet, layout_document, render_pdf

    return render_pdf(layout_document(doc, FontSet.default()))


def documents():
    from gongwen.documents.gbt9704.bench import sample_notice
    from tests.core.gbt9704.seed_notice import seed_notice

    return {"seed notice (with attachments)": seed_notice(), "two-page notice": sample_notice()}


@pytest.mark.parametrize("name", list(documents()))
def test_our_pdfs_read_as_pypdf_reads_them(name):
    data = rendered(documents()[name])
    lean = pdftext.page_text(data)
    assert lean is not None, "our own writer's PDF must not need the fallback"
    assert squash(lean) == squash(pypdf_text(data))
    assert "连云港市人民政府办公室" in squash(lean)


def test_a_sealed_pdf_reads_as_its_pages(gm_pki):
    """The seal's incremental update adds a widget and its appearance, not page text."""
    _layout, pdf = notice_layout_and_pdf()
    sealed = seal(pdf, gm_pki.unit, gm_pki)
    assert squash(pdftext.page_text(sealed)) == squash(pypdf_text(sealed)) \
        == squash(pdftext.page_text(pdf))


def test_a_font_without_unicode_map_falls_back():
    """reportlab's standard Helvetica has no ToUnicode map: declined, not guessed."""
    assert pdftext.page_text(small_pdf_bytes()) is None


def test_a_damaged_content_stream_is_declined():
    _layout, pdf = notice_layout_and_pdf()
    start = pdf.index(b"stream\n", pdf.index(b"/FlateDecode")) + len(b"stream\n")
    broken = pdf[:start] + bytes(b ^ 0x5A for b in pdf[start:start + 40]) + pdf[start + 40:]
    assert pdftext.page_text(broken) is None
    assert pdftext.page_text(b"%PDF-1.7 not really") is None


def test_cmap_ranges_arrays_and_two_byte_codes():
    cmap = (b"begincodespacerange <0000> <FFFF> endcodespacerange\n"
            b"2 beginbfchar <0001> <516C> <0002> <6587> endbfchar\n"
            b"2 beginbfrange <0010> <0012> <0041> <0020> <0021> [<4E00> <4E8C>] endbfrange")
    got = pdftext._parse_cmap(cmap)
    assert got[b"\x00\x01"] == "公" and got[b"\x00\x02"] == "文"
    assert [got[bytes([0, c])] for c in (0x10, 0x11, 0x12)] == ["A", "B", "C"]
    assert got[b"\x00\x20"] == "一" and got[b"\x00\x21"] == "二"
    with pytest.raises(pdftext._Unsupported):
        pdftext._parse_cmap(b"begincodespacerange <00> <7F> <8140> <FEFE> endcodespacerange")


def test_a_literal_string_and_tj_operators_are_read():
    """Content other producers write: literal strings, Tj and ', through a one-byte map."""
    cmap = b"begincodespacerange <00> <FF> endcodespacerange 1 beginbfrange <41> <5A> <0041> " \
           b"endbfrange"
    content = b"BT /F1 12 Tf (AB) Tj [(C) -120 <44>] TJ (E) ' ET"
    pdf = _one_page_pdf(content, cmap)
    assert pdftext.page_text(pdf) == "ABCDE"


def _one_page_pdf(content: bytes, cmap: bytes) -> bytes:
    """A minimal PDF: one page, one font with the given ToUnicode CMap."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        _stream(content),
        b"<< /Type /Font /Subtype /TrueType /BaseFont /X /ToUnicode 6 0 R >>",
        _stream(cmap),
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def _stream(data: bytes) -> bytes:
    packed = zlib.compress(data)
    return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + \
        b"\nendstream"


def _entry_by_entry(pairs):
    return {pdftext._hex(src): pdftext._unicode(dst) for src, dst in pairs}


def test_bfchar_blocks_read_at_once_give_what_entry_by_entry_gives():
    """``_bfchars`` decodes the common shape of a bfchar block in two ``bytes.fromhex``;
    every shape, common or not, gives the entry-by-entry result (or the same refusal)."""
    import random

    rng = random.Random(9704)
    shapes = []
    for _ in range(300):
        width = rng.choice([1, 1, 2, 3])
        count = rng.randint(1, 40)
        pairs = []
        for _ in range(count):
            code = rng.randrange(256 ** width).to_bytes(width, "big").hex().encode()
            unit = rng.choice([rng.randrange(0x20, 0xD800), rng.randrange(0xE000, 0x10000)])
            text = f"{unit:04X}".encode()
            if rng.random() < 0.05:
                text = b"D840DC00"  # one character outside the BMP: a surrogate pair
            if rng.random() < 0.03:
                code = code[:2] + b" " + code[2:]  # whitespace inside the brackets
            if rng.random() < 0.03:
                code = code.lower()
            pairs.append((code, text))
        shapes.append(pairs)
    shapes += [[(b"01", b"D840"), (b"02", b"DC00")],  # a pair split across two entries
               [(b"01", b"DC00")],  # a lone surrogate
               [(b"01", b"4E00"), (b"0102", b"4E8C")],  # codes of two lengths
               [(b"1", b"4E00")]]  # an odd number of digits
    for pairs in shapes:
        try:
            expected = _entry_by_entry(pairs)
        except UnicodeDecodeError:
            with pytest.raises(UnicodeDecodeError):
                pdftext._bfchars(pairs)
            continue
        assert pdftext._bfchars(pairs) == expected, pairs


def test_numbers_are_skipped_and_a_stream_may_end_with_them():
    """Numbers are no operand of the text operators: skipped with the whitespace, also
    right before a name or a string, and at the end of the stream."""
    cmap = b"begincodespacerange <00> <FF> endcodespacerange 1 beginbfrange <41> <5A> <0041> " \
           b"endbfrange"
    content = (b"q 1 0 0 1 72.5 -.5 cm BT/F1 12 Tf 0 0 0 rg 1 0 0 1 10 20 Tm(AB)Tj "
               b"2 3 Td [(C) -120 <44>] TJ 1 2 (E) \" ET Q 0.5 1")
    assert pdftext.page_text(_one_page_pdf(content, cmap)) == "ABCDE"


def test_a_run_of_digits_before_a_stray_byte_is_declined():
    cmap = b"begincodespacerange <00> <FF> endcodespacerange 1 beginbfrange <41> <5A> <0041> " \
           b"endbfrange"
    content = b"BT /F1 12 Tf (A) Tj " + b"7" * 20000 + b"\x01 ET"
    assert pdftext.page_text(_one_page_pdf(content, cmap)) is None


def test_a_font_change_without_a_font_name_is_declined():
    """``12 Tf`` names no font: the text after it cannot be decoded with certainty."""
    cmap = b"begincodespacerange <00> <FF> endcodespacerange 1 beginbfrange <41> <5A> <0041> " \
           b"endbfrange"
    assert pdftext.page_text(_one_page_pdf(b"BT /F1 12 Tf (A) Tj 14 Tf (B) Tj ET", cmap)) is None
