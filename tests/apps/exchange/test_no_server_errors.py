"""No page or API endpoint answers bad input with a server error (the brief: "never a 500
page or a traceback").

Every URL pattern of the platform (the Django admin aside) is requested, GET and POST, as
an anonymous visitor and as users of several roles and units, with path parameters that
name real objects, objects that do not exist and values of the wrong kind, and with
garbage in the query string and the form. Any answer but a status below 500 fails the
test, which lists every one.
"""

from __future__ import annotations

import collections
import itertools
import json
import re
import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from gongwen.accounts.models import Role

GARBAGE_QUERY = {"page": "abc", "q": "<script>'\"%", "date_from": "2026-13-45",
                 "date_to": "昨天", "unit": "x", "state": "不存在", "kind": "-1",
                 "sort": "'; drop table", "format": "exe"}
GARBAGE_FORM = {"pin": "", "doc_ids": "abc", "delivery_ids": ["x", "-1"], "reason": "",
                "seal_id": "abc", "title": "", "main_units": "x", "key": "not-a-uuid",
                "idempotency_key": "x", "comment": "x" * 5000, "name": "", "code": "!!"}
GARBAGE_JSON = json.dumps({"doc_ids": ["x", None], "delivery_ids": "x", "pin": 7, "reason": None,
                           "key": "not-a-uuid", "title": {"a": 1}, "main_units": ["x"],
                           "outcome": "不存在", "note": "x" * 10000})
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _patterns(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _urls(real: dict[str, str]) -> list[str]:
    """Every pattern filled with each candidate value of its parameters: the real object's
    id where one is known, an id that does not exist and, where the pattern accepts any
    text, a value of the wrong kind."""
    out = []
    for pattern in _patterns(get_resolver().url_patterns):
        if pattern.startswith("admin/"):
            continue
        params = _PARAM.findall(pattern)
        choices = []
        for converter, name in params:
            values = [real.get(name, "1")]
            if converter in ("int", ""):
                values.append("999999")
            if converter in ("str", "slug", ""):
                values.append("x-y")
            choices.append(values)
        for combo in itertools.product(*choices):
            values = iter(combo)
            out.append("/" + _PARAM.sub(lambda _m, v=values: next(v), pattern))
    return sorted(set(out))


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
    return _urls(real), users


def _requests(client: Client, url: str):
    """(label, response) of each request made of ``url``: GET with a garbage query, POST
    with a garbage form and, for the API, POST with JSON of the wrong shape, with broken
    JSON and with a JSON array."""
    yield "GET", client.get(url, GARBAGE_QUERY, HTTP_HX_REQUEST="true")
    yield "POST form", client.post(url, GARBAGE_FORM, HTTP_HX_REQUEST="true")
    if url.startswith("/api/"):
        for body in (GARBAGE_JSON, "{not json", "[]"):
            yield f"POST {body[:10]!r}", client.post(url, body, content_type="application/json")


def test_no_url_answers_bad_input_with_a_server_error(crawl):
    urls, users = crawl
    failures = []
    answered = collections.Counter()
    for who, user in users.items():
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        for url in urls:
            if url.rstrip("/").endswith("logout"):
                continue  # would end the session for the URLs after it
            for label, response in _requests(client, url):
                answered[response.status_code // 100] += 1
                if response.status_code >= 500:
                    failures.append(f"{label} {url} as {who}: {response.status_code}")
    assert len(urls) > 100  # the walk found the platform's pages and API
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
