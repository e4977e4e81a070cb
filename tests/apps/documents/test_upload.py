"""Uploaded PDF/OFD files (R-DOC-4) and the classification guard on their text (R-DOC-5)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from gongwen.audit.models import AuditEntry
from gongwen.documents import blobs, services
from gongwen.documents.upload import UploadRejected, inspect_file

from .conftest import make_ofd, make_pdf

VECTORS = Path("/work/shared/vectors/ofd")


# -- inspect_file -----------------------------------------------------------------------------
def test_pdf_is_parsed_and_its_text_extracted():
    found = inspect_file(make_pdf(), "通知.pdf")
    assert found.file_format == "pdf" and found.pages == 1
    assert "关于做好防汛工作的通知" in found.text


def test_encrypted_pdf_is_refused():
    with pytest.raises(UploadRejected, match="加密") as exc:
        inspect_file(make_pdf(encrypt="1234"), "加密.pdf")
    assert exc.value.reason == "encrypted"


def test_pdf_encrypted_with_an_empty_password_is_refused_too():
    with pytest.raises(UploadRejected, match="加密"):
        inspect_file(make_pdf(encrypt=""), "只读.pdf")


@pytest.mark.parametrize("data", [b"%PDF-1.7\n garbage garbage", make_pdf()[:300],
                                  b"%PDF-1.4\n%%EOF"])
def test_broken_pdf_is_refused(data):
    with pytest.raises(UploadRejected, match=r"损坏|没有任何页面") as exc:
        inspect_file(data, "坏.pdf")
    assert exc.value.reason == "broken"


def test_size_limit_from_settings(settings):
    settings.GONGWEN = {**settings.GONGWEN, "UPLOAD_MAX_BYTES": 1000}
    with pytest.raises(UploadRejected, match="超过上限") as exc:
        inspect_file(make_pdf(), "大.pdf")
    assert exc.value.reason == "too_large"


def test_default_limit_is_50_mb(settings):
    from gongwen.documents.upload import max_upload_bytes

    settings.GONGWEN = {k: v for k, v in settings.GONGWEN.items() if k != "UPLOAD_MAX_BYTES"}
    assert max_upload_bytes() == 50 * 1024 * 1024


@pytest.mark.parametrize(("data", "name"), [(b"hello", "a.pdf"), (b"\x89PNG\r\n\x1a\n....", "a.png"),
                                            (b"{\\rtf1", "a.doc"), (b"", "empty.pdf")])
def test_other_formats_are_refused(data, name):
    with pytest.raises(UploadRejected) as exc:
        inspect_file(data, name)
    assert "PDF" in exc.value.message_zh or "空文件" in exc.value.message_zh


def test_extension_must_match_content():
    with pytest.raises(UploadRejected, match="扩展名"):
        inspect_file(make_pdf(), "伪装.ofd")
    with pytest.raises(UploadRejected, match="扩展名"):
        inspect_file(make_ofd(), "伪装.pdf")


def test_ofd_package_is_parsed():
    found = inspect_file(make_ofd("关于做好防汛工作的通知\n各县、区人民政府："), "通知.ofd")
    assert found.file_format == "ofd" and found.pages == 1
    assert found.text.splitlines() == ["关于做好防汛工作的通知", "各县、区人民政府："]


def test_ofd_with_wrong_namespace_is_refused():
    with pytest.raises(UploadRejected, match="命名空间"):
        inspect_file(make_ofd(ns="http://example.com/ofd"), "x.ofd")


def test_ofd_without_ofd_xml_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "not an ofd")
    with pytest.raises(UploadRejected, match=r"OFD\.xml"):
        inspect_file(buf.getvalue(), "x.ofd")


def test_ofd_with_missing_document_is_refused():
    with pytest.raises(UploadRejected, match="DocRoot"):
        inspect_file(make_ofd(doc_root="Doc_9/Document.xml"), "x.ofd")


def test_ofd_with_missing_page_is_refused():
    with pytest.raises(UploadRejected, match="损坏"):
        inspect_file(make_ofd(with_page=False), "x.ofd")


def test_truncated_zip_is_refused():
    with pytest.raises(UploadRejected, match=r"损坏|不是有效"):
        inspect_file(make_ofd()[:200], "x.ofd")


def test_zip_bomb_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", "<a/>")
        z.writestr("Doc_0/big.bin", b"\0" * (8 * 1024 * 1024))
    with pytest.raises(UploadRejected, match="压缩比"):
        inspect_file(buf.getvalue(), "bomb.ofd")


def test_ofd_xml_entities_are_not_expanded():
    ofd = make_ofd()
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(ofd)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "OFD.xml":
                data = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM '
                        b'"file:///etc/passwd">]>' + data.split(b"?>", 1)[1]
                        .replace(b"<ofd:DocID>", b"<ofd:DocID>&e;"))
            dst.writestr(info, data)
    found = inspect_file(buf.getvalue(), "xxe.ofd")
    assert "root:" not in found.text


@pytest.mark.parametrize("name", ["dms360_v1_gongwen_n.ofd", "gomain_test_invoice_v4signed.ofd",
                                  "ofdrw_two_seals_h.ofd", "ofdrw_riding_seal_V4RideRight.ofd"])
def test_real_ofd_files_from_other_implementations_are_accepted(name):
    path = VECTORS / name
    if not path.exists():
        pytest.skip(f"vector {name} not on this machine")
    found = inspect_file(path.read_bytes(), name)
    assert found.file_format == "ofd" and found.pages >= 1


def test_real_gongwen_ofd_text_is_extracted():
    path = VECTORS / "dms360_v1_gongwen_n.ofd"
    if not path.exists():
        pytest.skip("vector not on this machine")
    text = inspect_file(path.read_bytes(), path.name).text
    assert "路卫发〔2011〕76号" in text and "关于同意张阿三同志辞职的批复" in text


# -- through the services ---------------------------------------------------------------------
pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_attachment_keeps_the_original_bytes(clerk_a, make_draft):
    doc = make_draft()
    data = make_pdf()
    att = services.add_attachment(actor=clerk_a, doc_id=doc.pk, file=io.BytesIO(data),
                                  filename="防汛预案.pdf")
    assert att.title == "防汛预案" and att.file_format == "pdf" and att.pages == 1
    assert blobs.read(att.blob) == data and att.size == len(data)
    entry = AuditEntry.objects.get(action="document.attachment_added")
    assert entry.detail["digest"] == att.blob
    doc.refresh_from_db()
    assert doc.revision == 2 and doc.attachment_note_lines() == ["附件：防汛预案"]


@pytestmark_db
def test_attachments_are_ordered_and_can_be_moved(clerk_a, make_draft):
    doc = make_draft()
    a = services.add_attachment(actor=clerk_a, doc_id=doc.pk, file=make_pdf(), filename="甲.pdf")
    b = services.add_attachment(actor=clerk_a, doc_id=doc.pk, file=make_ofd(), filename="乙.ofd")
    assert doc.attachment_note_lines() == ["附件：1.甲", "　　　2.乙"]
    services.move_attachment(actor=clerk_a, doc_id=doc.pk, attachment_id=b.pk, offset=-1)
    assert [x.title for x in doc.attachments.order_by("position")] == ["乙", "甲"]
    services.remove_attachment(actor=clerk_a, doc_id=doc.pk, attachment_id=b.pk)
    services.remove_attachment(actor=clerk_a, doc_id=doc.pk, attachment_id=b.pk)  # retry
    assert [(x.title, x.position) for x in doc.attachments.all()] == [("甲", 0)]
    assert a.pk == doc.attachments.get().pk


@pytestmark_db
@pytest.mark.parametrize(("maker", "name"), [
    (lambda: make_pdf(["关于某事的通知", "机密★5年"]), "a.pdf"),
    (lambda: make_ofd("秘密★1年\n关于某事的通知"), "a.ofd"),
    (lambda: make_ofd("密级：绝密\n关于某事的通知"), "b.ofd"),
])
def test_classified_upload_is_refused_and_audited(clerk_a, make_draft, blob_dir, maker, name):
    doc = make_draft()
    with pytest.raises(services.ClassifiedRefused) as exc:
        services.add_attachment(actor=clerk_a, doc_id=doc.pk, file=maker(), filename=name)
    assert "密级公文不得通过无纸化传输" in exc.value.messages[0]
    assert doc.attachments.count() == 0
    entry = AuditEntry.objects.get(action="document.classified_refused")
    assert entry.detail["stage"] == "upload" and entry.detail["filename"] == name
    assert entry.target_id == str(doc.pk)
    assert not [p for p in blob_dir.rglob("*") if p.is_file()]  # nothing kept


@pytestmark_db
def test_attachment_title_with_a_mark_is_refused(clerk_a, make_draft):
    doc = make_draft()
    with pytest.raises(services.ClassifiedRefused):
        services.add_attachment(actor=clerk_a, doc_id=doc.pk, file=make_pdf(),
                                filename="x.pdf", title="秘密★1年 名单")


@pytestmark_db
def test_file_name_with_a_mark_is_refused(clerk_a, make_draft):
    doc = make_draft()
    with pytest.raises(services.ClassifiedRefused):
        services.add_attachment(actor=clerk_a, doc_id=doc.pk, file=make_pdf(),
                                filename="机密★ 名单.pdf", title="名单")
    with pytest.raises(services.ClassifiedRefused):
        services.set_body_file(actor=clerk_a, doc_id=doc.pk, file=make_pdf(),
                               filename="绝密★启用前.pdf")


@pytestmark_db
def test_broken_upload_is_refused_with_a_chinese_message_and_audited(clerk_a, make_draft):
    doc = make_draft()
    with pytest.raises(ValidationError) as exc:
        services.add_attachment(actor=clerk_a, doc_id=doc.pk, file=make_pdf(encrypt="x"),
                                filename="加密.pdf")
    assert "加密" in exc.value.messages[0]
    entry = AuditEntry.objects.get(action="document.upload_refused")
    assert entry.detail == {"reason": "encrypted", "filename": "加密.pdf"}


@pytestmark_db
def test_uploaded_body_replaces_the_typed_body(clerk_a, head_a, make_draft):
    doc = make_draft(body_text="")
    data = make_ofd("国务院关于某事的通知\n各省、自治区、直辖市人民政府：")
    doc = services.set_body_file(actor=clerk_a, doc_id=doc.pk, file=data, filename="国发.ofd")
    assert doc.body_source == "file" and doc.body_format == "ofd"
    assert blobs.read(doc.body_blob) == data
    doc = services.submit(actor=clerk_a, doc_id=doc.pk)  # a file body counts as a body
    assert services.check_classification(doc, include_files=True) is None
    doc = services.approve(actor=head_a, doc_id=doc.pk)
    assert doc.number_serial == 1


@pytestmark_db
def test_dispatch_time_check_rereads_the_files(clerk_a, make_draft):
    doc = make_draft()
    services.add_attachment(actor=clerk_a, doc_id=doc.pk, file=make_pdf(), filename="a.pdf")
    assert services.check_classification(doc, include_files=True) is None


@pytestmark_db
def test_upload_to_an_approved_document_is_refused(clerk_a, head_a, submitted):
    doc = services.approve(actor=head_a, doc_id=submitted().pk)
    with pytest.raises(ValidationError, match="不能修改"):
        services.add_attachment(actor=clerk_a, doc_id=doc.pk, file=make_pdf(), filename="a.pdf")
