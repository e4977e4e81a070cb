"""REST API tokens: the user's own page (issue once, revoke), operator/console issuing via the
service and the `gongwen api-token` CLI; only digests are stored; everything audited."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from gongwen import cli
from gongwen.accounts import services
from gongwen.accounts.models import ApiToken
from gongwen.audit.models import AuditEntry

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r"gw_[A-Za-z0-9_\-]{20,}")


def _me(client, token):
    return client.get("/api/me", headers={"Authorization": f"Bearer {token}"})


def test_page_issues_a_token_once_and_revokes_it(client, clerk_b):
    client.force_login(clerk_b)
    page = client.post("/account/tokens/", {"name": "本单位OA"})
    assert page.status_code == 200
    shown = TOKEN.findall(page.content.decode())
    assert shown, "the new token is shown on the issuing response"
    token = shown[0]
    assert _me(client.__class__(), token).status_code == 200
    again = client.get("/account/tokens/").content.decode()
    assert token not in again and "本单位OA" in again
    row = ApiToken.objects.get(user=clerk_b)
    assert row.digest != token and token not in row.digest
    with connection.cursor() as cur:
        cur.execute("SELECT name, digest FROM accounts_apitoken")
        assert all(token not in " ".join(r) for r in cur.fetchall())

    client.post("/account/tokens/", {"revoke": row.pk})
    row.refresh_from_db()
    assert row.revoked
    assert _me(client.__class__(), token).status_code == 401
    actions = set(AuditEntry.objects.filter(actor=clerk_b).values_list("action", flat=True))
    assert {"api_token.created", "api_token.revoked"} <= actions


def test_page_cannot_revoke_someone_elses_token(client, clerk_a, clerk_b):
    other = services.create_api_token(actor=clerk_a, user_id=clerk_a.pk, name="OA")
    row = ApiToken.objects.get(user=clerk_a)
    client.force_login(clerk_b)
    response = client.post("/account/tokens/", {"revoke": row.pk}, follow=True)
    assert "未找到该令牌" in response.content.decode()
    row.refresh_from_db()
    assert not row.revoked and _me(client.__class__(), other).status_code == 200


def test_page_rejects_bad_input_in_chinese(client, clerk_b):
    client.force_login(clerk_b)
    long = client.post("/account/tokens/", {"name": "长" * 61}).content.decode()
    assert "用途不能超过" in long and not ApiToken.objects.exists()
    junk = client.post("/account/tokens/", {"revoke": "abc"}, follow=True)
    assert junk.status_code == 200 and "请求无效" in junk.content.decode()


def test_only_operators_issue_for_others(clerk_a, clerk_b, operator):
    with pytest.raises(PermissionDenied):
        services.create_api_token(actor=clerk_a, user_id=clerk_b.pk, name="OA")
    assert not ApiToken.objects.filter(user=clerk_b).exists()
    token = services.create_api_token(actor=operator, user_id=clerk_b.pk, name="OA")
    assert ApiToken.objects.get(user=clerk_b).digest == services.token_digest(token)
    with pytest.raises(PermissionDenied):
        services.revoke_api_token(actor=clerk_a, token_id=ApiToken.objects.get(user=clerk_b).pk)


def test_cli_creates_lists_and_revokes(client, clerk_b, capsys):
    assert cli.main(["api-token", "create", clerk_b.username, "--name", "OA接口"]) == 0
    token = capsys.readouterr().out.strip()
    assert TOKEN.fullmatch(token) and _me(client, token).status_code == 200
    row = ApiToken.objects.get(user=clerk_b)
    assert cli.main(["api-token", "list"]) == 0
    listing = capsys.readouterr().out
    assert f"#{row.pk}" in listing and "active" in listing and token not in listing
    assert cli.main(["api-token", "revoke", str(row.pk)]) == 0
    assert cli.main(["api-token", "revoke", str(row.pk)]) == 0  # idempotent
    assert _me(client, token).status_code == 401
    assert AuditEntry.objects.filter(action="api_token.revoked").count() == 1
    assert cli.main(["api-token", "create", "nobody"]) == 2
    assert cli.main(["api-token", "revoke", "999999"]) == 2
