"""Fixtures of the documents app: heads of unit A and B, a draft factory, a temporary blob
store, and small PDF/OFD files made on the spot."""

from __future__ import annotations

import io
import zipfile

import pytest


@pytest.fixture(autouse=True)
def blob_dir(settings, tmp_path):
    settings.GONGWEN = {**settings.GONGWEN, "BLOB_DIR": str(tmp_path / "blobs")}
    return tmp_path / "blobs"


@pytest.fixture
def head_a(make_user, unit_a):
    return make_user(unit_a, "head", username="head_a")


@pytest.fixture
def head_b(make_user, unit_b):
    return make_user(unit_b, "head", username="head_b")


BODY = ("为加快我市电子政务应用步伐，经研究，决定对全市已联网单位实行公文无纸化传输。\n"
        "一、目标任务\n公文无纸化传输工作分为两个实施阶段。\n（一）第一阶段。联网单位。\n"
        "二、工作要求\n所有密级文件不得通过无纸化传输。")


@pytest.fixture
def draft_fields(unit_b):
    def make(**over):
        fields = {"doc_type": "notice", "title": "关于推行公文无纸化传输工作的通知",
                  "body_text": BODY, "main_units": [unit_b.pk],
                  "main_recipients_text": "市各直属单位"}
        fields.update(over)
        return fields

    return make


@pytest.fixture
def make_draft(clerk_a, draft_fields):
    from gongwen.documents import services

    def make(actor=None, **over):
        return services.create_draft(actor=actor or clerk_a, **draft_fields(**over))

    return make


@pytest.fixture
def submitted(make_draft, clerk_a):
    from gongwen.documents import services

    def make(**over):
        doc = make_draft(**over)
        return services.submit(actor=clerk_a, doc_id=doc.pk)

    return make


def make_pdf(lines=("关于做好防汛工作的通知", "各县、区人民政府："), *, encrypt: str | None = None
             ) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 14)
    y = 760
    for line in lines:
        c.drawString(72, y, line)
        y -= 24
    c.save()
    data = buf.getvalue()
    if encrypt is None:
        return data
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=encrypt, owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


OFD_NS = "http://www.ofdspec.org/2016"


def make_ofd(text="关于做好防汛工作的通知", *, ns=OFD_NS, doc_root="Doc_0/Document.xml",
             with_page=True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", f'<?xml version="1.0" encoding="UTF-8"?>'
                   f'<ofd:OFD xmlns:ofd="{ns}" Version="1.0" DocType="OFD"><ofd:DocBody>'
                   f'<ofd:DocInfo><ofd:DocID>0123456789abcdef0123456789abcdef</ofd:DocID>'
                   f'</ofd:DocInfo><ofd:DocRoot>{doc_root}</ofd:DocRoot></ofd:DocBody>'
                   f'</ofd:OFD>')
        z.writestr("Doc_0/Document.xml",
                   f'<ofd:Document xmlns:ofd="{ns}"><ofd:CommonData><ofd:MaxUnitID>5'
                   f'</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297'
                   f'</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData><ofd:Pages>'
                   f'<ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>'
                   f'</ofd:Document>')
        if with_page:
            lines = "".join(
                f'<ofd:TextObject ID="{n + 3}" Boundary="28 {37 + n * 10} 156 10" Font="2" '
                f'Size="5.6"><ofd:TextCode X="0" Y="5" DeltaX="g {len(t) - 1} 5.6">{t}'
                f'</ofd:TextCode></ofd:TextObject>'
                for n, t in enumerate(text.splitlines()) if t)
            z.writestr("Doc_0/Pages/Page_0/Content.xml",
                       f'<ofd:Page xmlns:ofd="{ns}"><ofd:Content><ofd:Layer ID="2">{lines}'
                       f'</ofd:Layer></ofd:Content></ofd:Page>')
    return buf.getvalue()
