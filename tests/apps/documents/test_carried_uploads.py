"""The upload path carries its files (R-DOC-4, R-FLOW-5): a body file and file attachments
travel inside both renditions byte for byte; the placeholder line names the SM3 prefix of
the exact file; another upload gives another fingerprint (the render cache renders anew);
a document without uploads keeps the fingerprint it had."""

from __future__ import annotations

import hashlib

import pytest

from gongwen.documents import blobs, rendering, services
from gongwen.documents.gbt9704.ofd_reader import OFDReader
from gongwen.pki.suites import sm3
from gongwen.sealing.carried import carried_files

from .conftest import make_ofd, make_pdf

pytestmark = pytest.mark.django_db


def test_body_file_and_attachments_travel_inside_both_renditions(clerk_a, make_draft):
    doc = make_draft()
    body = make_pdf(("江苏省人民政府办公厅文件", "关于做好防汛工作的通知"))
    extra = make_ofd("附件一 防汛责任人名单")
    services.set_body_file(actor=clerk_a, doc_id=doc.pk, file=body, filename="苏政办发12号.pdf")
    services.add_attachment(actor=clerk_a, doc_id=doc.pk, file=extra, filename="名单.ofd",
                            title="防汛责任人名单")
    doc.refresh_from_db()
    pdf, _ = rendering.rendition(doc, "pdf")
    ofd, _ = rendering.rendition(doc, "ofd")
    for data in (pdf, ofd):
        got = carried_files(data)
        assert [(f.name, f.relationship, f.data) for f in got] == [
            ("苏政办发12号.pdf", "Source", body), ("名单.ofd", "Supplement", extra)]
    text = OFDReader(ofd).text().replace(" ", "")
    assert f"SM3摘要{sm3(body).hex()[:16]}" in text
    assert f"SM3摘要{sm3(extra).hex()[:16]}" in text


def test_another_upload_renders_anew(clerk_a, make_draft):
    doc = make_draft()
    services.set_body_file(actor=clerk_a, doc_id=doc.pk, file=make_pdf(("甲",)),
                           filename="正文.pdf")
    doc.refresh_from_db()
    first, row1 = rendering.rendition(doc, "pdf")
    services.set_body_file(actor=clerk_a, doc_id=doc.pk, file=make_pdf(("乙",)),
                           filename="正文.pdf")
    doc.refresh_from_db()
    second, row2 = rendering.rendition(doc, "pdf")
    assert row1.fingerprint != row2.fingerprint and first != second
    assert carried_files(second)[0].data == blobs.read(doc.body_blob)
    # The same digest prefix, another file: the manifest's full digest still tells them
    # apart (the fingerprint covers the carried files, not only the printed line).
    core_doc = rendering.to_core(doc)
    a = rendering.fingerprint(core_doc, "pdf", (("正文.pdf", "正文", "Source", "", "sm3:aa"),))
    b = rendering.fingerprint(core_doc, "pdf", (("正文.pdf", "正文", "Source", "", "sm3:ab"),))
    assert a != b


def test_without_uploads_nothing_is_carried_and_the_fingerprint_is_unchanged(make_draft,
                                                                               settings):
    doc = make_draft()
    core_doc = rendering.to_core(doc)
    assert rendering.carried_manifest(doc) == ()
    fonts = sorted((str(k), str(v)) for k, v in (settings.GONGWEN.get("FONTS") or {}).items())
    before = hashlib.sha256(f"pdf\n{fonts!r}\n{core_doc!r}".encode()).hexdigest()
    assert rendering.fingerprint(core_doc, "pdf") == before  # the stored renditions stay
    assert rendering.fingerprint(core_doc, "pdf", ()) == before
    pdf, _ = rendering.rendition(doc, "pdf")
    assert carried_files(pdf) == [] and b"/EmbeddedFiles" not in pdf
