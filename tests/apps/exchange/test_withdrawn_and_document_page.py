"""撤回 gives the document its own state (已撤回, or 部分撤回 when some recipients had signed),
a correction is a new document referencing the old one, and the document page shows the
receipts and a timeline: all of it to the sender, only its own delivery to a recipient."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError

from gongwen.audit.models import AuditEntry
from gongwen.documents import services as docs
from gongwen.documents.models import OfficialDocument, State
from gongwen.exchange import selectors, services
from gongwen.exchange.models import DeliveryState, Notification
from tests.conftest import PASSWORD

from .conftest import PIN

pytestmark = pytest.mark.django_db


def login(client, username):
    assert client.login(username=username, password=PASSWORD)
    return client


def delivery_to(sent, unit):
    return sent.deliveries.get(recipient_unit=unit)


def withdraw(cast, sent, key=None, reason="发文字号有误，另行发文"):
    return services.withdraw(actor=cast["clerk_a"], dispatch_id=sent.pk, reason=reason,
                             key=key or uuid.uuid4())


def test_withdraw_before_anyone_signed_makes_the_document_withdrawn(cast, dispatched, client):
    sent = dispatched()
    key = uuid.uuid4()
    withdraw(cast, sent, key)
    doc = OfficialDocument.objects.get(pk=sent.document_id)
    assert doc.state == State.WITHDRAWN and doc.get_state_display() == "已撤回"
    assert set(sent.deliveries.values_list("state", flat=True)) == {DeliveryState.WITHDRAWN}
    entry = AuditEntry.objects.get(action="exchange.withdrawn")
    assert entry.detail["document_state"] == "withdrawn" and entry.detail["already_signed"] == 0
    # Idempotent: the same key returns the first result, nothing is written twice.
    assert withdraw(cast, sent, key).pk == sent.pk
    assert AuditEntry.objects.filter(action="exchange.withdrawn").count() == 1
    with pytest.raises(ValidationError):
        withdraw(cast, sent)  # a second withdrawal with a new key is refused
    assert Notification.objects.filter(user=cast["clerk_gyx"], kind="withdrawn").count() == 1

    # The recipient sees 已撤回 in its inbox, not the document itself.
    d = delivery_to(sent, cast["gyx"])
    login(client, "gyx_clerk")
    tab = client.get("/inbox/", {"tab": "withdrawn"}).content.decode()
    assert doc.title in tab and "已撤回（1）" in tab
    # 已退回 is a tab of its own since issue 9: the withdrawn document is not there.
    assert doc.title not in client.get("/inbox/", {"tab": "returned"}).content.decode()
    assert client.get(f"/documents/{doc.pk}/").status_code == 404
    assert client.get(f"/inbox/{d.pk}/file/").status_code == 404
    client.logout()

    # The sender: lists, the filter and the document page show 已撤回.
    login(client, "sfb_clerk")
    assert "已撤回" in client.get("/outbox/").content.decode()
    assert doc.title in client.get("/outbox/", {"status": "withdrawn"}).content.decode()
    assert doc.title not in client.get("/outbox/", {"status": "partial"}).content.decode()
    page = client.get(f"/documents/{doc.pk}/").content.decode()
    assert "state-withdrawn" in page and "发文字号有误，另行发文" in page
    assert 'id="correct-form"' in page


def test_withdraw_after_a_signature_is_partial(cast, dispatched, client):
    sent = dispatched()
    services.sign_receipt(actor=cast["clerk_b"], delivery_id=delivery_to(sent, cast["b"]).pk,
                          pin=PIN, key=uuid.uuid4())
    withdraw(cast, sent)
    doc = OfficialDocument.objects.get(pk=sent.document_id)
    assert doc.state == State.DISPATCHED
    assert selectors.withdrawal_label(doc, sent.__class__.objects.get(pk=sent.pk)) == "部分撤回"
    login(client, "sfb_clerk")
    assert doc.title in client.get("/outbox/", {"status": "partial"}).content.decode()
    assert doc.title not in client.get("/outbox/", {"status": "withdrawn"}).content.decode()
    assert 'id="partial-withdrawal"' in client.get(f"/documents/{doc.pk}/").content.decode()
    client.logout()
    # 东海县 signed: it keeps the document; 赣榆县 was withdrawn: it no longer sees it.
    login(client, "dhx_clerk")
    assert client.get(f"/documents/{doc.pk}/").status_code == 200
    client.logout()
    login(client, "gyx_clerk")
    assert client.get(f"/documents/{doc.pk}/").status_code == 404


def test_withdrawal_rolls_back_as_a_whole(cast, dispatched, monkeypatch):
    sent = dispatched()

    def boom(*args, **kwargs):
        raise RuntimeError("crash while notifying")

    monkeypatch.setattr(services, "_notify_unit", boom)
    with pytest.raises(RuntimeError):
        withdraw(cast, sent)
    assert OfficialDocument.objects.get(pk=sent.document_id).state == State.DISPATCHED
    assert not sent.deliveries.filter(state=DeliveryState.WITHDRAWN).exists()
    assert not AuditEntry.objects.filter(action="exchange.withdrawn").exists()


def test_correction_of_a_withdrawn_document_from_the_page(cast, dispatched, client):
    sent = dispatched()
    withdraw(cast, sent)
    old = OfficialDocument.objects.get(pk=sent.document_id)
    login(client, "sfb_clerk")
    key = str(uuid.uuid4())
    resp = client.post(f"/documents/{old.pk}/correct/", {"key": key})
    assert resp.status_code == 302
    new = OfficialDocument.objects.get(corrects=old)
    assert resp["Location"] == f"/drafts/{new.pk}/"
    assert client.post(f"/documents/{old.pk}/correct/", {"key": key}).status_code == 302
    assert OfficialDocument.objects.filter(corrects=old).count() == 1  # a double click
    assert new.state == State.DRAFT and new.title == old.title and not new.doc_number
    assert list(new.recipients.values_list("role", "unit_id", "group_id")) == \
        list(old.recipients.values_list("role", "unit_id", "group_id"))
    assert AuditEntry.objects.filter(action="document.correction_started").count() == 1
    assert "corrects-note" in client.get(f"/documents/{new.pk}/").content.decode()
    assert "corrections-note" in client.get(f"/documents/{old.pk}/").content.decode()
    # The correction goes the normal way and is dispatched with its own 字号.
    docs.submit(actor=cast["clerk_a"], doc_id=new.pk)
    new = docs.approve(actor=cast["head_a"], doc_id=new.pk, comment="同意更正")
    assert new.doc_number and new.doc_number != old.doc_number
    client.logout()
    # Neither a recipient nor a draft can be "corrected".
    draft = docs.create_draft(actor=cast["clerk_a"], doc_type="notice", title="草稿",
                              body_text="正文")
    with pytest.raises(ValidationError):
        docs.start_correction(actor=cast["clerk_a"], doc_id=draft.pk)
    from django.http import Http404

    with pytest.raises(Http404):
        docs.start_correction(actor=cast["clerk_b"], doc_id=old.pk)


def test_a_correction_says_so_and_names_the_original_only_to_its_parties(
        cast, dispatched, client, make_unit, make_user, django_capture_on_commit_callbacks):
    """QA: the correction looked like a duplicate to the units that had signed the
    original, while a unit added as 抄送 read the original's title and 字号, a document it
    was never party to."""
    import datetime as dt

    from gongwen.accounts.models import Role

    from .conftest import put_sealed_rendition

    sent = dispatched()
    old = OfficialDocument.objects.get(pk=sent.document_id)
    czj = make_unit("连云港市财政局", networked=True, networked_since=dt.date(2026, 1, 1))
    make_user(czj, Role.CLERK, username="czj_clerk")
    new = docs.start_correction(actor=cast["clerk_a"], doc_id=old.pk)
    docs.update_draft(actor=cast["clerk_a"], doc_id=new.pk, title="关于更正公文无纸化传输有关事项的通知",
                      copy_units=[cast["fgw"].pk, czj.pk])
    docs.submit(actor=cast["clerk_a"], doc_id=new.pk)
    new = docs.approve(actor=cast["head_a"], doc_id=new.pk, comment="同意更正")
    put_sealed_rendition(new)
    with django_capture_on_commit_callbacks(execute=True):
        fixed = services.dispatch(actor=cast["clerk_a"], doc_id=new.pk, key=uuid.uuid4())

    had = Notification.objects.get(user=cast["clerk_b"], link=f"/inbox/{delivery_to(fixed, cast['b']).pk}/")
    assert had.text.startswith("新来文（更正公文）：")
    assert f"更正此前来文《{old.title}》" in had.text
    fresh = Notification.objects.get(user__username="czj_clerk")
    assert fresh.text.startswith("新来文（更正公文）：") and old.title not in fresh.text

    login(client, "dhx_clerk")
    page = client.get(f"/inbox/{delivery_to(fixed, cast['b']).pk}/").content.decode()
    assert "本文为更正公文，更正：" in page and old.doc_number in page
    assert f'href="/inbox/{delivery_to(sent, cast["b"]).pk}/">《{old.title}》</a>（本单位来文）' in page
    assert 'title="本文为更正公文">更正</span>' in client.get("/inbox/").content.decode()
    client.logout()
    login(client, "czj_clerk")
    page = client.get(f"/inbox/{delivery_to(fixed, czj).pk}/").content.decode()
    assert "本文为更正公文。" in page
    assert old.doc_number not in page and old.title not in page
    page = client.get(f"/documents/{new.pk}/")
    assert old.doc_number not in page.content.decode()
    client.logout()
    login(client, "sfb_clerk")
    page = client.get(f"/documents/{new.pk}/").content.decode()
    assert f'<a href="/documents/{old.pk}/">《{old.title}》</a> {old.doc_number}' in page


def test_document_page_receipts_and_timeline_for_sender_and_recipient(cast, dispatched,
                                                                      client):
    sent = dispatched()
    doc = sent.document
    dhx, gyx = delivery_to(sent, cast["b"]), delivery_to(sent, cast["gyx"])
    services.open_delivery(actor=cast["clerk_b"], delivery_id=dhx.pk)
    services.sign_receipt(actor=cast["clerk_b"], delivery_id=dhx.pk, pin=PIN, key=uuid.uuid4())
    services.return_delivery(actor=cast["clerk_gyx"], delivery_id=gyx.pk, reason="非本单位职责",
                             key=uuid.uuid4())
    services.record_follow_up(actor=cast["clerk_a"], delivery_id=delivery_to(sent, cast["gn"]).pk,
                              how="phone", contact="王科长", note="已电话通知", key=uuid.uuid4())
    dhx.refresh_from_db()

    events = selectors.document_timeline(cast["clerk_a"], doc)
    kinds = [e.kind for e in events]
    for kind in ("created", "submitted", "approved", "dispatched", "opened", "signed",
                 "returned_by_recipient", "follow_up"):
        assert kind in kinds, kind
    assert kinds.index("created") < kinds.index("approved") < kinds.index("dispatched") \
        < kinds.index("signed")
    assert [e.at for e in events] == sorted(e.at for e in events)
    approved = next(e for e in events if e.kind == "approved")
    assert approved.detail == "意见：同意"
    signed = next(e for e in events if e.kind == "signed")
    assert signed.unit == cast["b"].name and dhx.registration_number in signed.detail

    login(client, "sfb_clerk")
    page = client.get(f"/documents/{doc.pk}/").content.decode()
    assert 'id="timeline-list"' in page and 'id="tracking-link"' in page
    assert f"/inbox/{dhx.pk}/receipt.json" in page and dhx.registration_number in page
    assert "非本单位职责" in page and "赣榆县人民政府" in page and "王科长" in page
    assert client.get(f"/inbox/{dhx.pk}/receipt.json").status_code == 200
    client.logout()

    # The recipient: its own delivery only — no approval, no other recipients, no follow-ups.
    mine = selectors.document_timeline(cast["clerk_b"], doc)
    assert {e.kind for e in mine} == {"delivered", "opened", "signed"}
    assert {e.unit for e in mine} == {cast["b"].name}
    login(client, "dhx_clerk")
    page = client.get(f"/documents/{doc.pk}/").content.decode()
    assert dhx.registration_number in page and 'id="timeline-list"' in page
    for other in ("赣榆县人民政府", "非本单位职责", "王科长", "tracking-link", "意见：同意"):
        assert other not in page, other


def test_outbox_search_by_unit_keeps_the_counts(cast, dispatched, client):
    sent = dispatched()
    login(client, "sfb_clerk")
    qs = selectors.outbox_for(cast["clerk_a"], q="县")  # matches three recipients
    row = qs.get()
    assert row.pk == sent.pk and row.total == 5 and row.n_pending == 5
    assert selectors.outbox_for(cast["clerk_a"], "open").get().pk == sent.pk
    assert not selectors.outbox_for(cast["clerk_a"], "returned").exists()
    page = client.get("/outbox/", {"q": "赣榆", "status": "open"}).content.decode()
    assert sent.document.title in page


def test_follow_up_time_and_safe_redirect(cast, dispatched, client):
    sent = dispatched()
    d = delivery_to(sent, cast["gyx"])
    login(client, "sfb_clerk")
    resp = client.post(f"/inbox/{d.pk}/follow-up/", {"how": "phone", "at": "2026-11-26T09:30",
                                                      "contact": "王科长",
                                                      "next": "https://evil.example/"})
    assert resp.status_code == 302 and resp["Location"] == "/tracking/"
    item = d.follow_ups.get()
    assert item.at.isoformat().startswith("2026-11-26T")
    resp = client.post(f"/inbox/{d.pk}/follow-up/", {"how": "phone", "at": "昨天"})
    assert resp.status_code == 302 and d.follow_ups.count() == 1


def test_approval_queue_search(cast, client):
    for title in ("关于春节值班的通知", "关于防汛工作的通知"):
        doc = docs.create_draft(actor=cast["clerk_a"], doc_type="notice", title=title,
                                body_text="正文", main_units=[cast["b"].pk])
        docs.submit(actor=cast["clerk_a"], doc_id=doc.pk)
    login(client, "sfb_head")
    page = client.get("/approvals/", {"q": "防汛"}).content.decode()
    assert "关于防汛工作的通知" in page and "关于春节值班的通知" not in page


def test_withdrawing_from_approval_is_not_withdrawing_a_dispatch(cast, dispatched, client):
    """The drafter's 撤回 (submitted → draft) never applies to a dispatched document: only
    the exchange's withdraw() moves it to 已撤回, together with its deliveries."""
    from gongwen.documents.models import InvalidTransition

    sent = dispatched()
    with pytest.raises(InvalidTransition):
        docs.withdraw(actor=cast["clerk_a"], doc_id=sent.document_id)
    assert OfficialDocument.objects.get(pk=sent.document_id).state == State.DISPATCHED
    login(client, "sfb_clerk")
    page = client.get(f"/documents/{sent.document_id}/").content.decode()
    assert f"/drafts/{sent.document_id}/withdraw/" not in page


def test_timeline_queries_do_not_grow_with_receipts_and_follow_ups(cast, dispatched):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sent = dispatched()
    doc = OfficialDocument.objects.get(pk=sent.document_id)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            selectors.document_timeline(cast["clerk_a"], doc)
        return len(ctx.captured_queries)

    services.record_follow_up(actor=cast["clerk_a"], how="phone", key=uuid.uuid4(),
                              delivery_id=delivery_to(sent, cast["gn"]).pk)
    before = queries()
    services.sign_receipt(actor=cast["clerk_b"], delivery_id=delivery_to(sent, cast["b"]).pk,
                          pin=PIN, key=uuid.uuid4())
    services.sign_receipt(actor=cast["clerk_gyx"], pin=PIN, key=uuid.uuid4(),
                          delivery_id=delivery_to(sent, cast["gyx"]).pk)
    for unit in ("gn", "fgw"):
        services.record_follow_up(actor=cast["clerk_a"], how="phone", key=uuid.uuid4(),
                                  delivery_id=delivery_to(sent, cast[unit]).pk)
    assert queries() == before
