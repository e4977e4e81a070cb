"""命令（令）格式 (GB/T 9704-2012 10.2) and the 签发人签名章 block (7.3.5.3)."""

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from gongwen.documents.gbt9704 import (
    DocNumber,
    DocType,
    FormatVariant,
    Issuer,
    LayoutOptions,
    ModelError,
    OfficialDocument,
    Paragraph,
    body_from_text,
    layout_document,
    render_ofd,
    render_pdf,
)
from gongwen.documents.gbt9704 import layout as L
from gongwen.documents.gbt9704.ofd_reader import OFDReader

from .conftest import needs_tool
from .seed_notice import seed_notice

MM = 0.01
MID = (L.TEXT_LEFT + L.TEXT_RIGHT) / 2
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "gbt9704"
BODY = (
    "《连云港市电子公文传输管理办法》已经2026年3月1日市人民政府第8次常务会议审议通过，"
    "现予公布，自2026年5月1日起施行。"
)
PNG = b"\x89PNG\r\n\x1a\n" + b"preview"  # drawn as is: the layout only places it


def order(**kw) -> OfficialDocument:
    fields = dict(
        doc_type=DocType.ORDER,
        issuers=(Issuer("连云港市人民政府", signer="张三", signer_title="市长"),),
        title="连云港市电子公文传输管理办法",
        doc_number=DocNumber("连政令", 2026, 12),
        body=body_from_text(BODY),
        date=dt.date(2026, 3, 10),
    )
    fields.update(kw)
    return OfficialDocument(**fields)


def _runs(lay, kind, page=0):
    return [r for r in lay.pages[page].runs if r.kind == kind]


@pytest.fixture(scope="module")
def order_layout(fonts):
    return layout_document(order(), fonts)


def test_a_command_is_in_command_format():
    assert order().order_format
    assert order(variant=FormatVariant.ORDER, doc_type=DocType.DECISION).order_format
    assert not order(variant=FormatVariant.LETTER).order_format
    assert not seed_notice().order_format and not seed_notice().uses_signature_seal


def test_mark_is_the_full_name_and_ling_20mm_below_the_text_top(order_layout):
    (mark,) = _runs(order_layout, "mark")
    assert mark.text == "连云港市人民政府令" and mark.color == (255, 0, 0)
    assert mark.baseline - L.ASCENT * mark.size == pytest.approx(L.TEXT_TOP + 20, abs=MM)
    assert (mark.xs[0] + mark.end) / 2 == pytest.approx(MID, abs=MM)
    assert order_layout.pages[0].rules == []  # no red separator in 10.2
    assert not _runs(order_layout, "title")  # the title is not printed


def test_order_number_two_lines_under_the_mark_and_body_two_lines_under_it(order_layout):
    (mark,) = _runs(order_layout, "mark")
    (num,) = _runs(order_layout, "order_number")
    assert num.text == "第12号"
    assert (num.xs[0] + num.end) / 2 == pytest.approx(MID, abs=MM)
    mark_bottom = mark.baseline + (1 - L.ASCENT) * mark.size
    num_top = num.baseline - L.ASCENT * num.size
    # (the grid line's top is 1.5-2.5 lines under the mark; the glyph sits centred in it)
    inset = (L.LINE_PITCH - L.SIZE_3) / 2
    assert 1.5 * L.LINE_PITCH <= num_top - mark_bottom - inset <= 2.5 * L.LINE_PITCH + MM
    body = _runs(order_layout, "body")
    assert body[0].baseline - num.baseline == pytest.approx(3 * L.LINE_PITCH, abs=MM)
    assert body[0].xs[0] == pytest.approx(L.TEXT_LEFT + 2 * L.CHAR_PITCH, abs=MM)


def test_body_starts_on_the_same_line_before_the_number_is_assigned(fonts, order_layout):
    draft = layout_document(order(doc_number=None), fonts)
    assert not _runs(draft, "order_number")
    assert _runs(draft, "body")[0].baseline == _runs(order_layout, "body")[0].baseline
    assert _runs(layout_document(order(order_number=3), fonts), "order_number")[0].text == "第3号"


def test_signature_seal_block_per_7_3_5_3(order_layout):
    assert order_layout.seals == []  # no 印章: the 签名章 replaces 署名 and seal
    (box,) = order_layout.signature_seals
    assert (box.kind, box.signer, box.issuer, box.page) == (
        "signature",
        "张三",
        "连云港市人民政府",
        0,
    )
    # 签名章 right-indented four characters; 职务 two characters to its left, centred on it.
    assert box.x + box.w == pytest.approx(L.TEXT_RIGHT - 4 * L.CHAR_PITCH, abs=MM)
    (title,) = _runs(order_layout, "signer_title")
    assert title.text == "市长"
    assert box.x - title.end == pytest.approx(2 * L.CHAR_PITCH, abs=MM)
    title_mid = title.baseline - (L.ASCENT - 0.5) * title.size
    assert title_mid == pytest.approx(box.center[1], abs=MM)
    (name,) = _runs(order_layout, "signer_name")
    assert name.text == "张三" and name.baseline == title.baseline
    assert (name.xs[0] + name.end) / 2 == pytest.approx(box.center[0], abs=MM)
    # 正文下空二行: about two blank lines between the body and the box.
    body_bottom = max(r.baseline + (1 - L.ASCENT) * r.size for r in _runs(order_layout, "body"))
    assert 1.5 * L.LINE_PITCH <= box.y - body_bottom <= 2.5 * L.LINE_PITCH
    # 签名章下空一行右空四字编排成文日期.
    (date,) = _runs(order_layout, "date")
    assert date.text == "2026年3月10日"
    assert date.end == pytest.approx(L.TEXT_RIGHT - 4 * L.CHAR_PITCH, abs=MM)
    date_top = date.baseline - L.ASCENT * date.size
    assert 0.5 * L.LINE_PITCH <= date_top - (box.y + box.h) <= 1.5 * L.LINE_PITCH
    assert not _runs(order_layout, "signature")  # no 发文机关署名


