"""删除草稿: a draft or a returned document goes with its issuers, recipients, attachments and
reviews, audited with what it was; an approved one stays; another unit's draft does not exist
for the caller; a second click answers calmly. Web page and REST API."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from gongwen.audit.models import AuditEntry
from gongwen.documents import services
from gongwen.documents.models import Attachment, Issuer, OfficialDocument, Recipient, Review

from .conftest import make_pdf

pytestmark = pytest.mark.django_db


def test_a_draft_goes_with_its_parts_and_the_audit_keeps_what_it_was(make_draft, clerk_a):
    doc = make_draft()
    services.add_attachment(actor=clerk_a, doc_id=doc.pk, file=make_pdf(),
                            filename="名单.pdf", title="联网单位名单")
    facts = services.discard_draft(actor=clerk_a, doc_id=doc.pk)
    assert facts["title"] == doc.title and facts["attachments"] == 1
    assert not OfficialDocument.objects.filter(pk=doc.pk).exists()
    for model in (Issuer, Recipient, Attachment):
        assert not model.objects.filter(document_id=doc.pk).exists()
    entry = AuditEntry.objects.get(action="document.discarded")
    assert entry.target_id == str(doc.pk) and entry.detail["title"] == doc.title
    assert entry.actor == clerk_a
    with pytest.raises(Http404):  # a retry finds nothing
        services.discard_draft(actor=clerk_a, doc_id=doc.pk)


def test_a_returned_document_may_go_an_approved_one_stays(submitted, clerk_a, head_a):
    returned = services.return_with_comments(actor=head_a, doc_id=submitted().pk,
                                             comment="请补充工作要求。")
    assert Review.objects.filter(document=returned).exists()
    services.discard_draft(actor=clerk_a, doc_id=returned.pk)
    assert not Review.objects.filter(document_id=returned.pk).exists()
    approved = services.approve(actor=head_a, doc_id=submitted(title="关于开展安全检查的通知").pk)
    with pytest.raises(ValidationError, match="不能删除"):
        services.discard_draft(actor=clerk_a, doc_id=approved.pk)
    pending = submitted(title="关于做好防汛工作的通知")
    with pytest.raises(ValidationError, match="待核批"):
        services.discard_draft(actor=clerk_a, doc_id=pending.pk)
    assert OfficialDocument.objects.filter(pk__in=[approved.pk, pending.pk]).count() == 2


def test_another_units_draft_is_not_there(make_draft, clerk_b, head_a):
    doc = make_draft()
    with pytest.raises(Http404):  # another unit: no such draft for it
        services.discard_draft(actor=clerk_b, doc_id=doc.pk)
    with pytest.raises(PermissionDenied):  # the own unit's head does not draft
        services.discard_draft(actor=head_a, doc_id=doc.pk)
    assert OfficialDocument.objects.filter(pk=doc.pk).exists()
    assert AuditEntry.objects.filter(action="permission.denied").count() == 2


def test_the_page_deletes_and_a_second_click_lands_calmly(client, make_draft, clerk_a):
    doc = make_draft()
    client.force_login(clerk_a)
    page = client.get(f"/drafts/{doc.pk}/").content.decode()
    assert 'id="discard-form"' in page and "删除草稿" in page
    r = client.post(f"/drafts/{doc.pk}/discard/", follow=True)
    assert r.status_code == 200 and f"已删除草稿《{doc.title}》。" in r.content.decode()
    assert not OfficialDocument.objects.filter(pk=doc.pk).exists()
    r = client.post(f"/drafts/{doc.pk}/discard/", follow=True)
    assert r.status_code == 200 and "该草稿已删除或不存在。" in r.content.decode()
    assert client.get(f"/drafts/{doc.pk}/discard/").status_code == 405


def test_the_page_refuses_an_approved_document_in_chinese(client, submitted, clerk_a, head_a):
    doc = services.approve(actor=head_a, doc_id=submitted().pk)
    client.force_login(clerk_a)
    r = client.post(f"/drafts/{doc.pk}/discard/", follow=True)
    assert r.status_code == 200 and "不能删除" in r.content.decode()
    assert OfficialDocument.objects.filter(pk=doc.pk).exists()
