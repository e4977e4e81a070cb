"""A seal's history lists every use (R-SEAL-6), but a document's number and title belong to
the units party to it: the city office, which sees every unit's register, gets the
document's id only for another unit's seal; the unit itself sees number and title (QA
backlog item 6)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gongwen.seals.models import SealEvent

REF = "连人社发〔2026〕7号 关于调整社会保险缴费基数的通知"


@pytest.fixture
def used(seal_bureau, keeper_bureau):
    SealEvent.objects.create(seal=seal_bureau, kind=SealEvent.Kind.USED, user=keeper_bureau,
                             document_id_ref=4711, document_ref=REF)
    return seal_bureau


@pytest.mark.parametrize("page", ["web:seal", "web:seal_history_csv"])
def test_the_city_office_sees_another_units_use_by_id_only(client, used, head_a, page):
    client.force_login(head_a)
    response = client.get(reverse(page, args=[used.pk]))
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "关于调整社会保险缴费基数的通知" not in text and "连人社发" not in text
    assert "公文#4711" in text


@pytest.mark.parametrize("page", ["web:seal", "web:seal_history_csv"])
def test_the_unit_sees_its_own_uses_in_full(client, used, head_bureau, page):
    client.force_login(head_bureau)
    text = client.get(reverse(page, args=[used.pk])).content.decode("utf-8-sig")
    assert "关于调整社会保险缴费基数的通知" in text
