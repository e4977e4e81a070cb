"""GB/T 9704-2012 geometry of the layout (clause numbers in the test names' docstrings)."""

import itertools
import math

import pytest

from gongwen.documents.gbt9704 import (
    DocType,
    FormatVariant,
    Issuer,
    LayoutOptions,
    Paragraph,
    Secrecy,
    Urgency,
    layout_document,
)
from gongwen.documents.gbt9704 import layout as L
from gongwen.documents.gbt9704.model import AttendanceLine, body_from_text

from .seed_notice import seed_notice

MM = 0.01  # tolerance
MID = (L.TEXT_LEFT + L.TEXT_RIGHT) / 2  # centre of the 版心 (106 mm: 订口 28, right 26)


def test_grid_numbers_follow_the_standard():
    """5.2: A4; 版心 156 × 225 mm at 天头 37, 订口 28; 22 lines × 28 characters of 3号."""
    assert (L.PAGE_WIDTH, L.PAGE_HEIGHT) == (210, 297)
    assert (L.TEXT_LEFT, L.TEXT_TOP, L.TEXT_WIDTH, L.TEXT_HEIGHT) == (28, 37, 156, 225)
    assert L.PAGE_WIDTH - L.TEXT_RIGHT == 26 and L.PAGE_HEIGHT - L.TEXT_BOTTOM == 35
    assert pytest.approx(225) == L.LINE_PITCH * 22
    assert pytest.approx(156) == L.CHAR_PITCH * 28
    assert pytest.approx(16 * 25.4 / 72) == L.SIZE_3
    assert pytest.approx(22 * 25.4 / 72) == L.SIZE_2


def body_runs(layout, page, kinds=("body", "heading1", "heading2", "heading3", "heading4")):
    return [r for r in layout.pages[page].runs if r.kind in kinds]


def baselines(runs):
    return sorted({round(r.baseline, 3) for r in runs})


def test_a_full_page_has_22_lines_on_the_grid(seed_layout):
    runs = body_runs(seed_layout, 1)
    bl = baselines(runs)
    assert len(bl) == 22
    first = L.TEXT_TOP + (L.LINE_PITCH - L.SIZE_3) / 2 + L.ASCENT * L.SIZE_3
    assert bl[0] == pytest.approx(first, abs=MM)
    for a, b in itertools.pairwise(bl):
        assert b - a == pytest.approx(L.LINE_PITCH, abs=MM)
    assert bl[-1] + (1 - L.ASCENT) * L.SIZE_3 < L.TEXT_BOTTOM


def test_a_full_line_has_28_characters_filling_the_text_width(seed_layout):
    full = 0
    for line in seed_layout.pages[1].text().splitlines():
        if len(line) == 28 and all("\u4e00" <= c <= "\u9fff" or c in "，。、；：“”" for c in line):
            full += 1
    assert full >= 5
    runs = [r for r in body_runs(seed_layout, 1) if len(r.text) == 28]
    r = runs[0]
    assert r.xs[0] == pytest.approx(L.TEXT_LEFT, abs=MM)
    assert r.xs[-1] + L.CHAR_PITCH == pytest.approx(L.TEXT_RIGHT, abs=MM)
    for a, b in itertools.pairwise(r.xs):
        assert b - a == pytest.approx(L.CHAR_PITCH, abs=MM)


def test_paragraphs_are_indented_two_characters(seed_layout):
    starts = [r for r in seed_layout.pages[0].runs if r.kind == "body"]
    assert starts[0].text.startswith("为加快")
    assert starts[0].xs[0] == pytest.approx(L.TEXT_LEFT + 2 * L.CHAR_PITCH, abs=MM)


def test_heading_fonts_by_level(seed_layout, fonts):
    """7.3.3: 一、 黑体, （一） 楷体, 1. 仿宋."""
    from gongwen.documents.gbt9704.fonts import FontRole

    face = {r.text: r.face for _, r in seed_layout.runs()}
    assert face["一、目标任务"] == fonts.role(FontRole.HEITI).face.key
    h2 = next(r for _, r in seed_layout.runs("heading2") if r.text.startswith("（一）"))
    assert h2.face == fonts.role(FontRole.KAITI).face.key


