"""草稿 and 待核批 lists (issue 9 item 7): search by title and date, pagination, HTMX,
bad input ignored."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from gongwen.documents.models import OfficialDocument


def test_drafts_search_by_title_and_date(client, clerk_a, clerk_b, make_draft):
    old = make_draft(title="关于做好防汛工作的通知")
    new = make_draft(title="关于安全生产检查的通知")
    theirs = make_draft(actor=clerk_b, main_units=[], title="关于防汛物资的通知")
    OfficialDocument.objects.filter(pk=old.pk).update(
        updated_at=timezone.now() - dt.timedelta(days=30))
    client.force_login(clerk_a)
    url = reverse("web:drafts")
    body = client.get(url, {"q": "防汛"}).content.decode()
    assert old.title in body and new.title not in body and theirs.title not in body
    body = client.get(url, {"from": timezone.localdate().isoformat()}).content.decode()
    assert new.title in body and old.title not in body
    # A search text pasted with a zero-width space finds what it shows (review).
    body = client.get(url, {"q": "防\u200b汛\ufeff"}).content.decode()
    assert old.title in body and new.title not in body
    body = client.get(url, {"q": "安全"}, HTTP_HX_REQUEST="true").content.decode()
    assert new.title in body and "<html" not in body
    for bad in ({"from": "2024-02-30"}, {"page": "abc"}, {"status": "nonsense"}):
        resp = client.get(url, bad)
        assert resp.status_code == 200 and new.title in resp.content.decode()
    # A malformed date is read as not given, and the clerk is told so (also in the rows an
    # HTMX search swaps in); a reversed range is pointed out.
    body = client.get(url, {"from": "2024-02-30"}).content.decode()
    assert "起始日期“2024-02-30”不是有效日期" in body and "已按未填写处理" in body
    body = client.get(url, {"to": "明天"}, HTTP_HX_REQUEST="true").content.decode()
    assert "截止日期“明天”不是有效日期" in body and new.title in body
    body = client.get(url, {"from": "2026-05-02", "to": "2026-05-01"}).content.decode()
    assert "起始日期晚于截止日期" in body
    assert "不是有效日期" not in client.get(url).content.decode()


def test_drafts_are_paginated(client, clerk_a, make_draft):
    for i in range(26):
        make_draft(title=f"关于第{i:02d}项工作的通知")
    client.force_login(clerk_a)
    assert "第 1 / 2 页" in client.get(reverse("web:drafts")).content.decode()


def test_approval_queue_date_range(client, head_a, submitted):
    old, new = submitted(title="关于旧事项的通知"), submitted(title="关于新事项的通知")
    OfficialDocument.objects.filter(pk=old.pk).update(
        submitted_at=timezone.now() - dt.timedelta(days=30))
    client.force_login(head_a)
    url = reverse("web:approvals")
    body = client.get(url, {"from": timezone.localdate().isoformat()}).content.decode()
    assert new.title in body and old.title not in body
    body = client.get(url, {"to": (timezone.localdate() - dt.timedelta(days=5)).isoformat()})
    assert old.title in body.content.decode() and new.title not in body.content.decode()
    resp = client.get(url, {"from": "abc", "page": "x"})
    assert resp.status_code == 200 and new.title in resp.content.decode()
    assert "起始日期“abc”不是有效日期" in resp.content.decode()
