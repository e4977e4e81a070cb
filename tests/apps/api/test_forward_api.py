"""POST /api/deliveries/{id}/forward (R-FLOW-5) on the exchange cast's stand-in files: 201
then 200 for the same key, 403 before 签收 and 404 for another unit (Chinese messages);
the draft's first attachment is the received file byte for byte."""

from __future__ import annotations

import uuid

import pytest

from gongwen.documents import blobs
from gongwen.documents.models import OfficialDocument
from gongwen.exchange import services

from .conftest import PIN

pytestmark = pytest.mark.django_db


def _delivery(cast, dispatched):
    sent = dispatched()
    return sent, sent.deliveries.get(recipient_unit=cast["b"])


def test_forward_answers_201_then_200_and_carries_the_received_file(api, cast, dispatched):
    sent, d = _delivery(cast, dispatched)
    clerk = api.as_(cast["clerk_b"])
    url = f"/api/deliveries/{d.pk}/forward"
    r = clerk.post(url, key=uuid.uuid4())
    assert r.status_code == 403 and "签收后才能转发" in r.json()["message"]
    services.sign_receipt(actor=cast["clerk_b"], delivery_id=d.pk, pin=PIN, key=uuid.uuid4())
    key = uuid.uuid4()
    first = clerk.post(url, key=key)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["forwards"] == d.pk and body["state"] == "draft"
    assert body["title"] == f"关于转发《{sent.document.title}》的通知"
    assert body["unit"]["id"] == cast["b"].pk
    again = clerk.post(url, key=key)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    doc = OfficialDocument.objects.get(pk=body["id"])
    att = doc.attachments.get(pk=body["attachment_id"])
    assert blobs.read(att.blob) == blobs.read(sent.fingerprint)
    assert OfficialDocument.objects.filter(forwards=d).count() == 1


def test_forward_by_another_unit_is_404(api, cast, dispatched):
    _sent, d = _delivery(cast, dispatched)
    services.sign_receipt(actor=cast["clerk_b"], delivery_id=d.pk, pin=PIN, key=uuid.uuid4())
    for who in ("clerk_gyx", "clerk_a"):  # a county not addressed, the sender
        r = api.as_(cast[who]).post(f"/api/deliveries/{d.pk}/forward", key=uuid.uuid4())
        assert r.status_code == 404 and r.json()["message"]
    r = api.as_(cast["head_b"]).post(f"/api/deliveries/{d.pk}/forward", key=uuid.uuid4())
    assert r.status_code == 403  # a head does not draft
    assert not OfficialDocument.objects.filter(forwards=d).exists()


def test_openapi_lists_the_forward_and_carried_paths(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/deliveries/{delivery_id}/forward" in paths
    assert "/api/deliveries/{delivery_id}/carried/{index}" in paths
    assert "/api/documents/{doc_id}/carried" in paths
