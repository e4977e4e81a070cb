"""No page or API endpoint answers bad input with a server error (the brief: "never a 500
page or a traceback"): every URL crawled (``tests.crawl``) as users of several roles and
units around a dispatched document; U+0000 and unreadable forms refused in Chinese.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from gongwen.accounts.models import Role
from tests.crawl import server_errors, urls


@pytest.fixture
def crawl(cast, dispatched, make_unit, make_user, operator):
    from gongwen.authority.models import Certificate, CertificateAuthority, KeyDisk
    from gongwen.exchange.models import Delivery
    from gongwen.exchange.services import open_delivery

    sent = dispatched()
    delivery = Delivery.objects.get(dispatch=sent, recipient_unit=cast["b"])
    open_delivery(actor=cast["clerk_b"], delivery_id=delivery.pk)
    cert = Certificate.objects.filter(holder=cast["clerk_b"]).first()
    real = {"doc_id": str(sent.document_id), "dispatch_id": str(sent.pk),
            "delivery_id": str(delivery.pk), "unit_id": str(cast["b"].pk),
            "user_id": str(cast["clerk_b"].pk), "group_id": str(cast["group"].pk),
            "cert_id": str(cert.pk), "disk_id": str(KeyDisk.objects.get(certificate=cert).pk),
            "ca": CertificateAuthority.objects.first().slug, "fmt": "pdf", "how": "remove",
            "decision": "approve", "action": "approve"}
    outsider = make_user(make_unit("连云港市统计局"), Role.CLERK, username="outsider")
    users = {"anonymous": None, "sender clerk": cast["clerk_a"], "sender head": cast["head_a"],
             "recipient clerk": cast["clerk_b"], "operator": operator, "outsider": outsider}
    return urls(real), users


def test_no_url_answers_bad_input_with_a_server_error(crawl):
    found, users = crawl
    failures, answered = server_errors(found, users)
    assert len(found) > 100  # the walk found the platform's pages and API
    assert not failures, "\n".join(failures)
    # The requests reached the views: many pages were shown, many inputs refused.
    assert answered[2] > 200 and answered[4] > 1000, answered


def test_a_nul_character_is_refused_in_chinese_before_any_view(cast, dispatched):
    """PostgreSQL cannot store U+0000 in text: a search term, a form field or a JSON string
    carrying one gets a 400 with a Chinese message (the API's error shape under /api/), on
    every database, and changes nothing."""
    from gongwen.exchange.models import Delivery, DeliveryState
    from gongwen.web.middleware import NUL_MESSAGE

    sent = dispatched()
    delivery = Delivery.objects.get(dispatch=sent, recipient_unit=cast["b"])
    client = Client(raise_request_exception=True)  # a database error would raise here
    client.force_login(cast["clerk_b"])
    assert client.get("/inbox/", {"q": "通知"}).status_code == 200
    for response in (client.get("/inbox/", {"q": "通\x00知"}),
                     client.get("/outbox/", {"q\x00": "x"}),
                     client.post(f"/inbox/{delivery.pk}/return/", {"reason": "格式\x00有误"}),
                     client.post(f"/inbox/{delivery.pk}/return/", "reason=%E6%A0%BC%00",
                                 content_type="application/x-www-form-urlencoded")):
        assert response.status_code == 400
        assert NUL_MESSAGE in response.content.decode()
    api = client.post(f"/api/deliveries/{delivery.pk}/return",
                      json.dumps({"reason": "格式\x00有误"}), content_type="application/json",
                      headers={"Idempotency-Key": str(uuid.uuid4())})
    assert api.status_code == 400
    assert api.json() == {"error": "invalid", "message": NUL_MESSAGE}
    assert client.get("/api/inbox", {"q": "\x00"}).json()["message"] == NUL_MESSAGE
    assert Delivery.objects.get(pk=delivery.pk).state == DeliveryState.DELIVERED


def test_an_unreadable_form_is_refused_in_chinese(cast, dispatched):
    """A multipart body Django cannot parse: 400 with a Chinese message, not a 500 and not
    a view that sees an empty form (the API, which reads JSON only, refuses it as not
    JSON)."""
    from gongwen.web.middleware import MALFORMED_MESSAGE

    sent = dispatched()
    client = Client(raise_request_exception=True)
    client.force_login(cast["clerk_a"])
    broken = client.post(f"/outbox/{sent.pk}/withdraw/", b"--x",
                         content_type="multipart/form-data")  # no boundary
    assert broken.status_code == 400 and MALFORMED_MESSAGE in broken.content.decode()
    api = client.post("/api/inbox/sign", b"--x", content_type="multipart/form-data")
    assert api.status_code == 400 and api.json()["error"] == "invalid"
