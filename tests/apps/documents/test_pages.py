"""The document pages (R-UI-1): drafts, the editor with every element, uploads, the live
preview, the approval queue, the document page with its downloads. Bad input gives a Chinese
message on the page, never a 500."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from gongwen.audit.models import AuditEntry
from gongwen.documents import services
from gongwen.documents.models import OfficialDocument, State

from .conftest import BODY, make_ofd, make_pdf

pytestmark = pytest.mark.django_db


def _form(unit_b, **over):
    data = {"doc_type": "notice", "variant": "file", "number_series": "发",
            "title": "关于推行公文无纸化传输工作的通知", "body_text": BODY,
            "main_units": [unit_b.pk], "main_recipients_text": "市各直属单位",
            "secrecy": "", "urgency": ""}
    data.update(over)
    return data


def test_drafts_page_lists_own_units_drafts_only(client, clerk_a, clerk_b, make_draft):
    mine = make_draft()
    theirs = make_draft(actor=clerk_b, main_units=[])
    client.force_login(clerk_a)
    page = client.get(reverse("web:drafts")).content.decode()
    assert mine.title in page and f"/drafts/{mine.pk}/" in page
    assert f"/drafts/{theirs.pk}/" not in page
    assert "建设中" not in page


def test_editor_shows_every_element(client, clerk_a):
    client.force_login(clerk_a)
    page = client.get(reverse("web:draft_create")).content.decode()
    for label in ("文种", "格式", "份号", "密级", "保密期限", "紧急程度", "发文机关标志",
                  "联合发文机关1", "发文字号类别", "签发人", "标题", "主送机关（通讯录）",
                  "主送机关（收文分组）", "主送机关（文字）", "正文", "发文机关署名",
                  "成文日期", "附注", "抄送机关（通讯录）", "印发机关", "印发日期", "版式预览"):
        assert label in page, label
    for doc_type in ("决议", "决定", "命令", "公报", "公告", "通告", "意见", "通知", "通报",
                     "报告", "请示", "批复", "议案", "函", "纪要"):
        assert f">{doc_type}</option>" in page, doc_type


def test_new_draft_preselects_notice_as_the_api_and_services_do(client, clerk_a):
    """QA: the 文种 list preselected its first choice, 决议, so a draft saved without touching
    it became a 决议. 通知, the most common 文种, is what the API and the services take when
    none is given."""
    import re

    from gongwen.api.documents import DraftIn

    client.force_login(clerk_a)
    page = client.get(reverse("web:draft_create")).content.decode()
    select = re.search(r'<select name="doc_type".*?</select>', page, re.S)[0]
    assert re.findall(r'<option value="(\w+)" selected>', select) == ["notice"]
    assert DraftIn.model_fields["doc_type"].default == "notice"
    assert services.create_draft(actor=clerk_a, title="关于开会的通知").doc_type == "notice"


def test_create_draft_through_the_form(client, clerk_a, unit_b):
    client.force_login(clerk_a)
    key = "7d3f1c2e-1111-4222-8333-944455556666"
    response = client.post(reverse("web:draft_create"), _form(unit_b, idempotency_key=key))
    doc = OfficialDocument.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/drafts/{doc.pk}/"
    # A double submit of the same form creates nothing new.
    client.post(reverse("web:draft_create"), _form(unit_b, idempotency_key=key))
    assert OfficialDocument.objects.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "关于推行公文无纸化传输工作的通知" in page and "上传附件" in page


def test_a_page_whose_key_saved_a_draft_already_saves_new_input_on_the_next_click(
        client, clerk_a, unit_b):
    """Back to the filled 起草 page after saving, edited, saved again: the input is kept with a
    fresh key and a plain explanation, and the next click saves it as a second draft."""
    import re

    client.force_login(clerk_a)
    key = "7d3f1c2e-1111-4222-8333-944455556677"
    client.post(reverse("web:draft_create"), _form(unit_b, idempotency_key=key))
    again = client.post(reverse("web:draft_create"),
                        _form(unit_b, idempotency_key=key, title="关于另行部署的通知"))
    page = again.content.decode()
    assert again.status_code == 200 and "本次修改尚未保存" in page and "关于另行部署的通知" in page
    fresh = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    assert fresh != key and OfficialDocument.objects.count() == 1
    client.post(reverse("web:draft_create"),
                _form(unit_b, idempotency_key=fresh, title="关于另行部署的通知"))
    assert set(OfficialDocument.objects.values_list("title", flat=True)) == {
        "关于另行部署的通知", "关于推行公文无纸化传输工作的通知"}


@pytest.mark.parametrize(("over", "message"), [
    ({"secrecy": "秘密"}, "密级公文不得通过无纸化传输"),
    ({"body_text": "秘密★1年\n正文"}, "密级公文不得通过无纸化传输"),
    ({"doc_type": "request"}, "必须填写签发人"),
    ({"copy_number": "12ab"}, "份号应为6位阿拉伯数字"),
    ({"title": ""}, "这个字段是必填项"),
    ({"main_units": ["999999"]}, "选择"),
    ({"date": "2006-13-45"}, "日期"),
])
def test_bad_input_gives_a_chinese_message_not_a_500(client, clerk_a, unit_b, over, message):
    client.force_login(clerk_a)
    response = client.post(reverse("web:draft_create"), _form(unit_b, **over))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert OfficialDocument.objects.count() == 0


def test_classified_attempt_through_the_page_is_audited(client, clerk_a, unit_b):
    client.force_login(clerk_a)
    client.post(reverse("web:draft_create"), _form(unit_b, note="密级：机密"))
    assert AuditEntry.objects.filter(action="document.classified_refused").count() == 1


def test_edit_and_submit_from_the_editor(client, clerk_a, unit_b, make_draft):
    doc = make_draft()
    client.force_login(clerk_a)
    response = client.post(reverse("web:draft_edit", args=[doc.pk]),
                           _form(unit_b, title="关于调整的通知", revision=doc.revision,
                                 submit="1"))
    assert response.status_code == 302
    doc.refresh_from_db()
    assert doc.title == "关于调整的通知" and doc.state == State.SUBMITTED


def test_stale_editor_is_told_to_reload(client, clerk_a, unit_b, make_draft):
    doc = make_draft()
    services.update_draft(actor=clerk_a, doc_id=doc.pk, title="别人先改了")
    client.force_login(clerk_a)
    response = client.post(reverse("web:draft_edit", args=[doc.pk]),
                           _form(unit_b, revision=1))
    assert "已被他人修改" in response.content.decode()


def test_upload_attachment_and_refusals_show_messages(client, clerk_a, make_draft):
    doc = make_draft()
    client.force_login(clerk_a)
    url = reverse("web:attachment_add", args=[doc.pk])
    ok = client.post(url, {"file": _upload(make_pdf(), "预案.pdf"), "title": "防汛预案"},
                     follow=True)
    assert "附件已上传" in ok.content.decode() and doc.attachments.count() == 1
    bad = client.post(url, {"file": _upload(make_pdf(encrypt="x"), "加密.pdf")}, follow=True)
    assert "加密" in bad.content.decode()
    secret = client.post(url, {"file": _upload(make_ofd("机密★\n名单"), "名单.ofd")},
                         follow=True)
    assert "密级公文不得通过无纸化传输" in secret.content.decode()
    empty = client.post(url, {}, follow=True)
    assert "请选择要上传的文件" in empty.content.decode()
    assert doc.attachments.count() == 1


def test_attachment_reorder_and_remove(client, clerk_a, make_draft):
    doc = make_draft()
    a = services.add_attachment(actor=clerk_a, doc_id=doc.pk, file=make_pdf(), filename="甲.pdf")
    b = services.add_attachment(actor=clerk_a, doc_id=doc.pk, file=make_ofd(), filename="乙.ofd")
    client.force_login(clerk_a)
    client.post(reverse("web:attachment_change", args=[doc.pk, b.pk, "up"]))
    assert list(doc.attachments.order_by("position").values_list("pk", flat=True)) == [b.pk,
                                                                                      a.pk]
    client.post(reverse("web:attachment_change", args=[doc.pk, a.pk, "remove"]))
    assert list(doc.attachments.values_list("pk", flat=True)) == [b.pk]


def test_body_upload(client, clerk_a, make_draft):
    doc = make_draft()
    client.force_login(clerk_a)
    # One file, compared with itself: a second make_ofd() may carry another zip timestamp.
    uploaded = make_ofd("国务院文件")
    client.post(reverse("web:body_upload", args=[doc.pk]),
                {"file": _upload(uploaded, "国发.ofd")})
    doc.refresh_from_db()
    assert doc.body_source == "file" and doc.body_filename == "国发.ofd"
    response = client.get(reverse("web:document_body_file", args=[doc.pk]))
    assert b"".join(response.streaming_content) == uploaded


def test_live_preview_renders_svg_pages(client, clerk_a, unit_b):
    client.force_login(clerk_a)
    response = client.post(reverse("web:draft_preview"), _form(unit_b), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and "<svg" in page and "第1页" in page
    assert "无纸化传输工作的通知" in page.replace("\n", "")
    assert OfficialDocument.objects.count() == 0


@pytest.mark.parametrize(("over", "message"), [({"body_text": ""}, "正文不能为空"),
                                               ({"secrecy": "绝密"}, "密级公文不得"),
                                               ({"doc_type": "report"}, "签发人")])
def test_live_preview_explains_what_is_missing(client, clerk_a, unit_b, over, message):
    client.force_login(clerk_a)
    response = client.post(reverse("web:draft_preview"), _form(unit_b, **over))
    assert response.status_code == 200 and message in response.content.decode()


def test_approval_queue_approve_and_return(client, head_a, submitted, unit_a):
    first, second = submitted(), submitted(title="关于另一事项的通知")
    client.force_login(head_a)
    page = client.get(reverse("web:approvals")).content.decode()
    assert first.title in page and "关于另一事项的通知" in page and "建设中" not in page
    detail = client.get(reverse("web:document", args=[first.pk])).content.decode()
    assert "核批签发" in detail and "退回修改" in detail
    response = client.post(reverse("web:document_review", args=[first.pk, "approve"]),
                           follow=True)
    assert "已核批签发，发文字号：" in response.content.decode()
    first.refresh_from_db()
    assert first.state == State.APPROVED and first.doc_number.startswith(unit_a.short_name)
    empty = client.post(reverse("web:document_review", args=[second.pk, "return"]),
                        {"comment": ""}, follow=True)
    assert "请填写意见" in empty.content.decode()
    client.post(reverse("web:document_review", args=[second.pk, "return"]),
                {"comment": "请补充时间安排。"})
    second.refresh_from_db()
    assert second.state == State.RETURNED and second.review_comment == "请补充时间安排。"


def test_document_page_downloads_pdf_and_ofd(client, clerk_a, head_a, submitted):
    doc = services.approve(actor=head_a, doc_id=submitted().pk)
    client.force_login(clerk_a)
    page = client.get(reverse("web:document", args=[doc.pk])).content.decode()
    assert doc.doc_number in page and "下载PDF" in page and "下载OFD" in page
    pdf = client.get(reverse("web:document_rendition", args=[doc.pk, "pdf"]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf["Content-Type"] == "application/pdf"
    ofd = client.get(reverse("web:document_rendition", args=[doc.pk, "ofd"]))
    assert ofd.status_code == 200 and ofd.content[:2] == b"PK"
    preview = client.get(reverse("web:document_preview", args=[doc.pk]))
    assert "<svg" in preview.content.decode()
    assert client.get(f"/documents/{doc.pk}/file.doc").status_code == 404


def test_incomplete_document_download_says_why(client, clerk_a, make_draft):
    doc = make_draft(body_text="")
    client.force_login(clerk_a)
    response = client.get(reverse("web:document_rendition", args=[doc.pk, "pdf"]), follow=True)
    assert "无法生成PDF" in response.content.decode()


def _upload(data: bytes, name: str):
    f = io.BytesIO(data)
    f.name = name
    return f


def test_admin_lists_documents_read_only(client, make_draft, django_user_model, unit_a):
    make_draft()
    admin = django_user_model.objects.create_superuser("root", "root@example.com",
                                                       "Root-pass-2006", unit=unit_a)
    client.force_login(admin)
    response = client.get("/admin/documents/officialdocument/")
    assert response.status_code == 200 and "关于推行公文无纸化传输工作的通知" in \
        response.content.decode()
    assert client.get("/admin/documents/officialdocument/add/").status_code == 403
