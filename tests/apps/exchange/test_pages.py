"""Pages and the permission matrix rows of the exchange (R-SEC-1, R-UI-1)."""

from __future__ import annotations

import re
import uuid

import pytest

from gongwen.exchange import services
from gongwen.exchange.models import DeliveryState
from tests.conftest import PASSWORD

from .conftest import PIN

pytestmark = pytest.mark.django_db


def login(client, username):
    assert client.login(username=username, password=PASSWORD)
    return client


def test_inbox_delivery_sign_and_receipt_pages(cast, dispatched, client):
    sent = dispatched()
    d = sent.deliveries.get(recipient_unit=cast["b"])
    login(client, "dhx_clerk")
    inbox = client.get("/inbox/").content.decode()
    assert sent.document.title in inbox and "未签收（1）" in inbox
    assert sent.document.title in client.get("/inbox/", {"q": sent.document.doc_number}) \
        .content.decode()
    assert sent.document.title not in client.get("/inbox/", {"q": "不存在的标题"}) \
        .content.decode()
    page = client.get(f"/inbox/{d.pk}/").content.decode()
    assert "核验通过" in page and "check-ok" in page and 'id="sign-form"' in page
    d.refresh_from_db()
    assert d.state == DeliveryState.OPENED
    assert client.get(f"/inbox/{d.pk}/file/").status_code == 200
    resp = client.post(f"/inbox/{d.pk}/sign/", {"pin": PIN, "key": str(uuid.uuid4())})
    assert resp.status_code == 302
    d.refresh_from_db()
    assert d.state == DeliveryState.SIGNED
    assert client.get(f"/inbox/{d.pk}/receipt.json").status_code == 200
    assert sent.document.title in client.get("/inbox/", {"tab": "signed"}).content.decode()
    client.logout()
    login(client, "sfb_clerk")
    outbox = client.get("/outbox/").content.decode()
    assert sent.document.title in outbox
    detail = client.get(f"/outbox/{sent.pk}/").content.decode()
    assert "已签收" in detail and d.registration_number in detail
    assert client.get(f"/inbox/{d.pk}/receipt.json").status_code == 200
    tracking = client.get("/tracking/").content.decode()
    assert "赣榆县人民政府" in tracking
    assert client.get("/notifications/").status_code == 200
    assert 'id="notify-count"' in client.get("/home/").content.decode()


def test_dispatch_button_on_outbox(cast, sealed_doc, client):
    doc = sealed_doc()
    login(client, "sfb_clerk")
    assert doc.title in client.get("/outbox/").content.decode()
    key = str(uuid.uuid4())
    r1 = client.post(f"/outbox/dispatch/{doc.pk}/", {"key": key})
    r2 = client.post(f"/outbox/dispatch/{doc.pk}/", {"key": key})
    assert r1.status_code == r2.status_code == 302 and r1.url == r2.url
    assert doc.__class__.objects.get(pk=doc.pk).state == "dispatched"


@pytest.mark.parametrize("who,status", [("dhx_clerk", 200), ("dhx_head", 200),
                                        ("sfb_clerk", 200), ("sfb_head", 200),
                                        ("gyx_clerk", 404), ("fgw_clerk", 404)])
def test_delivery_seen_by_sender_and_recipient_only(cast, dispatched, client, who, status):
    sent = dispatched()
    d = sent.deliveries.get(recipient_unit=cast["b"])
    login(client, who)
    assert client.get(f"/inbox/{d.pk}/").status_code == status
    assert client.get(f"/inbox/{d.pk}/file/").status_code == status


def test_other_units_cannot_act(cast, dispatched, client):
    sent = dispatched()
    d = sent.deliveries.get(recipient_unit=cast["b"])
    login(client, "gyx_clerk")
    assert client.post(f"/inbox/{d.pk}/sign/", {"pin": PIN, "key": str(uuid.uuid4())}) \
        .status_code == 404
    assert client.post(f"/inbox/{d.pk}/return/", {"reason": "x", "key": str(uuid.uuid4())}) \
        .status_code == 404
    assert client.get(f"/outbox/{sent.pk}/").status_code == 404
    assert client.post(f"/outbox/{sent.pk}/withdraw/", {"reason": "x"}).status_code == 404
    assert sent.document.title not in client.get("/tracking/").content.decode()
    client.logout()
    # The recipient may not withdraw or follow up; the sender may not sign.
    login(client, "dhx_clerk")
    assert client.post(f"/outbox/{sent.pk}/withdraw/", {"reason": "x"}).status_code == 404
    assert client.post(f"/inbox/{d.pk}/follow-up/", {"how": "phone"}).status_code == 404
    client.logout()
    login(client, "sfb_clerk")
    assert client.post(f"/inbox/{d.pk}/sign/", {"pin": PIN, "key": str(uuid.uuid4())}) \
        .status_code == 404
    d.refresh_from_db()
    assert d.state == DeliveryState.DELIVERED


def test_head_sees_inbox_but_cannot_sign(cast, dispatched, client):
    sent = dispatched()
    d = sent.deliveries.get(recipient_unit=cast["b"])
    login(client, "dhx_head")
    assert client.get("/inbox/").status_code == 200
    assert client.post(f"/inbox/{d.pk}/sign/", {"pin": PIN}).status_code == 403


