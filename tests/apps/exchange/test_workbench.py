"""The 工作台 says what is waiting (QA backlog, exchange pass): each tile the user's role
opens carries its count, and an overdue one says so — 收文 未签收 and 已超时 for the
receiving clerk, 跟踪 超时未签收 for the sender, 待核批 for the head, 发文 待分发 for the
sending clerk. Counts come from the same selectors as the pages."""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse
from django.utils import timezone

from gongwen.documents import services as docs
from gongwen.exchange.models import Delivery


def _tile(client, user, url_name: str) -> str:
    client.force_login(user)
    page = client.get(reverse("web:home")).content.decode()
    found = re.search(rf'<a class="card[^"]*" href="{re.escape(reverse(url_name))}"[^>]*>(.*?)</a>',
                      page, re.S)
    assert found, f"no tile for {url_name}"
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", " ", found.group(1)))


def test_the_receiving_clerk_sees_what_waits_for_a_receipt(client, cast, dispatched):
    dispatched()
    assert "未签收1件" in _tile(client, cast["clerk_b"], "web:inbox")
    Delivery.objects.filter(recipient_unit=cast["b"]).update(
        dispatched_at=timezone.now() - dt.timedelta(hours=30))
    tile = _tile(client, cast["clerk_b"], "web:inbox")
    assert "未签收1件" in tile and "已超时1件" in tile


def test_the_sender_sees_overdue_recipients_and_nothing_when_all_is_done(client, cast,
                                                                         dispatched):
    dispatched()
    assert "超时" not in _tile(client, cast["clerk_a"], "web:tracking")
    Delivery.objects.update(dispatched_at=timezone.now() - dt.timedelta(hours=30))
    overdue = Delivery.objects.filter(paper=False).count()
    assert f"超时未签收{overdue}家" in _tile(client, cast["clerk_a"], "web:tracking")


def test_the_head_sees_the_approval_queue(client, cast):
    doc = docs.create_draft(actor=cast["clerk_a"], doc_type="notice", title="关于某事的通知",
                            body_text="正文。", main_units=[cast["b"].pk])
    assert "件" not in _tile(client, cast["head_a"], "web:approvals")
    docs.submit(actor=cast["clerk_a"], doc_id=doc.pk)
    assert "1件" in _tile(client, cast["head_a"], "web:approvals")


def test_the_sending_clerk_sees_sealed_documents_to_dispatch(client, cast, sealed_doc):
    sealed_doc()
    assert "待分发1件" in _tile(client, cast["clerk_a"], "web:outbox")