def test_red_mark_35mm_below_the_text_top(seed_layout):
    """7.2.4: 发文机关标志 centred, red, top edge 35 mm below the 版心 top."""
    mark = [r for r in seed_layout.pages[0].runs if r.kind == "mark"]
    assert mark[0].text == "连云港市人民政府办公室文件"
    r = mark[0]
    assert r.color == (255, 0, 0)
    assert r.baseline - L.ASCENT * r.size == pytest.approx(L.TEXT_TOP + 35, abs=MM)
    assert (r.xs[0] + r.end) / 2 == pytest.approx(MID, abs=MM)
    assert r.end - r.xs[0] <= 156


def test_doc_number_red_rule_and_title(seed_layout):
    """7.2.4-7.3.1: 发文字号 centred two lines under the mark; red rule 4 mm under it, as
    wide as the 版心; title 2号 two lines below, centred."""
    p = seed_layout.pages[0]
    num = next(r for r in p.runs if r.kind == "doc_number")
    assert num.text == "连政办发〔2006〕107号"
    assert (num.xs[0] + num.end) / 2 == pytest.approx(MID, abs=MM)
    mark = next(r for r in p.runs if r.kind == "mark")
    assert num.baseline - mark.baseline > 2 * L.LINE_PITCH
    rule = next(x for x in p.rules if x.kind == "separator")
    assert rule.color == (255, 0, 0)
    assert (rule.x1, rule.x2) == (L.TEXT_LEFT, L.TEXT_RIGHT)
    assert rule.y1 - (num.baseline + (1 - L.ASCENT) * num.size) == pytest.approx(4, abs=MM)
    titles = [r for r in p.runs if r.kind == "title"]
    assert [t.text for t in titles] == ["市政府办公室关于推行", "公文无纸化传输工作的通知"]
    assert all(t.size == pytest.approx(L.SIZE_2) for t in titles)
    assert titles[0].baseline - rule.y1 > 1.5 * L.LINE_PITCH
    rec = next(r for r in p.runs if r.kind == "recipients")
    assert rec.xs[0] == pytest.approx(L.TEXT_LEFT, abs=MM) and rec.text.endswith("：")
    title_box = titles[-1].baseline - (L.LINE_PITCH - L.SIZE_2) / 2 - L.ASCENT * L.SIZE_2
    rec_box = rec.baseline - (L.LINE_PITCH - L.SIZE_3) / 2 - L.ASCENT * L.SIZE_3
    assert rec_box - title_box == pytest.approx(2 * L.LINE_PITCH, abs=MM)  # 标题下空一行


def test_first_page_shows_body_text(seed_layout):
    assert body_runs(seed_layout, 0)


def test_seal_box_is_centred_over_signature_and_date(seed_layout):
    """7.3.5.1: date right-indented 4 characters; 署名 centred on the date; seal centred
    on both, pressing on them (they sit below its centre); top within one line of the body."""
    (seal,) = seed_layout.seals
    page = seed_layout.pages[seal.page]
    date = next(r for r in page.runs if r.kind == "date")
    sig = next(r for r in page.runs if r.kind == "signature")
    assert date.text == "2006年7月18日"
    assert date.end == pytest.approx(L.TEXT_RIGHT - 4 * L.CHAR_PITCH, abs=0.05)
    date_mid = (date.xs[0] + date.end) / 2
    assert (sig.xs[0] + sig.end) / 2 == pytest.approx(date_mid, abs=0.05)
    cx, cy = seal.center
    assert cx == pytest.approx(date_mid, abs=0.05)
    assert seal.w == seal.h == 42
    # 署名 and date below the centre, inside the circle.
    assert sig.baseline > cy and date.baseline < cy + seal.h / 2
    # Seal top within one line below the last text above it (附件说明 here).
    above = [r for r in page.runs if r.baseline < sig.baseline and r.kind != "page_number"]
    last_bottom = max(r.baseline + (1 - L.ASCENT) * r.size for r in above)
    assert 0 <= seal.y - last_bottom <= L.LINE_PITCH
    assert seal.y + seal.h <= L.TEXT_BOTTOM


