"""POST /api/deliveries/{id}/reply (答复): 201 then 200 for the same key, 403 in Chinese for a
request not yet signed for, 404 for a unit that did not receive it; GET /api/inbox lists the
signed 请示 under to_answer and its count."""

from __future__ import annotations

import uuid

import pytest

from gongwen.documents import services as docs
from gongwen.documents.models import OfficialDocument
from gongwen.exchange import services
from tests.apps.exchange.conftest import put_sealed_rendition

from .conftest import PIN

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_delivery(cast):
    from gongwen.authority import services as authority

    authority.issue_certificate(unit=cast["a"], profile="unit-receipt", holder=cast["clerk_a"],
                                pin=PIN)
    doc = docs.create_draft(actor=cast["clerk_b"], doc_type="request",
                            title="关于申请防汛救灾资金的请示", body_text="妥否，请批示。",
                            signers=["褚立新"], main_units=[cast["a"].pk])
    docs.submit(actor=cast["clerk_b"], doc_id=doc.pk)
    put_sealed_rendition(docs.approve(actor=cast["head_b"], doc_id=doc.pk))
    sent = services.dispatch(actor=cast["clerk_b"], doc_id=doc.pk, key=uuid.uuid4())
    return sent.deliveries.get(recipient_unit=cast["a"])


def test_reply_answers_201_then_200_and_the_inbox_lists_what_waits(api, cast,
                                                                  request_delivery):
    office = api.as_(cast["clerk_a"])
    url = f"/api/deliveries/{request_delivery.pk}/reply"
    r = office.post(url, key=uuid.uuid4())
    assert r.status_code == 403 and "签收后才能答复" in r.json()["message"]
    services.sign_receipt(actor=cast["clerk_a"], delivery_id=request_delivery.pk, pin=PIN,
                          key=uuid.uuid4())
    counts = office.get("/api/inbox/counts").json()
    assert counts["to_answer"] == 1 and counts["signed"] == 1
    listed = office.get("/api/inbox", {"tab": "to_answer"}).json()
    assert [i["id"] for i in listed["items"]] == [request_delivery.pk]
    key = uuid.uuid4()
    first = office.post(url, key=key)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["answers"] == request_delivery.pk and body["state"] == "draft"
    assert body["doc_type"] == "reply" and body["title"] == "关于申请防汛救灾资金的批复"
    again = office.post(url, key=key)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert OfficialDocument.objects.filter(answers=request_delivery).count() == 1


def test_reply_by_a_unit_that_did_not_receive_it_is_404(api, cast, request_delivery):
    for who in ("clerk_b", "clerk_gyx"):
        r = api.as_(cast[who]).post(f"/api/deliveries/{request_delivery.pk}/reply",
                                    key=uuid.uuid4())
        assert r.status_code == 404 and r.json()["message"]
    assert not OfficialDocument.objects.filter(answers=request_delivery).exists()
