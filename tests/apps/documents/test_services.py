"""Verbs on documents: drafts, classification refusals, submit, approve with 发文字号, return."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from gongwen.audit.models import AuditEntry
from gongwen.documents import services
from gongwen.documents.models import (
    Action,
    NumberCounter,
    OfficialDocument,
    Recipient,
    State,
)
from gongwen.policy.permissions import visible_documents

pytestmark = pytest.mark.django_db


def actions(**filters):
    return list(AuditEntry.objects.filter(**filters).order_by("seq")
                .values_list("action", flat=True))


# -- drafts -----------------------------------------------------------------------------------
def test_clerk_creates_a_draft_with_every_element(clerk_a, unit_a, unit_b, make_unit,
                                                   draft_fields):
    co = make_unit("连云港市发展和改革委员会")
    doc = services.create_draft(actor=clerk_a, **draft_fields(
        urgency="特急", copy_number="000001", co_issuers=[co.pk], number_series="函",
        note="联系人：张丽", copy_to_text="市委办公室", printer="连云港市人民政府办公室",
        print_date=dt.date(2006, 7, 18), signature_text="", mark_text=""))
    assert doc.state == State.DRAFT and doc.unit == unit_a and doc.created_by == clerk_a
    assert doc.issuer_names() == [unit_a.name, co.name]
    assert [r.unit for r in doc.recipients_of(Recipient.Role.MAIN)] == [unit_b]
    assert doc.main_recipients_display() == f"{unit_b.name}，市各直属单位"
    assert doc.body[1] == {"heading": "一、目标任务", "text": "", "level": 1}
    assert doc.body[3]["level"] == 2
    assert doc.doc_number == ""
    assert actions(target_id=str(doc.pk)) == ["document.created"]


def test_retry_with_same_key_returns_first_draft(clerk_a, draft_fields):
    key = uuid.uuid4()
    first = services.create_draft(actor=clerk_a, idempotency_key=key, **draft_fields())
    again = services.create_draft(actor=clerk_a, idempotency_key=str(key), **draft_fields())
    assert first.pk == again.pk
    assert OfficialDocument.objects.count() == 1


def test_key_of_another_user_is_not_reused(clerk_a, make_user, unit_a, draft_fields):
    key = uuid.uuid4()
    services.create_draft(actor=clerk_a, idempotency_key=key, **draft_fields())
    other = make_user(unit_a, "clerk")
    with pytest.raises(ValidationError):
        services.create_draft(actor=other, idempotency_key=key, **draft_fields())


def test_head_without_clerk_role_cannot_draft(head_a, draft_fields):
    with pytest.raises(PermissionDenied):
        services.create_draft(actor=head_a, **draft_fields())
    assert actions(action="permission.denied", actor=head_a) == ["permission.denied"]


@pytest.mark.parametrize("doc_type", ["request", "report"])
def test_upward_document_needs_a_signer(clerk_a, draft_fields, doc_type):
    with pytest.raises(ValidationError) as exc:
        services.create_draft(actor=clerk_a, **draft_fields(doc_type=doc_type))
    assert "签发人" in str(exc.value)
    doc = services.create_draft(actor=clerk_a, **draft_fields(doc_type=doc_type,
                                                              signers="王志强、李明华"))
    assert doc.signers == ["王志强", "李明华"]


@pytest.mark.parametrize(("field", "value"), [("copy_number", "12"), ("title", " "),
                                              ("urgency", "紧急"), ("doc_type", "memo")])
def test_invalid_elements_are_refused_in_chinese(clerk_a, draft_fields, field, value):
    with pytest.raises(ValidationError) as exc:
        services.create_draft(actor=clerk_a, **draft_fields(**{field: value}))
    assert any("\u4e00" <= ch <= "\u9fff" for ch in " ".join(exc.value.messages))


# -- classification guard at creation and on save ---------------------------------------------
@pytest.mark.parametrize("over", [{"secrecy": "秘密"}, {"secrecy": "机密", "secrecy_period": "5年"},
                                  {"body_text": "秘密★1年\n正文"},
                                  {"title": "绝密★启用前 关于某事的通知"},
                                  {"note": "密级：机密"}])
def test_classified_draft_is_refused_and_audited(clerk_a, draft_fields, over):
    with pytest.raises(services.ClassifiedRefused) as exc:
        services.create_draft(actor=clerk_a, **draft_fields(**over))
    assert "密级公文不得通过无纸化传输" in exc.value.messages[0]
    assert OfficialDocument.objects.count() == 0
    entry = AuditEntry.objects.get(action="document.classified_refused")
    assert entry.actor == clerk_a and entry.detail["stage"] == "create"


def test_prose_about_secrecy_is_accepted(clerk_a, draft_fields):
    doc = services.create_draft(actor=clerk_a, **draft_fields(
        body_text="各单位要保守国家秘密，执行秘密文件的管理规定。"))
    assert doc.pk


def test_marking_a_saved_draft_is_refused_and_the_draft_kept(clerk_a, make_draft):
    doc = make_draft()
    with pytest.raises(services.ClassifiedRefused):
        services.update_draft(actor=clerk_a, doc_id=doc.pk, body_text="机密★\n正文")
    doc.refresh_from_db()
    assert "机密" not in doc.body_text and doc.revision == 1
    assert actions(target_id=str(doc.pk)) == ["document.created", "document.classified_refused"]


def test_database_refuses_a_classified_row(clerk_a, make_draft):
    from django.db import IntegrityError, transaction

    doc = make_draft()
    with pytest.raises(IntegrityError), transaction.atomic():
        OfficialDocument.objects.filter(pk=doc.pk).update(secrecy="秘密")


# -- editing ----------------------------------------------------------------------------------
def test_update_draft_bumps_revision_and_audits_field_names(clerk_a, make_draft):
    doc = make_draft()
    doc = services.update_draft(actor=clerk_a, doc_id=doc.pk, title="关于调整的通知",
                                expected_revision=1)
    assert doc.revision == 2 and doc.title == "关于调整的通知"
    entry = AuditEntry.objects.get(action="document.updated")
    assert entry.detail["fields"] == ["title"]
    assert "关于调整的通知" not in str(entry.detail)


def test_stale_revision_is_refused(clerk_a, make_draft):
    doc = make_draft()
    services.update_draft(actor=clerk_a, doc_id=doc.pk, title="甲")
    with pytest.raises(ValidationError, match="已被他人修改"):
        services.update_draft(actor=clerk_a, doc_id=doc.pk, title="乙", expected_revision=1)


def test_other_units_clerk_gets_not_found_and_is_audited(clerk_b, make_draft):
    doc = make_draft()
    with pytest.raises(Http404):
        services.update_draft(actor=clerk_b, doc_id=doc.pk, title="篡改")
    denial = AuditEntry.objects.get(action="permission.denied", actor=clerk_b)
    assert denial.detail["why"] == "scope"


def test_recipients_can_be_replaced(clerk_a, make_draft, unit_b, make_unit):
    doc = make_draft()
    c = make_unit("连云港市财政局")
    services.update_draft(actor=clerk_a, doc_id=doc.pk, main_units=[c.pk, unit_b.pk],
                          copy_units=[unit_b.pk])
    assert [r.unit for r in doc.recipients_of("main")] == [c, unit_b]
    assert [r.unit for r in doc.recipients_of("copy")] == [unit_b]


def test_revoked_unit_cannot_be_a_recipient(clerk_a, draft_fields, make_unit):
    gone = make_unit("已撤销单位", state="revoked")
    with pytest.raises(ValidationError, match="不在册"):
        services.create_draft(actor=clerk_a, **draft_fields(main_units=[gone.pk]))


# -- submit, approve, return ------------------------------------------------------------------
def test_submit_needs_a_body_and_recipients(clerk_a, make_draft):
    doc = make_draft(body_text="", main_units=[], main_recipients_text="")
    with pytest.raises(ValidationError) as exc:
        services.submit(actor=clerk_a, doc_id=doc.pk)
    assert "正文不能为空。" in exc.value.messages and "请填写主送机关。" in exc.value.messages


def test_approval_assigns_consecutive_numbers(clerk_a, head_a, submitted, unit_a):
    today = dt.date.today()
    first = services.approve(actor=head_a, doc_id=submitted().pk)
    second = services.approve(actor=head_a, doc_id=submitted().pk)
    letter = services.approve(actor=head_a, doc_id=submitted(number_series="函").pk)
    year = first.number_year
    assert year in (today.year, today.year + 1, today.year - 1)
    assert first.doc_number == f"{unit_a.short_name}发〔{year}〕1号"
    assert second.doc_number == f"{unit_a.short_name}发〔{year}〕2号"
    assert letter.doc_number == f"{unit_a.short_name}函〔{year}〕1号"
    assert first.state == State.APPROVED and first.approved_by == head_a
    assert first.date is not None
    entry = AuditEntry.objects.get(action="document.approved", target_id=str(first.pk))
    assert entry.detail["doc_number"] == first.doc_number


def test_number_format_matches_the_seed_notice(unit_a):
    from gongwen.documents.models import format_doc_number

    assert format_doc_number("连政办发", 2006, 107) == "连政办发〔2006〕107号"


def test_approval_retry_keeps_the_number(head_a, submitted):
    doc = submitted()
    first = services.approve(actor=head_a, doc_id=doc.pk)
    again = services.approve(actor=head_a, doc_id=doc.pk)
    assert again.doc_number == first.doc_number
    assert NumberCounter.objects.get().last == 1


def test_numbers_restart_each_year(head_a, submitted, unit_a):
    import time_machine

    with time_machine.travel(dt.datetime(2006, 12, 31, 12, tzinfo=dt.UTC)):
        a = services.approve(actor=head_a, doc_id=submitted().pk)
    with time_machine.travel(dt.datetime(2007, 1, 2, 12, tzinfo=dt.UTC)):
        b = services.approve(actor=head_a, doc_id=submitted().pk)
    assert a.doc_number.endswith("〔2006〕1号") and b.doc_number.endswith("〔2007〕1号")
    assert a.date == dt.date(2006, 12, 31)


def test_failed_approval_gives_its_number_back(head_a, submitted, monkeypatch):
    doc = submitted()
    real = services.record

    def broken(actor, action, *args, **kwargs):
        if action == "document.approved":
            raise RuntimeError("crash after numbering")
        return real(actor, action, *args, **kwargs)

    monkeypatch.setattr(services, "record", broken)
    with pytest.raises(RuntimeError):
        services.approve(actor=head_a, doc_id=doc.pk)
    monkeypatch.setattr(services, "record", real)
    doc.refresh_from_db()
    assert doc.state == State.SUBMITTED and doc.number_serial is None
    assert services.approve(actor=head_a, doc_id=doc.pk).number_serial == 1  # no gap


def test_clerk_cannot_approve_and_other_head_cannot_see(clerk_a, head_b, submitted):
    doc = submitted()
    with pytest.raises(PermissionDenied):
        services.approve(actor=clerk_a, doc_id=doc.pk)
    with pytest.raises(Http404):
        services.approve(actor=head_b, doc_id=doc.pk)
    doc.refresh_from_db()
    assert doc.state == State.SUBMITTED


def test_a_draft_cannot_be_approved_before_submission(head_a, make_draft):
    doc = make_draft()
    with pytest.raises(ValidationError, match="不能核批签发"):
        services.approve(actor=head_a, doc_id=doc.pk)


def test_return_with_comments_and_resubmit(clerk_a, head_a, submitted):
    doc = submitted()
    with pytest.raises(ValidationError, match="请填写意见"):
        services.return_with_comments(actor=head_a, doc_id=doc.pk, comment=" ")
    doc = services.return_with_comments(actor=head_a, doc_id=doc.pk, comment="第二段请精简。")
    assert doc.state == State.RETURNED and doc.review_comment == "第二段请精简。"
    doc = services.update_draft(actor=clerk_a, doc_id=doc.pk, body_text="精简后的正文。")
    doc = services.submit(actor=clerk_a, doc_id=doc.pk)
    doc = services.approve(actor=head_a, doc_id=doc.pk)
    assert [r.action for r in doc.reviews.order_by("at", "id")] == [Action.RETURN,
                                                                   Action.APPROVE]
    assert actions(target_id=str(doc.pk)) == [
        "document.created", "document.submitted", "document.returned", "document.updated",
        "document.submitted", "document.approved"]


def test_approved_document_is_no_longer_editable(clerk_a, head_a, submitted):
    doc = services.approve(actor=head_a, doc_id=submitted().pk)
    with pytest.raises(ValidationError, match="不能修改"):
        services.update_draft(actor=clerk_a, doc_id=doc.pk, title="改")


def test_withdraw_brings_a_submitted_document_back(clerk_a, submitted):
    doc = services.withdraw(actor=clerk_a, doc_id=submitted().pk)
    assert doc.state == State.DRAFT


def test_submit_retry_is_harmless(clerk_a, make_draft):
    doc = make_draft()
    services.submit(actor=clerk_a, doc_id=doc.pk)
    services.submit(actor=clerk_a, doc_id=doc.pk)
    assert actions(action="document.submitted") == ["document.submitted"]


def test_transition_table_is_the_only_way(make_draft):
    doc = make_draft()
    with pytest.raises(ValidationError):
        doc.apply(Action.DISPATCH)
    assert doc.apply(Action.SUBMIT) == State.SUBMITTED


# -- visibility (R-SEC-1) ---------------------------------------------------------------------
def test_visible_documents_own_unit_co_issuer_and_recipient(make_user, make_draft, unit_a,
                                                            unit_b, make_unit):
    co = make_unit("连云港市财政局")
    outsider = make_unit("连云港市教育局")
    doc = make_draft(co_issuers=[co.pk])
    clerk_a2 = make_user(unit_a, "clerk")
    clerk_b = make_user(unit_b, "clerk")
    clerk_co = make_user(co, "clerk")
    clerk_out = make_user(outsider, "clerk")
    assert doc in visible_documents(clerk_a2)
    assert doc in visible_documents(clerk_co)
    assert doc not in visible_documents(clerk_b)  # a recipient sees nothing before dispatch
    assert doc not in visible_documents(clerk_out)
    OfficialDocument.objects.filter(pk=doc.pk).update(state=State.DISPATCHED)
    assert doc in visible_documents(clerk_b)
    assert doc not in visible_documents(clerk_out)


def test_recipient_through_a_group_sees_a_dispatched_document(make_user, make_draft, unit_b,
                                                              make_unit, clerk_a):
    from gongwen.units.models import RecipientGroup

    member = make_unit("灌云县人民政府")
    group = RecipientGroup.objects.create(name="各县区人民政府")
    group.members.add(member)
    doc = make_draft(main_units=[], main_groups=[group.pk])
    OfficialDocument.objects.filter(pk=doc.pk).update(state=State.DISPATCHED)
    assert doc in visible_documents(make_user(member, "clerk"))
    assert visible_documents(make_user(member, "clerk")).filter(pk=doc.pk).count() == 1


# -- dispatch-time guard, for the verbs of later issues ---------------------------------------
def test_guard_dispatch_refuses_and_audits_inside_a_document_verb(clerk_a, make_draft,
                                                                  blob_dir):
    from gongwen.documents import blobs

    from .conftest import make_ofd

    doc = make_draft()
    att = services.add_attachment(actor=clerk_a, doc_id=doc.pk, file=make_ofd("附件正文"),
                                  filename="a.ofd")
    # Simulate a file whose stored text carries a mark (e.g. a guard rule added later).
    marked = blobs.put(make_ofd("秘密★1年\n附件正文"))
    type(att).objects.filter(pk=att.pk).update(blob=marked.digest)

    @services.document_verb
    def dispatch(*, actor, doc_id):
        d = OfficialDocument.objects.get(pk=doc_id)
        services.guard_dispatch(d, actor=actor)
        OfficialDocument.objects.filter(pk=doc_id).update(state=State.DISPATCHED)
        return d

    with pytest.raises(services.ClassifiedRefused) as exc:
        dispatch(actor=clerk_a, doc_id=doc.pk)
    assert "附件" in exc.value.finding.source
    doc.refresh_from_db()
    assert doc.state == State.DRAFT
    entry = AuditEntry.objects.get(action="document.classified_refused")
    assert entry.detail["stage"] == "dispatch"


def test_audit_labels_are_registered():
    from gongwen.audit.actions import label

    assert label("document.classified_refused") == "拒绝密级公文"
    assert label("document.approved").startswith("核批签发")