def test_attachment_note_before_signature(seed_layout):
    """7.3.4: 附件说明 one line below the body, indented two characters."""
    ((p, note),) = seed_layout.runs("attachment_note")
    assert note.text == "附件：连云港市政府机关电子印章管理暂行办法"
    assert note.xs[0] == pytest.approx(L.TEXT_LEFT + 2 * L.CHAR_PITCH, abs=MM)
    body_bl = max(r.baseline for r in body_runs(seed_layout, p))
    assert note.baseline - body_bl == pytest.approx(2 * L.LINE_PITCH, abs=MM)


def test_attachment_starts_a_new_page(seed_layout):
    """7.3.7: 附件 label 黑体 top left on line 1, its title centred on line 3."""
    ((p, label),) = seed_layout.runs("attachment_label")
    (seal,) = seed_layout.seals
    assert p > seal.page
    assert label.text == "附件" and label.xs[0] == pytest.approx(L.TEXT_LEFT)
    title = next(r for r in seed_layout.pages[p].runs if r.kind == "attachment_title")
    top3 = L.TEXT_TOP + 2 * L.LINE_PITCH  # the third line of the 版心
    assert title.baseline == pytest.approx(
        top3 + (L.LINE_PITCH - L.SIZE_2) / 2 + L.ASCENT * L.SIZE_2, abs=MM
    )
    assert (title.xs[0] + title.end) / 2 == pytest.approx(MID, abs=MM)


def test_imprint_at_the_bottom_of_the_last_page(seed_layout):
    """7.4: 版记 on the last page; last rule on the 版心 bottom; thick-thin-thick rules;
    抄送 and 印发 in 4号, indented one character."""
    last = seed_layout.pages[-1]
    rules = sorted((r for r in last.rules if r.kind == "imprint"), key=lambda r: r.y1)
    assert [r.width for r in rules] == [0.35, 0.25, 0.35]
    assert rules[-1].y1 == pytest.approx(L.TEXT_BOTTOM)
    cc = [r for r in last.runs if r.kind == "copy_to"]
    pr = [r for r in last.runs if r.kind == "printer"]
    assert cc[0].text.startswith("抄送：") and cc[-1].text.endswith("。")
    assert cc[0].xs[0] == pytest.approx(L.TEXT_LEFT + L.SIZE_4, abs=MM)
    assert pr[0].text == "连云港市人民政府办公室"
    assert pr[-1].text == "2006年7月18日印发"
    assert pr[-1].end == pytest.approx(L.TEXT_RIGHT - L.SIZE_4, abs=0.05)
    assert rules[0].y1 < cc[0].baseline < rules[1].y1 < pr[0].baseline < rules[2].y1
    for page in seed_layout.pages[:-1]:
        assert not [r for r in page.runs if r.kind in ("copy_to", "printer")]


def test_page_numbers_alternate_outside(seed_layout):
    """7.5: "— n —" in 4号, 7 mm under the 版心; odd pages right, even pages left,
    one character in from the 版心 edge."""
    assert len(seed_layout.pages) >= 4
    for page in seed_layout.pages:
        (num,) = [r for r in page.runs if r.kind == "page_number"]
        assert num.text.replace(" ", "") == f"—{page.index + 1}—"
        assert num.size == pytest.approx(L.SIZE_4)
        dash_y = num.baseline - (L.ASCENT - 0.5) * num.size
        assert dash_y - L.TEXT_BOTTOM == pytest.approx(7, abs=MM)
        if (page.index + 1) % 2:
            assert num.end == pytest.approx(L.TEXT_RIGHT - L.SIZE_4, abs=0.05)
        else:
            assert num.xs[0] == pytest.approx(L.TEXT_LEFT + L.SIZE_4, abs=MM)


