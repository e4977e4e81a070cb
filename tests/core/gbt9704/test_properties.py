"""Property checks: whatever the text, the layout stays on the GB/T 9704 grid."""

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongwen.documents.gbt9704 import (
    Attachment,
    DocType,
    FormatVariant,
    Issuer,
    Paragraph,
    layout_document,
)
from gongwen.documents.gbt9704 import layout as L
from gongwen.documents.gbt9704.linebreak import CLOSING, OPENING

from .seed_notice import seed_notice

ALPHABET = "公文无纸化传输工作的通知电子印章，。、；：“”（）《》〔〕—…0123456789ABCxyz "
text = st.text(alphabet=ALPHABET, min_size=1, max_size=160).filter(lambda s: s.strip())
EPS = 0.01


def _check(lay):
    for page in lay.pages:
        lines: dict[float, list] = {}
        for r in page.runs:
            if r.kind == "page_number":
                assert r.baseline > L.TEXT_BOTTOM
                continue
            if r.kind in ("mark",):
                continue
            assert r.xs[0] >= L.TEXT_LEFT - EPS, r
            assert r.end <= L.TEXT_RIGHT + EPS, r
            assert r.baseline + (1 - L.ASCENT) * r.size <= L.TEXT_BOTTOM + EPS, r
            assert list(r.xs) == sorted(r.xs)
            lines.setdefault(round(r.baseline, 3), []).append(r)
        for runs in lines.values():
            runs.sort(key=lambda r: r.xs[0])
            chars = "".join(r.text for r in runs)
            body = all(r.kind in ("body", "heading1", "heading2", "attachment_body") for r in runs)
            continuation = abs(runs[0].xs[0] - L.TEXT_LEFT) < EPS  # not a first line
            if body and continuation:
                assert chars[0] not in CLOSING or len(chars) == 1
            if body:
                assert chars[-1] not in OPENING or len(chars) == 1
            for a, b in itertools.pairwise(runs):
                assert a.end <= b.xs[0] + EPS  # runs on a line never overlap
    for s in lay.seals:
        assert s.x >= L.TEXT_LEFT - EPS and s.x + s.w <= L.TEXT_RIGHT + EPS


@settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(pars=st.lists(text, min_size=1, max_size=12), title=text)
def test_random_bodies_stay_in_the_text_area(fonts, pars, title):
    pars = [p + "。" for p in pars]  # a paragraph may not end on an opening mark
    doc = seed_notice(body=tuple(Paragraph(p) for p in pars), title=title, attachments=())
    lay = layout_document(doc, fonts)
    _check(lay)
    out = "".join("".join(r.text for r in p.runs if r.kind == "body") for p in lay.pages)
    assert out == "".join(c for p in pars for c in p if not c.isspace())


@settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    pars=st.lists(text, min_size=1, max_size=8),
    variant=st.sampled_from([FormatVariant.LETTER, FormatVariant.MINUTES]),
    sealed=st.booleans(),
)
def test_random_bodies_in_the_letter_and_minutes_formats(fonts, pars, variant, sealed):
    doc = seed_notice(
        body=tuple(Paragraph(p + "。") for p in pars),
        variant=variant,
        issuers=(Issuer("连云港市人民政府办公室", sealed=sealed),),
        attachments=(),
        note="此件公开发布",
    )
    lay = layout_document(doc, fonts)
    _check(lay)
    if variant is FormatVariant.LETTER:
        assert not [r for r in lay.pages[0].runs if r.kind == "page_number"]


@pytest.mark.parametrize("n_issuers", [1, 2, 3, 4, 5])
def test_joint_documents_of_any_size(fonts, n_issuers):
    names = [
        "连云港市人民政府办公室",
        "中共连云港市委办公室",
        "连云港市财政局",
        "连云港市公安局",
        "连云港市国家保密局",
    ][:n_issuers]
    doc = seed_notice(issuers=tuple(Issuer(n) for n in names), attachments=())
    lay = layout_document(doc, fonts)
    _check(lay)
    assert [s.issuer for s in lay.seals] == names
    assert len({s.page for s in lay.seals}) == 1


def test_several_attachments_are_numbered_and_aligned(fonts):
    atts = (
        Attachment(
            "连云港市政府机关电子印章管理暂行办法（试行）及其配套的申请表格和审批流程说明",
            (Paragraph("内容。"),),
        ),
        Attachment("电子印章申请表", (Paragraph("内容。"),)),
    )
    lay = layout_document(seed_notice(attachments=atts), fonts)
    _check(lay)
    notes = [r for _, r in lay.runs("attachment_note")]
    assert notes[0].text.startswith("附件：1.")
    name_x = notes[0].xs[3]  # first glyph after 附件：
    assert notes[1].xs[0] == pytest.approx(
        name_x + L.CHAR_PITCH, abs=EPS
    )  # wrapped: under the name
    second = next(r for r in notes if r.text.startswith("2."))
    assert second.xs[0] == pytest.approx(name_x, abs=EPS)  # 2. under 1.
    labels = [r.text for _, r in lay.runs("attachment_label")]
    assert labels == ["附件1", "附件2"]


def test_announcement_without_number_or_recipients(fonts):
    doc = seed_notice(
        doc_type=DocType.ANNOUNCEMENT,
        doc_number=None,
        main_recipients="",
        attachments=(),
        date=dt.date(2025, 3, 1),
    )
    lay = layout_document(doc, fonts)
    _check(lay)
    assert not lay.runs("doc_number") and not lay.runs("recipients")
    assert lay.pages[0].rules  # the red separator is still there