def test_signer_from_the_signers_list_with_title(fonts):
    doc = order(issuers=(Issuer("连云港市人民政府"),), signers=("市长　张三",))
    assert doc.signature_signers() == [("市长", "张三")]
    lay = layout_document(doc, fonts)
    assert "市长张三" in lay.text()
    assert order(issuers=(Issuer("连云港市人民政府"),), signers=("张三",)).signature_signers() == [
        ("", "张三")
    ]


def test_a_command_without_a_signer_is_refused():
    with pytest.raises(ModelError) as exc:
        order(issuers=(Issuer("连云港市人民政府"),))
    assert "命令（令）须标注签发人姓名（签名章）：连云港市人民政府" in exc.value.message_zh
    with pytest.raises(ModelError) as exc:
        seed_notice(signature_seal=True)
    assert "加盖签发人签名章的公文须标注签发人姓名" in exc.value.message_zh


def test_joint_command_one_signer_a_row_aligned(fonts):
    doc = order(
        issuers=(
            Issuer("连云港市人民政府", signer="张三", signer_title="连云港市人民政府市长"),
            Issuer("中共连云港市委员会", signer="李四", signer_title="中共连云港市委员会书记"),
        )
    )
    lay = layout_document(doc, fonts)
    a, b = lay.signature_seals
    assert (a.signer, b.signer) == ("张三", "李四")
    assert a.x == b.x and a.w == b.w
    assert b.y - a.y == pytest.approx(L.SIGNATURE_ROW_LINES * L.LINE_PITCH, abs=MM)
    assert b.y >= a.y + a.h  # never touching
    titles = _runs(lay, "signer_title")
    assert [t.text for t in titles] == ["连云港市人民政府市长", "中共连云港市委员会书记"]
    assert titles[0].end == pytest.approx(titles[1].end, abs=MM)  # 上下对齐
    (date,) = _runs(lay, "date")
    assert date.baseline > b.y + b.h
    marks = _runs(lay, "mark")
    assert "".join(r.text for r in marks).count("令") == 1


def test_signature_image_replaces_the_typed_name(fonts):
    lay = layout_document(order(), fonts, LayoutOptions(signature_images={"张三": PNG}))
    (box,) = lay.signature_seals
    (img,) = [i for i in lay.pages[0].images if i.kind == "signature_seal"]
    assert (img.x, img.y, img.w, img.h) == (box.x, box.y, box.w, box.h)
    assert not _runs(lay, "signer_name") and _runs(lay, "signer_title")


def test_signature_seal_on_an_ordinary_document(fonts):
    doc = seed_notice(
        attachments=(),
        signature_seal=True,
        issuers=(Issuer("连云港市人民政府办公室", signer="王五", signer_title="主任"),),
    )
    lay = layout_document(doc, fonts)
    assert lay.seals == [] and len(lay.signature_seals) == 1
    assert any(r.kind == "separator" for r in lay.pages[0].rules)  # 文件格式 head kept
    assert "主任王五" in lay.text()
    assert not [r for _, r in lay.runs("signature")]


def test_block_that_does_not_fit_takes_body_lines_along(fonts):
    """7.3.5.5 as for seals: the 签名章 page always carries body text."""
    for n in range(14, 26):
        body = tuple(Paragraph("字" * 26) for _ in range(n))
        lay = layout_document(order(body=body), fonts)
        (box,) = lay.signature_seals
        page = lay.pages[box.page]
        assert [r for r in page.runs if r.kind == "body"], n
        assert box.y + box.h <= L.TEXT_BOTTOM + MM, n
        (date,) = [r for _, r in lay.runs("date")]
        assert date.baseline <= L.TEXT_BOTTOM, n


def test_pdf_and_ofd_carry_the_same_text(order_layout):
    import io

    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(render_pdf(order_layout)))
    assert "连云港市人民政府令" in pdf.pages[0].extract_text()
    text = OFDReader(render_ofd(order_layout)).text()
    assert text == order_layout.text()
    assert text.splitlines()[:2] == ["连云港市人民政府令", "第12号"]
    assert "市长张三" in text


@needs_tool("pdftotext", "pdftoppm")
def test_pdf_reading_order_and_png(order_layout, tmp_path):
    pdf = tmp_path / "order.pdf"
    pdf.write_bytes(render_pdf(order_layout))
    out = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
    assert lines[0] == "连云港市人民政府令" and lines[1] == "第12号"
    flat = out.replace(" ", "")
    assert flat.index("第12号") < flat.index("《连云港市") < flat.index("市长张三")
    assert flat.index("市长张三") < flat.index("2026年3月10日")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(ARTIFACTS / "order")],
        check=True,
    )