def test_multi_page_body_keeps_every_character(seed_layout, seed_doc):
    runs = [r for _, r in seed_layout.runs() if r.kind != "page_number"]
    text = "".join(r.text for r in runs)
    for par in seed_doc.body:
        assert "".join(par.full_text.split()) in text


def test_heading_never_ends_a_page(fonts):
    # Fill page 1 so that a level-1 heading would land on its last line.
    for n in range(1, 12):
        body = body_from_text("\n".join(["字" * 27] * n) + "\n一、标题\n正文内容。")
        lay = layout_document(seed_notice(body=body, attachments=()), fonts)
        for page in lay.pages:
            runs = sorted(
                (r for r in page.runs if r.kind.startswith(("body", "heading"))),
                key=lambda r: r.baseline,
            )
            if runs:
                assert runs[-1].kind != "heading1"


def _fill(n: int, **kw):
    """A notice with n full-line paragraphs, so the body ends on a different line for
    every n."""
    body = tuple(Paragraph("字" * 26) for _ in range(n))
    return seed_notice(body=body, attachments=(), **kw)


def _block_invariants(lay):
    (seal,) = lay.seals
    page = lay.pages[seal.page]
    sig = next(r for r in page.runs if r.kind == "signature")
    date = next(r for r in page.runs if r.kind == "date")
    assert date.baseline > sig.baseline  # 署名 and date on the seal page
    above = [r for r in page.runs if r.baseline < sig.baseline and r.kind != "page_number"]
    last_bottom = max(r.baseline + (1 - L.ASCENT) * r.size for r in above)
    assert 0 <= seal.y - last_bottom <= L.LINE_PITCH  # top within one line of the text
    assert seal.y + seal.h <= L.TEXT_BOTTOM + MM
    return page


def test_signature_never_alone_on_a_page(fonts):
    """7.3.5.5: when the signature block does not fit under the body, the last body lines
    move with it: the seal page always carries body text."""
    for n in range(8, 34):
        lay = layout_document(_fill(n, copy_to=(), printer="", print_date=None), fonts)
        page = _block_invariants(lay)
        assert [r for r in page.runs if r.kind == "body"], n
        assert not [r for _, r in lay.runs("no_body_note")]


def test_no_body_note_when_asked(fonts):
    noted = 0
    for n in range(8, 34):
        lay = layout_document(
            _fill(n, copy_to=(), printer="", print_date=None),
            fonts,
            LayoutOptions(no_body_note=True),
        )
        page = _block_invariants(lay)
        notes = [r for r in page.runs if r.kind == "no_body_note"]
        if notes:
            noted += 1
            assert notes[0].text == "（此页无正文）"
            assert not [r for r in page.runs if r.kind == "body"]
    assert noted >= 1


def test_imprint_never_overlaps_and_moves_to_a_new_page_when_needed(fonts):
    alone = 0
    for n in range(8, 34):
        lay = layout_document(_fill(n), fonts)
        last = lay.pages[-1]
        top = min(r.y1 for r in last.rules if r.kind == "imprint")
        for r in last.runs:
            if r.kind not in ("copy_to", "printer", "page_number"):
                assert r.baseline + (1 - L.ASCENT) * r.size <= top
        for s in lay.seals:
            if s.page == last.index:
                assert s.y + s.h <= top + MM
        if {r.kind for r in last.runs} == {"copy_to", "printer", "page_number"}:
            alone += 1
    assert alone >= 1


def test_upward_document_shows_signers(fonts):
    """7.2.4: 签发人 right, names in 楷体; 发文字号 left-indented one character on the
    line of the last 签发人."""
    doc = seed_notice(
        doc_type=DocType.REQUEST,
        signers=("张三", "李四", "王五"),
        main_recipients="市人民政府",
        attachments=(),
    )
    lay = layout_document(doc, fonts)
    p = lay.pages[0]
    signer = [r for r in p.runs if r.kind == "signer"]
    assert "".join(r.text for r in signer) == "签发人：张三李四王五"
    num = next(r for r in p.runs if r.kind == "doc_number")
    assert num.xs[0] == pytest.approx(L.TEXT_LEFT + L.CHAR_PITCH, abs=MM)
    assert num.baseline == pytest.approx(max(r.baseline for r in signer))
    assert max(r.end for r in signer) == pytest.approx(L.TEXT_RIGHT - L.CHAR_PITCH, abs=0.05)
    from gongwen.documents.gbt9704.fonts import FontRole

    assert any(r.face == fonts.role(FontRole.KAITI).face.key for r in signer)
    assert next(r for r in p.runs if r.kind == "recipients").text == "市人民政府："


