"""The 发文机关标志 (GB/T 9704 7.2.4) compressed horizontally to fit the 版心: the layout's
geometry, PDF ``Tz`` and the OFD ``CTM`` put the same glyphs at the same places."""

import io
import zipfile

import pytest
from lxml import etree
from pypdf import PdfReader
from pypdf.generic import ContentStream

from gongwen.documents.gbt9704 import Issuer, layout_document, render_ofd, render_pdf
from gongwen.documents.gbt9704 import layout as L
from gongwen.documents.gbt9704.layout import mark_geometry
from gongwen.documents.gbt9704.ofd import OFD_NS
from gongwen.documents.gbt9704.ofd_reader import OFDReader

from .seed_notice import seed_notice

MID = (L.TEXT_LEFT + L.TEXT_RIGHT) / 2


def test_geometry_short_long_and_very_long_names():
    assert mark_geometry(4) == (L.MARK_MAX_SIZE, 1.0)  # short: full size, natural width
    size, scale = mark_geometry(9)  # 150/9 = 16.7 mm fits without compression
    assert scale == 1.0 and size == pytest.approx(150 / 9)
    size, scale = mark_geometry(13)  # the seed: kept 15 mm high, compressed
    assert size == L.MARK_MIN_SIZE and scale == pytest.approx(150 / (13 * 15))
    size, scale = mark_geometry(30)  # beyond 60 %: smaller as well
    assert scale == L.MARK_MIN_HSCALE and size * scale * 30 == pytest.approx(150)
    size, scale = mark_geometry(13, 20.0)  # a caller's size is kept, the width fitted
    assert size == 20.0 and scale * 13 * 20 == pytest.approx(150)
    assert mark_geometry(4, 20.0) == (20.0, 1.0)


def _mark(lay):
    return [r for r in lay.pages[0].runs if r.kind == "mark"]


def test_long_mark_is_compressed_inside_the_text_width(seed_layout):
    (run,) = _mark(seed_layout)
    assert run.size == L.MARK_MIN_SIZE and run.hscale < 1
    assert run.end - run.xs[0] == pytest.approx(L.MARK_MAX_WIDTH, abs=0.01)
    assert (run.xs[0] + run.end) / 2 == pytest.approx(MID, abs=0.01)
    assert run.baseline - L.ASCENT * run.size == pytest.approx(L.TEXT_TOP + 35, abs=0.01)


def test_short_mark_is_not_compressed(fonts):
    doc = seed_notice(issuers=(Issuer("连云港市人民政府", mark="连云港市人民政府"),))
    (run,) = _mark(layout_document(doc, fonts))
    assert run.hscale == 1.0 and run.size == pytest.approx(150 / 10)


def test_joint_mark_is_compressed_as_one_block(fonts):
    doc = seed_notice(
        issuers=(
            Issuer("连云港市人民政府办公室"),
            Issuer("中共连云港市委员会办公室"),
            Issuer("连云港市财政局"),
        )
    )
    runs = _mark(layout_document(doc, fonts))
    assert {r.hscale for r in runs} == {runs[0].hscale} and runs[0].hscale < 1
    left = min(r.xs[0] for r in runs)
    right = max(r.end for r in runs)
    assert right - left <= L.MARK_MAX_WIDTH + 0.01
    assert (left + right) / 2 == pytest.approx(MID, abs=0.01)


def test_pdf_sets_horizontal_scaling_and_lands_on_the_layout(seed_layout, seed_pdf):
    (run,) = _mark(seed_layout)
    reader = PdfReader(io.BytesIO(seed_pdf))
    page = reader.pages[0]
    ops = ContentStream(page.get_contents(), reader).operations
    tz = [float(o[0]) for o, op in ops if op == b"Tz"]
    assert tz and tz[0] == pytest.approx(run.hscale * 100, abs=0.01)
    # pypdf's text visitor applies Tz: the glyph origins it reports follow the layout.
    xs = []

    def visit(text, cm, tm, font, size):
        if text.strip() and "连" in text:
            xs.append(tm[4] * 25.4 / 72)

    page.extract_text(visitor_text=visit)
    assert xs and xs[0] == pytest.approx(run.xs[0], abs=0.05)
    assert "连云港市人民政府办公室文件" in page.extract_text()


def test_pdf_glyph_advances_follow_the_layout(seed_layout, seed_pdf):
    """Decode the mark's TJ: natural width × size × Tz minus the adjustments must give the
    layout's x positions (±0.01 mm)."""
    from gongwen.documents.gbt9704.pdf import _rl_font

    (run,) = _mark(seed_layout)
    font = _rl_font(seed_layout.fonts[run.face])
    reader = PdfReader(io.BytesIO(seed_pdf))
    ops = ContentStream(reader.pages[0].get_contents(), reader).operations
    th = x = size = None
    for operands, op in ops:
        if op == b"Tz":
            th = float(operands[0]) / 100
        elif op == b"Tm" and th is not None and x is None:
            x = float(operands[4])
        elif op == b"Tf" and th is not None:
            size = float(operands[1])
        elif op == b"TJ" and th is not None:
            items = operands[0]
            break
    pts = [x]
    i = 0
    for item in items:
        if isinstance(item, (int, float)) or hasattr(item, "as_numeric"):
            pts[-1] -= float(item) / 1000 * size * th
        else:
            w = font.face.charWidths.get(ord(run.text[i]), font.face.defaultWidth)
            pts.append(pts[-1] + w / 1000 * size * th)
            i += 1
    got = [p * 25.4 / 72 for p in pts[: len(run.xs)]]
    assert got == pytest.approx(list(run.xs), abs=0.01)


def test_ofd_writes_a_ctm_and_the_reader_applies_it(seed_layout, seed_ofd):
    (run,) = _mark(seed_layout)
    zf = zipfile.ZipFile(io.BytesIO(seed_ofd))
    page = etree.fromstring(zf.read("Doc_0/Pages/Page_0/Content.xml"))
    objs = [o for o in page.iter(f"{{{OFD_NS}}}TextObject") if o.get("CTM")]
    assert len(objs) == 1
    a, b, c, d, e, f = (float(v) for v in objs[0].get("CTM").split())
    assert (b, c, d, e, f) == (0, 0, 1, 0, 0) and a == pytest.approx(run.hscale, abs=1e-4)
    glyphs = [g for g in OFDReader(seed_ofd).glyphs(0) if g.font == objs[0].get("Font")]
    mark = [g for g in glyphs if abs(g.y - run.baseline) < 0.01]
    assert "".join(g.char for g in mark) == run.text
    assert [g.x for g in mark] == pytest.approx(list(run.xs), abs=0.002)


def test_renditions_agree_for_a_very_long_mark(fonts, tmp_path):
    name = "中华人民共和国国家发展和改革委员会办公厅"
    doc = seed_notice(issuers=(Issuer(name),), attachments=())
    lay = layout_document(doc, fonts)
    (run,) = _mark(lay)
    assert run.hscale == pytest.approx(L.MARK_MIN_HSCALE)
    assert run.end - run.xs[0] == pytest.approx(L.MARK_MAX_WIDTH, abs=0.01)
    assert name + "文件" in PdfReader(io.BytesIO(render_pdf(lay))).pages[0].extract_text()
    assert OFDReader(render_ofd(lay)).page_text(0).splitlines()[0] == name + "文件"
