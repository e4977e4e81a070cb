"""用印 queue (issue 9 item 7): search by title / 字号 / drafting unit / approval date,
pagination, HTMX partial, bad input ignored, and a query budget that does not grow with the
number of documents."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from gongwen.documents.models import OfficialDocument
from tests.conftest import PASSWORD


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def _queue(client, **params):
    return client.get(reverse("web:sealing"), params)


def test_filters_narrow_the_queue(client, approved, keeper_b):
    flood = approved(title="关于做好防汛工作的通知")
    safety = approved(title="关于安全生产检查的通知")
    OfficialDocument.objects.filter(pk=flood.pk).update(
        approved_at=timezone.now() - dt.timedelta(days=30))
    _login(client, keeper_b)
    body = _queue(client).content.decode()
    assert flood.title in body and safety.title in body
    body = _queue(client, q="防汛").content.decode()
    assert flood.title in body and safety.title not in body
    body = _queue(client, q=keeper_b.unit.name).content.decode()  # drafting unit
    assert flood.title in body and safety.title in body
    body = _queue(client, q="没有这样的公文").content.decode()
    assert "没有符合条件的待用印公文" in body
    today = timezone.localdate().isoformat()
    body = _queue(client, **{"from": today}).content.decode()
    assert safety.title in body and flood.title not in body
    body = _queue(client, to=(timezone.localdate() - dt.timedelta(days=10)).isoformat())
    assert flood.title in body.content.decode() and safety.title not in body.content.decode()


def test_bad_input_is_ignored_not_a_500(client, approved, keeper_b):
    doc = approved()
    _login(client, keeper_b)
    for params in ({"from": "2024-13-45"}, {"to": "abc"}, {"page": "abc"}, {"page": "999"}):
        resp = _queue(client, **params)
        assert resp.status_code == 200 and doc.title in resp.content.decode()
        assert ("不是有效日期" in resp.content.decode()) == ("page" not in params)


def test_pagination_and_select_all_of_the_page(client, approved, keeper_b):
    docs = [approved(title=f"关于第{i:02d}项工作的通知") for i in range(27)]
    _login(client, keeper_b)
    first = _queue(client, all="1").content.decode()
    assert "第 1 / 2 页" in first and first.count(" checked") == 25
    second = _queue(client, page="2").content.decode()
    assert docs[-1].title in second and docs[0].title not in second
    assert "checked" not in second


def test_another_units_documents_never_appear(client, approved, keeper_b, make_user, unit_a):
    from gongwen.documents import services

    mine = approved()
    clerk = make_user(unit_a, "clerk")
    other = services.create_draft(actor=clerk, doc_type="notice", title="关于甲单位内部工作的通知",
                                  body_text="正文。", main_units=[keeper_b.unit_id])
    _login(client, keeper_b)
    body = _queue(client, q="通知").content.decode()
    assert mine.title in body and other.title not in body


def test_htmx_gets_the_rows_only(client, approved, keeper_b):
    doc = approved()
    _login(client, keeper_b)
    resp = client.get(reverse("web:sealing"), {"q": doc.title}, HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    assert doc.title in body and "批量用印" in body and "<html" not in body


def test_queue_queries_do_not_grow_with_documents(client, approved, keeper_b):
    approved()
    _login(client, keeper_b)
    _queue(client)
    with CaptureQueriesContext(connection) as few:
        assert _queue(client).status_code == 200
    for i in range(6):
        approved(title=f"关于第{i}项工作的通知")
    with CaptureQueriesContext(connection) as many:
        assert _queue(client).status_code == 200
    assert len(many) == len(few)