def test_copy_number_secrecy_and_urgency_block(fonts):
    """7.2.1-7.2.3: 份号, 密级, 紧急程度 flush left on lines 1-3."""
    doc = seed_notice(
        copy_number="000123",
        secrecy=Secrecy.SECRET,
        secrecy_period="1年",
        urgency=Urgency.EXTRA_URGENT,
    )
    p = layout_document(doc, fonts).pages[0]
    items = [next(r for r in p.runs if r.kind == k) for k in ("copy_number", "secrecy", "urgency")]
    assert [r.text for r in items] == ["000123", "秘密★1年", "特急"]
    for k, r in enumerate(items):
        assert r.xs[0] == pytest.approx(L.TEXT_LEFT)
        assert r.baseline == pytest.approx(
            L.TEXT_TOP + k * L.LINE_PITCH + (L.LINE_PITCH - L.SIZE_3) / 2 + L.ASCENT * L.SIZE_3
        )


def test_joint_document_places_seals_side_by_side(fonts):
    """7.3.5.1 联合行文: one seal per 署名, aligned, not touching, inside the 版心; the
    last seal over the last 署名 and the date."""
    issuers = (
        Issuer("连云港市人民政府办公室"),
        Issuer("中共连云港市委办公室"),
        Issuer("连云港市财政局"),
    )
    doc = seed_notice(issuers=issuers, attachments=(), body=seed_notice().body[:3])
    lay = layout_document(doc, fonts)
    marks = [r for r in lay.pages[0].runs if r.kind == "mark"]
    assert "".join(r.text for r in marks).count("文件") == 1
    seals = lay.seals
    assert [s.issuer for s in seals] == [i.name for i in issuers]
    for a in seals:
        assert a.x >= L.TEXT_LEFT and a.x + a.w <= L.TEXT_RIGHT
        for b in seals:
            if a is not b:
                (ax, ay), (bx, by) = a.center, b.center
                assert math.hypot(ax - bx, ay - by) > a.w / 2 + b.w / 2
    page = lay.pages[seals[-1].page]
    date = next(r for r in page.runs if r.kind == "date")
    assert seals[-1].center[0] == pytest.approx((date.xs[0] + date.end) / 2, abs=0.05)
    assert len({round(s.center[1], 3) for s in seals}) < len(seals)  # shares a row


def test_unsealed_signature(fonts):
    """7.3.5.2: 署名 right-indented 2 characters one line below the body; the date on the
    next line starts two characters to the right of the 署名."""
    doc = seed_notice(issuers=(Issuer("连云港市人民政府办公室", sealed=False),), attachments=())
    lay = layout_document(doc, fonts)
    assert lay.seals == []
    _, sig = lay.runs("signature")[0]
    _, date = lay.runs("date")[0]
    assert sig.end == pytest.approx(L.TEXT_RIGHT - 2 * L.CHAR_PITCH, abs=0.05)
    assert date.xs[0] - sig.xs[0] == pytest.approx(2 * L.CHAR_PITCH, abs=MM)
    assert date.baseline - sig.baseline == pytest.approx(L.LINE_PITCH, abs=MM)


def test_note_in_parentheses_below_the_date(fonts):
    lay = layout_document(seed_notice(note="此件公开发布", attachments=()), fonts)
    _, note = lay.runs("note")[0]
    _, date = lay.runs("date")[0]
    assert note.text == "（此件公开发布）"
    assert note.baseline - date.baseline == pytest.approx(L.LINE_PITCH, abs=MM)
    assert note.xs[0] == pytest.approx(L.TEXT_LEFT + 2 * L.CHAR_PITCH, abs=MM)


