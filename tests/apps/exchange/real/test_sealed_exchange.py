"""The main story on really sealed files: seal (documents.sealing) → dispatch → the
recipient sees the sealing verification and signs; a tampered file is returned."""

from __future__ import annotations

import uuid

import pytest

from gongwen.accounts.models import Role
from gongwen.documents import sealing
from gongwen.exchange import hooks, services
from gongwen.exchange.models import DeliveryState

from .conftest import SEAL_PIN

pytestmark = pytest.mark.django_db
RECEIPT_PIN = "80417326"


def test_sealed_document_is_dispatched_verified_and_signed(
        real_sealing, approved, keeper_b, seal_b, station_b, unit_a, unit_b, make_user):
    from gongwen.authority import services as authority

    unit_a.networked = True
    unit_a.save()
    doc = approved()
    sealing.seal_document(actor=keeper_b, doc_id=doc.pk, seal_id=seal_b.pk,
                          workstation_credential=station_b, pin=SEAL_PIN,
                          idempotency_key=uuid.uuid4())
    sender = make_user(unit_b, Role.CLERK, username="dhx_sender")
    receiver = make_user(unit_a, Role.CLERK, username="sfb_receiver")
    authority.issue_certificate(unit=unit_a, profile="unit-receipt", holder=receiver,
                                pin=RECEIPT_PIN)
    sent = services.dispatch(actor=sender, doc_id=doc.pk, key=uuid.uuid4())
    assert sent.fingerprint.split(":", 1)[1]
    d = sent.deliveries.get(recipient_unit=unit_a)
    d = services.open_delivery(actor=receiver, delivery_id=d.pk)
    report = hooks.Report.from_dict(d.verification)
    assert report.ok, report.reason_zh()
    names = {c.name for c in report.checks}
    assert {"dispatched", "signature", "certificate", "signer_unit"} <= names
    services.sign_receipt(actor=receiver, delivery_id=d.pk, pin=RECEIPT_PIN, key=uuid.uuid4())
    d.refresh_from_db()
    assert d.state == DeliveryState.SIGNED


def test_the_worker_reads_the_register_once_per_stack(
        real_sealing, approved, keeper_b, seal_b, station_b, unit_a, unit_b, make_user):
    """The verification of a 批量分发 shares its database reads (the CA rows, the seal
    register) across the stack: a stack of four costs the statements of a stack of one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    unit_a.networked = True
    unit_a.save()
    sender = make_user(unit_b, Role.CLERK, username="dhx_sender")
    counts = []
    for size in (1, 4):
        docs = [approved(title=f"关于第{size}{i}项工作的通知") for i in range(size)]
        items = sealing.seal_documents(actor=keeper_b, doc_ids=[d.pk for d in docs],
                                       seal_id=seal_b.pk, workstation_credential=station_b,
                                       pin=SEAL_PIN, idempotency_key=uuid.uuid4())
        assert all(i.ok for i in items), items
        sent = services.dispatch_many(actor=sender, doc_ids=[d.pk for d in docs],
                                      key=uuid.uuid4())
        with CaptureQueriesContext(connection) as queries:
            assert services.verify_dispatches([i.result.pk for i in sent]) == size
        counts.append(len(queries))
        for item in sent:
            report = hooks.Report.from_dict(item.result.deliveries.get().verification)
            assert report.ok, report.reason_zh()
    assert counts[0] == counts[1], counts
