"""The Django model mapped to the GB/T 9704 core and rendered to PDF, OFD and SVG pages."""

from __future__ import annotations

import io

import pytest

from gongwen.documents import rendering, services
from gongwen.documents.gbt9704.ofd_reader import OFDReader
from gongwen.documents.models import Rendition

pytestmark = pytest.mark.django_db


def test_to_core_carries_every_element(clerk_a, head_a, submitted, unit_a, unit_b, make_unit):
    co = make_unit("连云港市财政局")
    doc = services.approve(actor=head_a, doc_id=submitted(
        urgency="特急", copy_number="000007", co_issuers=[co.pk], note="联系人：张丽",
        copy_to_text="市委办公室", printer="连云港市人民政府办公室").pk)
    core = rendering.to_core(doc)
    assert core.doc_type.value == "通知"
    assert [i.name for i in core.issuers] == [unit_a.name, co.name] and core.joint
    assert str(core.doc_number) == doc.doc_number
    assert core.urgency.value == "特急" and core.copy_number == "000007"
    assert core.main_recipients == f"{unit_b.name}，市各直属单位"
    assert core.copy_to == ("市委办公室",)
    assert core.body[1].heading == "一、目标任务" and core.body[1].level == 1
    assert core.date == doc.date and core.note == "联系人：张丽"


def test_pdf_and_ofd_carry_title_number_and_body(clerk_a, head_a, submitted):
    from pypdf import PdfReader

    doc = services.approve(actor=head_a, doc_id=submitted().pk)
    pdf, rend = rendering.rendition(doc, "pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    flat = text.replace("\n", "").replace(" ", "")
    assert doc.doc_number in flat and "关于推行公文无纸化传输工作的通知" in flat
    ofd, _ = rendering.rendition(doc, "ofd")
    ofd_text = OFDReader(ofd).text().replace("\n", "")
    assert doc.doc_number in ofd_text and "公文无纸化传输工作分为两个实施阶段" in ofd_text
    # Rendered once per content: the second call reuses the stored blob.
    again, rend2 = rendering.rendition(doc, "pdf")
    assert again == pdf and rend2.pk == rend.pk
    assert Rendition.objects.count() == 2


def test_incomplete_draft_gives_a_chinese_render_error(make_draft):
    doc = make_draft(body_text="")
    with pytest.raises(rendering.RenderError) as exc:
        rendering.to_core(doc)
    assert "正文不能为空" in exc.value.message_zh


def test_svg_preview_places_glyphs_in_mm(make_draft):
    doc = make_draft()
    pages = rendering.preview_pages(rendering.layout(doc))
    assert pages and pages[0].number == 1
    title = next(t for t in pages[0].texts if "无纸化" in t.text)
    assert len(title.x.split()) == len(title.text)
    assert any(color == "rgb(255,0,0)" for *_, color in pages[0].rules)  # the red line


def test_file_attachment_is_listed_in_the_attachment_note(clerk_a, make_draft):
    from .conftest import make_pdf

    doc = make_draft()
    services.add_attachment(actor=clerk_a, doc_id=doc.pk, file=make_pdf(), filename="预案.pdf")
    core = rendering.to_core(doc)
    assert [a.title for a in core.attachments] == ["预案"]
    assert "预案.pdf" in core.attachments[0].body[0].text


def test_svg_preview_squeezes_a_compressed_mark_like_the_pdf(make_draft):
    """A long 发文机关标志 is compressed horizontally in PDF/OFD; the preview must draw it
    squeezed too, with each glyph origin back at the layout's position once scaled."""
    doc = make_draft()
    lay = rendering.layout(doc)
    runs = [run for page in lay.pages for run in page.runs if run.hscale != 1.0]
    if not runs:
        pytest.skip("this draft's 标志 fits without compression")
    pages = rendering.preview_pages(lay)
    squeezed = [t for t in pages[0].texts if t.hscale != 1.0]
    assert squeezed
    text = squeezed[0]
    xs = [float(x) * text.hscale for x in text.x.split()]
    assert xs == pytest.approx(list(runs[0].xs), abs=0.01)
