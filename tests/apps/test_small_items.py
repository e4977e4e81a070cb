"""Small items of QA backlog 15: a merged unit takes no new users, a disabled user's token
is refused like an unknown one (401), and `gongwen check` warns when the public URL that
certificates carry is the development default."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from gongwen import cli
from gongwen.accounts import services as accounts
from gongwen.accounts.models import Role
from gongwen.units import services as units

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_merged_unit_takes_no_new_users(client, operator, unit_b, make_unit):
    """GIVEN a merged unit WHEN the operator opens its page THEN 新建用户 is not offered, and
    the service refuses such a user in Chinese, naming the unit's state."""
    into = make_unit("东海县新单位", level="county", kind="government")
    units.merge_unit(actor=operator, unit_id=unit_b.pk, into_id=into.pk)
    unit_b.refresh_from_db()
    client.force_login(operator)
    page = client.get(reverse("web:unit_detail", args=[unit_b.pk])).content.decode()
    assert "新建用户" not in page
    with pytest.raises(ValidationError, match="已合并"):
        accounts.create_user(actor=operator, username="late", full_name="迟到", unit=unit_b,
                             roles=[Role.CLERK], password=PASSWORD)


def test_a_disabled_users_token_is_401_even_with_a_session_cookie(client, operator, clerk_b):
    """A request that presents a token is judged by it: a token of a disabled user is 401,
    not a CSRF refusal (403) of the session cookie the client also sent."""
    token = accounts.create_api_token(actor=operator, user_id=clerk_b.pk, name="OA")
    clerk_b.is_active = False
    clerk_b.save()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(operator)
    headers = {"Authorization": f"Bearer {token}"}
    assert browser.post("/api/documents", {}, headers=headers).status_code == 401
    # Nor does a bad token fall back to the session's user.
    assert browser.get("/api/me", headers=headers).status_code == 401


def test_check_warns_without_a_public_url(monkeypatch, capsys):
    monkeypatch.delenv("GONGWEN_PUBLIC_URL", raising=False)
    monkeypatch.delenv("GONGWEN_PUBLIC_URL_FILE", raising=False)
    cli.main(["check"])
    assert "[WARN] GONGWEN_PUBLIC_URL" in capsys.readouterr().out
    monkeypatch.setenv("GONGWEN_PUBLIC_URL", "https://gongwen.example.gov.cn")
    cli.main(["check"])
    assert "[WARN] GONGWEN_PUBLIC_URL" not in capsys.readouterr().out
