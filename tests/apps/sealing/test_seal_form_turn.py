"""The 用印 form is offered only where the keeper's unit seals next: a unit that received
the document gets 404 (audited); a document sealed already, not approved, or waiting for
another issuer's seal sends the keeper to its page with the reason (R-SEC-1, R-FLOW-1)."""

from __future__ import annotations

import uuid

from django.urls import reverse

from gongwen.audit.models import AuditEntry
from gongwen.documents import sealing
from gongwen.documents.models import State

from .conftest import PIN


def _seal(doc, keeper, seal, station):
    return sealing.seal_document(actor=keeper, doc_id=doc.pk, seal_id=seal.pk,
                                 workstation_credential=station, pin=PIN)


def _form(client, user, doc):
    client.force_login(user)
    return client.get(reverse("web:sealing_form", args=[doc.pk]))


def test_recipient_units_keeper_gets_404_for_a_received_document(
        client, approved, bureau, keeper_b, seal_b, station_b, keeper_bureau, seal_bureau,
        clerk_b, django_capture_on_commit_callbacks):
    from gongwen.exchange import services as exchange

    doc = approved(main_units=[bureau.pk])
    _seal(doc, keeper_b, seal_b, station_b)
    with django_capture_on_commit_callbacks(execute=True):
        exchange.dispatch(actor=clerk_b, doc_id=doc.pk, key=uuid.uuid4())
    doc.refresh_from_db()
    assert doc.state == State.DISPATCHED
    client.force_login(keeper_bureau)
    assert client.get(reverse("web:document", args=[doc.pk])).status_code == 200  # party
    page = _form(client, keeper_bureau, doc)
    assert page.status_code == 404
    assert seal_bureau.es_id not in page.content.decode()
    assert AuditEntry.objects.filter(action="document.seal_refused", actor=keeper_bureau,
                                     detail__why="not_issuer").exists()
    assert client.post(reverse("web:sealing_form", args=[doc.pk]),
                       {"seal": seal_bureau.pk, "pin": PIN}).status_code == 404


def test_form_is_not_offered_before_the_units_turn_or_after_its_seal(
        client, approved, bureau, keeper_b, seal_b, station_b, keeper_bureau, seal_bureau):
    doc = approved(co_issuers=[bureau.pk])
    detail = reverse("web:document", args=[doc.pk])
    form_url = reverse("web:sealing_form", args=[doc.pk])
    # 联合行文: the co-issuer waits for the lead unit's seal.
    page = _form(client, keeper_bureau, doc)
    assert page.status_code == 302 and page["Location"] == detail
    shown = client.get(detail).content.decode()
    assert "联合行文按发文机关顺序用印" in shown and form_url not in shown
    # The lead unit's keeper has the form until its seal is on.
    assert _form(client, keeper_b, doc).status_code == 200
    assert form_url in client.get(detail).content.decode()
    _seal(doc, keeper_b, seal_b, station_b)
    page = _form(client, keeper_b, doc)
    assert page.status_code == 302
    assert page["Location"] == reverse("web:sealing_report", args=[doc.pk])
    assert form_url not in client.get(detail).content.decode()
    # Now the co-issuer's turn.
    assert _form(client, keeper_bureau, doc).status_code == 200
    assert form_url in client.get(detail).content.decode()


def test_form_is_not_offered_for_a_document_that_is_not_approved(
        client, clerk_b, keeper_b, seal_b, unit_a):
    from gongwen.documents import services

    doc = services.create_draft(actor=clerk_b, doc_type="notice", title="关于报送材料的通知",
                                body_text="正文。", main_units=[unit_a.pk])
    services.submit(actor=clerk_b, doc_id=doc.pk)
    page = _form(client, keeper_b, doc)
    assert page.status_code == 302 and page["Location"] == reverse("web:document",
                                                                   args=[doc.pk])
    assert "只有已核批的公文可以用印" in client.get(page["Location"]).content.decode()
