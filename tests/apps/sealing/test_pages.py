"""用印 pages: the keeper's queue, the seal form with the workstation header, the report."""

from __future__ import annotations

from django.urls import reverse

from gongwen.documents.models import State

from tests.conftest import PASSWORD

from .conftest import PIN


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_queue_seal_form_and_report(client, approved, keeper_b, seal_b, station_b, clerk_b):
    doc = approved()
    _login(client, keeper_b)
    detail = client.get(reverse("web:document", args=[doc.pk])).content.decode()
    assert reverse("web:sealing_form", args=[doc.pk]) in detail  # the keeper's 用印 button
    page = client.get(reverse("web:sealing"))
    assert page.status_code == 200 and doc.title in page.content.decode()
    form = client.get(reverse("web:sealing_form", args=[doc.pk]))
    assert form.status_code == 200 and seal_b.es_id in form.content.decode()
    # without the workstation credential: refused with the reason
    bad = client.post(reverse("web:sealing_form", args=[doc.pk]),
                      {"seal": seal_b.pk, "pin": PIN, "key": "k1"})
    assert "专用计算机" in bad.content.decode()
    ok = client.post(reverse("web:sealing_form", args=[doc.pk]),
                     {"seal": seal_b.pk, "pin": PIN},
                     HTTP_X_GONGWEN_WORKSTATION=station_b)
    assert ok.status_code == 302
    doc.refresh_from_db()
    assert doc.state == State.SEALED
    detail = client.get(reverse("web:document", args=[doc.pk])).content.decode()
    assert reverse("web:sealing_report", args=[doc.pk]) in detail  # 验证报告 link
    report = client.get(reverse("web:sealing_report", args=[doc.pk]) + "?format=ofd")
    assert "结论：有效" in report.content.decode()
    client.logout()
    _login(client, clerk_b)  # no seal keeper role: 403
    assert client.get(reverse("web:sealing")).status_code == 403