def test_follow_up_form_with_htmx(cast, dispatched, client):
    sent = dispatched()
    d = sent.deliveries.get(recipient_unit=cast["gyx"])
    login(client, "sfb_clerk")
    resp = client.post(f"/inbox/{d.pk}/follow-up/",
                       {"how": "phone", "contact": "王科长", "note": "已电话催办"},
                       HTTP_HX_REQUEST="true")
    assert resp.status_code == 200 and "王科长" in resp.content.decode()


def test_follow_up_refused_on_the_board_shows_why_and_keeps_the_input(cast, dispatched,
                                                                     client):
    """QA: a 催办时间 in the future was refused with a 400 that htmx does not show: no
    message, no record, and the clerk did not know."""
    from gongwen.exchange.models import FollowUp

    sent = dispatched()
    d = sent.deliveries.get(recipient_unit=cast["gyx"])
    login(client, "sfb_clerk")
    key = str(uuid.uuid4())
    resp = client.post(f"/inbox/{d.pk}/follow-up/",
                       {"how": "visit", "contact": "王科长", "at": "2030-01-01T10:00",
                        "note": "已上门", "key": key}, HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    assert resp.status_code == 200 and "催办时间不能晚于现在" in body
    assert 'value="王科长"' in body and 'value="2030-01-01T10:00"' in body
    assert 'value="已上门"' in body and '<option value="visit" selected>' in body
    assert f'name="key" value="{key}"' in body  # nothing stored under it: the same key
    assert not FollowUp.objects.filter(delivery=d).exists()
    too_long = client.post(f"/inbox/{d.pk}/follow-up/", {"how": "phone", "contact": "王" * 61},
                           HTTP_HX_REQUEST="true").content.decode()
    assert "联系人不能超过 60 字" in too_long and not FollowUp.objects.exists()


def test_follow_up_double_click_records_once_and_the_form_comes_back_fresh(
        cast, dispatched, client):
    """QA: a double click on 登记催办 made two records (the form had no key)."""
    from gongwen.exchange.models import FollowUp

    sent = dispatched()
    d = sent.deliveries.get(recipient_unit=cast["gyx"])
    login(client, "sfb_clerk")
    board = client.get("/tracking/").content.decode()
    key = re.search(rf'action="/inbox/{d.pk}/follow-up/".*?name="key" value="([^"]+)"',
                    board, re.S).group(1)
    form = {"how": "phone", "contact": "王科长", "key": key}
    first = client.post(f"/inbox/{d.pk}/follow-up/", form, HTTP_HX_REQUEST="true")
    second = client.post(f"/inbox/{d.pk}/follow-up/", form, HTTP_HX_REQUEST="true")
    assert FollowUp.objects.filter(delivery=d).count() == 1
    for resp in (first, second):
        body = resp.content.decode()
        assert "催办情况已登记" in body and "王科长" in body
        assert key not in body and 'name="contact"' in body and 'value="王科长"' not in body


def test_follow_up_of_a_signed_delivery_is_refused_not_reported_recorded(cast, dispatched,
                                                                          client):
    from gongwen.exchange.models import FollowUp

    sent = dispatched()
    d = sent.deliveries.get(recipient_unit=cast["b"])
    services.sign_receipt(actor=cast["clerk_b"], delivery_id=d.pk, pin=PIN, key=uuid.uuid4())
    login(client, "sfb_clerk")
    page = client.post(f"/inbox/{d.pk}/follow-up/", {"how": "phone"}, follow=True)
    text = page.content.decode()
    assert "无需催办" in text and "催办情况已登记" not in text
    htmx = client.post(f"/inbox/{d.pk}/follow-up/", {"how": "phone"}, HTTP_HX_REQUEST="true")
    # A 200, so that htmx shows it (it swaps nothing for a 400: QA saw no message at all);
    # no form any more, the delivery being signed.
    body = htmx.content.decode()
    assert htmx.status_code == 200 and 'role="alert"' in body and "无需催办" in body
    assert "<form" not in body
    bad = client.post(f"/inbox/{d.pk}/follow-up/", {"how": "pigeon"}, follow=True)
    assert "催办情况已登记" not in bad.content.decode()
    assert not FollowUp.objects.filter(delivery=d).exists()



def test_outbox_dispatch_forms_post_what_the_page_renders(cast, sealed_doc, client):
    """Regression: each 分发 form carries its own well-formed idempotency key; posting the
    forms exactly as rendered dispatches each document once."""
    import re

    first, second = sealed_doc("第一份通知"), sealed_doc("第二份通知")
    login(client, "sfb_clerk")
    page = client.get("/outbox/").content.decode()
    forms = dict(re.findall(r'action="/outbox/dispatch/(\d+)/".*?name="key" value="([^"]+)"',
                            page))
    assert set(forms) == {str(first.pk), str(second.pk)}
    assert len(set(forms.values())) == 2
    for doc_id, key in forms.items():
        uuid.UUID(key)
        assert client.post(f"/outbox/dispatch/{doc_id}/", {"key": key}).status_code == 302
    for doc in (first, second):
        assert doc.__class__.objects.get(pk=doc.pk).state == "dispatched"
