"""201 or 200 is the service's answer (R-OPS-3): a request whose key a concurrent request has
just used answers 200 with the first object, never a second 201.

Each test lets "the other request" run the same verb with the same key right before this
request's verb runs, after the API has parsed the request: the race in which both requests
passed any check made before the verb."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from gongwen.documents.models import OfficialDocument
from gongwen.exchange.models import Dispatch, FollowUp, Receipt

from .conftest import PIN

pytestmark = pytest.mark.django_db


def _raced(monkeypatch, module, name: str):
    """Replace ``module.name`` by a verb that first runs itself once with the same
    arguments (the concurrent request that wins) and then answers this request."""
    verb = getattr(module, name)
    winners = []

    def racing(*args, **kwargs):
        winners.append(verb(*args, **kwargs))
        return verb(*args, **kwargs)

    monkeypatch.setattr(module, name, racing)
    return winners


def test_create_document_raced_by_the_same_key_is_200(api, cast, monkeypatch):
    from gongwen.documents import services as docs

    winners = _raced(monkeypatch, docs, "create_draft")
    r = api.as_(cast["clerk_a"]).post("/api/documents", {
        "doc_type": "notice", "title": "关于并发请求的通知", "body_text": "正文。",
        "main_units": [cast["b"].pk]}, key=uuid.uuid4())
    assert r.status_code == 200, r.content
    assert r.json()["id"] == winners[0].pk
    assert OfficialDocument.objects.filter(title="关于并发请求的通知").count() == 1


def test_a_new_key_is_still_201(api, cast):
    r = api.as_(cast["clerk_a"]).post("/api/documents", {
        "doc_type": "notice", "title": "关于新请求的通知", "body_text": "正文。",
        "main_units": [cast["b"].pk]}, key=uuid.uuid4())
    assert r.status_code == 201, r.content


def test_forward_raced_by_the_same_key_is_200(api, cast, dispatched, monkeypatch):
    from gongwen.documents import forwarding
    from gongwen.exchange import services

    d = dispatched().deliveries.get(recipient_unit=cast["b"])
    services.sign_receipt(actor=cast["clerk_b"], delivery_id=d.pk, pin=PIN, key=uuid.uuid4())
    winners = _raced(monkeypatch, forwarding, "forward_delivery")
    r = api.as_(cast["clerk_b"]).post(f"/api/deliveries/{d.pk}/forward", key=uuid.uuid4())
    assert r.status_code == 200, r.content
    assert r.json()["id"] == winners[0].pk
    assert OfficialDocument.objects.filter(forwards=d).count() == 1


def test_dispatch_raced_by_the_same_key_is_200(api, cast, sealed_doc, monkeypatch):
    from gongwen.exchange import services

    doc = sealed_doc()
    winners = _raced(monkeypatch, services, "dispatch")
    r = api.as_(cast["clerk_a"]).post(f"/api/documents/{doc.pk}/dispatch", key=uuid.uuid4())
    assert r.status_code == 200, r.content
    assert r.json()["id"] == winners[0].pk
    assert Dispatch.objects.filter(document=doc).count() == 1


def test_sign_raced_by_the_same_key_is_200(api, cast, dispatched, monkeypatch):
    from gongwen.exchange import services

    d = dispatched().deliveries.get(recipient_unit=cast["b"])
    winners = _raced(monkeypatch, services, "sign_receipt")
    r = api.as_(cast["clerk_b"]).post(f"/api/deliveries/{d.pk}/sign", {"pin": PIN},
                                      key=uuid.uuid4())
    assert r.status_code == 200, r.content
    assert Receipt.objects.filter(delivery_id=d.pk).get().pk == winners[0].pk


def test_follow_up_raced_by_the_same_key_is_200(api, cast, dispatched, monkeypatch):
    from gongwen.exchange import services

    d = dispatched().deliveries.get(recipient_unit=cast["b"])
    winners = _raced(monkeypatch, services, "record_follow_up")
    r = api.as_(cast["clerk_a"]).post(f"/api/deliveries/{d.pk}/follow-ups",
                                      {"how": "phone", "contact": "王科长"}, key=uuid.uuid4())
    assert r.status_code == 200, r.content
    assert r.json()["id"] == winners[0].pk
    assert FollowUp.objects.filter(delivery=d).count() == 1


def test_follow_up_key_is_checked_under_the_delivery_lock(cast, dispatched, monkeypatch):
    """The concurrent request commits its record while this one waits for the delivery's
    lock: this one then returns that record instead of inserting a second row with the
    same key (a unique violation, a 500)."""
    from gongwen.exchange import services
    from gongwen.policy.errors import was_replayed

    d = dispatched().deliveries.get(recipient_unit=cast["b"])
    key = uuid.uuid4()
    lock = services._lock_delivery
    other = {}

    def lock_after_the_other_request(delivery_id):
        locked = lock(delivery_id)
        if not other:
            other["row"] = FollowUp.objects.create(delivery=locked, how="phone", by=cast["clerk_a"],
                                                   at=timezone.now(), idempotency_key=key)
        return locked

    monkeypatch.setattr(services, "_lock_delivery", lock_after_the_other_request)
    got = services.record_follow_up(actor=cast["clerk_a"], delivery_id=d.pk, how="phone",
                                    key=key)
    assert got.pk == other["row"].pk and was_replayed(got)
    assert FollowUp.objects.filter(idempotency_key=key).count() == 1


def test_follow_up_key_of_another_delivery_is_refused(cast, dispatched):
    from django.core.exceptions import ValidationError

    from gongwen.exchange import services
    from gongwen.policy.errors import KEY_REUSED

    sent = dispatched()
    first, second = sent.deliveries.order_by("pk")[:2]
    key = uuid.uuid4()
    services.record_follow_up(actor=cast["clerk_a"], delivery_id=first.pk, how="phone", key=key)
    with pytest.raises(ValidationError) as caught:
        services.record_follow_up(actor=cast["clerk_a"], delivery_id=second.pk, how="phone",
                                  key=key)
    assert caught.value.code == KEY_REUSED
    assert FollowUp.objects.filter(idempotency_key=key).count() == 1


def test_return_key_is_checked_under_the_delivery_lock(cast, dispatched, monkeypatch):
    """A concurrent 退回 with the same key commits while this one waits for the lock: this
    one answers with that result (replayed), not a state conflict."""
    from django.utils import timezone

    from gongwen.exchange import services
    from gongwen.exchange.models import Delivery, DeliveryState
    from gongwen.policy.errors import was_replayed

    d = dispatched().deliveries.get(recipient_unit=cast["b"])
    key = uuid.uuid4()
    lock = services._lock_delivery

    def lock_after_the_other_request(delivery_id):
        Delivery.objects.filter(pk=delivery_id).update(
            state=DeliveryState.RETURNED, return_key=key, return_reason="数据有误",
            returned_at=timezone.now())
        return lock(delivery_id)

    monkeypatch.setattr(services, "_lock_delivery", lock_after_the_other_request)
    got = services.return_delivery(actor=cast["clerk_b"], delivery_id=d.pk, reason="数据有误",
                                   key=key)
    assert got.pk == d.pk and was_replayed(got) and got.return_reason == "数据有误"


def test_withdraw_key_is_checked_under_the_dispatch_lock(cast, dispatched, monkeypatch):
    from gongwen.exchange import services
    from gongwen.policy.errors import was_replayed

    sent = dispatched()
    key = uuid.uuid4()
    require = services._require

    def the_other_request_committed_meanwhile(actor, perm, obj=None, **kw):
        require(actor, perm, obj, **kw)
        if obj is not None and getattr(obj, "pk", None) == sent.pk:
            obj.withdraw_key = key  # what the locked read shows once the other committed

    monkeypatch.setattr(services, "_require", the_other_request_committed_meanwhile)
    got = services.withdraw(actor=cast["clerk_a"], dispatch_id=sent.pk, reason="有误",
                            key=key)
    assert got.pk == sent.pk and was_replayed(got)
    assert Dispatch.objects.get(pk=sent.pk).withdrawn_at is None  # nothing done twice