def test_letter_format(fonts):
    """10.1 信函格式: mark 30 mm from the paper top; red double rules of 170 mm under it and
    20 mm above the paper bottom; 发文字号 flush right under the rule; no number on page 1;
    版记 without 印发 and rules."""
    doc = seed_notice(
        doc_type=DocType.LETTER, variant=FormatVariant.LETTER, attachments=(), copy_number="000001"
    )
    lay = layout_document(doc, fonts)
    p = lay.pages[0]
    mark = next(r for r in p.runs if r.kind == "mark")
    assert mark.text == "连云港市人民政府办公室"
    assert mark.baseline - L.ASCENT * mark.size == pytest.approx(30, abs=MM)
    rules = [r for r in p.rules if r.kind == "letter_rule"]
    assert len(rules) == 4
    assert all(r.x2 - r.x1 == pytest.approx(170) and r.color == (255, 0, 0) for r in rules)
    top = sorted(rules, key=lambda r: r.y1)[:2]
    assert top[0].width > top[1].width  # 上粗下细
    bottom = sorted(rules, key=lambda r: r.y1)[2:]
    assert bottom[0].width < bottom[1].width  # 上细下粗
    assert bottom[1].y1 + bottom[1].width / 2 == pytest.approx(297 - 20, abs=MM)
    num = next(r for r in p.runs if r.kind == "doc_number")
    assert num.end == pytest.approx(L.TEXT_RIGHT, abs=0.05)
    copy = next(r for r in p.runs if r.kind == "copy_number")
    thin = top[1]
    glyph_top = copy.baseline - L.ASCENT * L.SIZE_3
    assert glyph_top - (thin.y1 + thin.width / 2) == pytest.approx(L.SIZE_3 * 7 / 8, abs=MM)
    assert num.baseline == pytest.approx(copy.baseline)
    assert not [r for r in p.runs if r.kind == "page_number"]
    last = lay.pages[-1]
    assert not [r for r in last.runs if r.kind == "printer"]
    assert not [r for r in last.rules if r.kind == "imprint"]
    assert [r for r in last.runs if r.kind == "copy_to"]


def test_minutes_format(fonts):
    """10.3 纪要格式: red 纪要 mark 35 mm below the 版心 top; 出席/请假 lines with the label
    in 黑体 and names aligned after the colon; no seal."""
    doc = seed_notice(
        doc_type=DocType.MINUTES,
        variant=FormatVariant.MINUTES,
        issuers=(Issuer("连云港市人民政府常务会议", sealed=False),),
        title="第12次常务会议纪要",
        attachments=(),
        attendance=(
            AttendanceLine(
                "出席",
                "张三、李四、王五、赵六、孙七、周八、吴九、郑十、钱一、"
                "陈二、褚三、卫四、蒋五、沈六、韩七、杨八",
            ),
            AttendanceLine("请假", "朱九"),
        ),
    )
    lay = layout_document(doc, fonts)
    mark = next(r for r in lay.pages[0].runs if r.kind == "mark")
    assert mark.text == "连云港市人民政府常务会议纪要" and mark.color == (255, 0, 0)
    assert mark.baseline - L.ASCENT * mark.size == pytest.approx(L.TEXT_TOP + 35, abs=MM)
    assert lay.seals == []
    att = [r for _, r in lay.runs("attendance")]
    assert att[0].text == "出席："
    label_end = att[0].end
    names = [r for r in att if r.text[0] not in "出请"]
    wrapped = [r for r in names if r.baseline != att[0].baseline and r.baseline != att[-1].baseline]
    assert wrapped and wrapped[0].xs[0] == pytest.approx(label_end, abs=MM)
    assert label_end == pytest.approx(L.TEXT_LEFT + 5 * L.CHAR_PITCH, abs=MM)
    assert not lay.runs("recipients")
