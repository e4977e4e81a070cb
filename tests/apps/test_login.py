"""Login with lockout after repeated failures; every outcome audited."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlencode

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from gongwen.accounts import services
from gongwen.accounts.models import Role, User
from gongwen.audit.models import AuditEntry
from tests.conftest import PASSWORD


def _login(client, username, password):
    return client.post(reverse("web:login"), {"username": username, "password": password})


@pytest.mark.django_db
def test_good_login_lands_on_home_and_is_audited(client, clerk_a):
    response = _login(client, "clerk_a", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("web:home")
    assert AuditEntry.objects.filter(action="login.success", actor=clerk_a).exists()
    page = client.get(reverse("web:home")).content.decode()
    assert "工作台" in page and "收文" in page


@pytest.mark.django_db
def test_fifth_failure_locks_the_account(client, clerk_a):
    for _ in range(1, 5):
        response = _login(client, "clerk_a", "wrong")
        assert response.status_code == 401
        assert "用户名或密码错误。连续 5 次输入错误，账户将被锁定 15 分钟。" in response.content.decode()
    response = _login(client, "clerk_a", "wrong")
    assert "已锁定" in response.content.decode()
    clerk_a.refresh_from_db()
    assert clerk_a.is_locked()
    # Even the right password is refused while locked.
    response = _login(client, "clerk_a", PASSWORD)
    assert response.status_code == 401 and "锁定" in response.content.decode()
    actions = list(AuditEntry.objects.filter(actor=clerk_a).order_by("seq")
                   .values_list("action", flat=True))
    assert actions == ["login.failed"] * 4 + ["login.lockout", "login.locked"]


@pytest.mark.django_db
def test_lock_expires(client, clerk_a):
    for _ in range(5):
        _login(client, "clerk_a", "wrong")
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=16), tick=False):
        assert _login(client, "clerk_a", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_operator_unlocks(client, clerk_a, operator):
    for _ in range(5):
        _login(client, "clerk_a", "wrong")
    client.force_login(operator)
    response = client.post(reverse("web:user_unlock", args=[clerk_a.pk]))
    assert response.status_code == 302
    clerk_a.refresh_from_db()
    assert not clerk_a.is_locked()
    assert AuditEntry.objects.filter(action="user.unlocked", actor=operator).exists()
    client.logout()
    assert _login(client, "clerk_a", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_unknown_user_failure_is_audited_with_the_name_tried(client, unit_a):
    response = _login(client, "nobody", "x")
    assert response.status_code == 401 and "用户名或密码错误" in response.content.decode()
    entry = AuditEntry.objects.get(action="login.failed")
    assert entry.detail["username"] == "nobody" and entry.actor is None


@pytest.mark.django_db
def test_logout_requires_post_and_is_audited(client, clerk_a):
    client.force_login(clerk_a)
    assert client.get(reverse("web:logout")).status_code == 405
    assert client.post(reverse("web:logout")).status_code == 302
    assert AuditEntry.objects.filter(action="logout", actor=clerk_a).exists()


@pytest.mark.django_db
def test_open_redirect_is_refused(client, clerk_a):
    response = client.post(reverse("web:login") + "?next=https://evil.example/",
                           {"username": "clerk_a", "password": PASSWORD})
    assert response["Location"] == reverse("web:home")


@pytest.mark.django_db
def test_user_management_is_audited(client, operator, unit_b):
    client.force_login(operator)
    response = client.post(reverse("web:user_create"), {
        "username": "new.clerk", "full_name": "新收发员", "unit": unit_b.pk,
        "roles": [Role.CLERK, Role.SEAL_KEEPER], "password": "Abc-12345678"})
    assert response.status_code == 302, response.content.decode()
    user = User.objects.get(username="new.clerk")
    assert user.roles == {Role.CLERK, Role.SEAL_KEEPER}
    response = client.post(reverse("web:user_edit", args=[user.pk]), {
        "full_name": "新收发员", "unit": unit_b.pk, "roles": [Role.CLERK], "is_active": "on"})
    assert response.status_code == 302
    user = User.objects.get(pk=user.pk)
    assert user.roles == {Role.CLERK}
    roles_change = AuditEntry.objects.get(action="user.roles_changed")
    assert roles_change.detail == {"added": [], "removed": [Role.SEAL_KEEPER]}
    assert AuditEntry.objects.filter(action="user.created").exists()


@pytest.mark.django_db
def test_weak_password_gets_a_chinese_message(client, operator, unit_b):
    client.force_login(operator)
    response = client.post(reverse("web:user_create"), {
        "username": "weak", "full_name": "弱密码", "unit": unit_b.pk, "roles": [Role.CLERK],
        "password": "12345678"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "密码" in page and not User.objects.filter(username="weak").exists()


def _error(response) -> str:
    found = re.search(r'<p class="msg error" role="alert">(.*?)</p>', response.content.decode())
    return found.group(1) if found else ""


@pytest.mark.django_db
def test_wrong_password_and_unknown_username_get_the_same_answer(client, clerk_a, make_user,
                                                                  unit_a):
    """GIVEN an existing account, a disabled one and a name nobody has
    WHEN each is tried with a wrong password (the existing one three times)
    THEN every answer is the same 401 with the same message, which warns of the lockout
    without a count that only an existing account could have."""
    make_user(unit_a, "clerk", username="gone", is_active=False)
    answers = {(r.status_code, _error(r)) for r in (
        _login(client, "clerk_a", "wrong"), _login(client, "clerk_a", "wrong"),
        _login(client, "clerk_a", "wrong"), _login(client, "gone", "wrong"),
        _login(client, "nobody", "wrong"))}
    assert answers == {(401, "用户名或密码错误。连续 5 次输入错误，账户将被锁定 15 分钟。")}
    clerk_a.refresh_from_db()
    assert clerk_a.failed_logins == 3  # the lockout still counts


@pytest.mark.django_db
def test_unknown_username_costs_a_password_hash_too(client, unit_a, monkeypatch):
    # Without a hash for an unknown name, the quicker answer would tell that it is unknown.
    hashed = []
    real = services.authenticate
    monkeypatch.setattr(services, "authenticate",
                        lambda request, **kw: hashed.append(kw["username"]) or real(request, **kw))
    _login(client, "nobody", "wrong")
    assert hashed == ["nobody"]


@pytest.mark.django_db
def test_login_page_warns_of_the_lockout_with_the_configured_limits(client, settings):
    settings.GONGWEN = {**settings.GONGWEN, "LOGIN_MAX_FAILURES": 3, "LOGIN_LOCK_MINUTES": 30}
    page = client.get(reverse("web:login")).content.decode()
    assert "连续 3 次输入错误，账户将被锁定 30 分钟。" in page


@pytest.mark.django_db
def test_username_is_accepted_in_any_case(client, make_user, unit_a):
    user = make_user(unit_a, "clerk", username="sfb.clerk")
    response = _login(client, "  SFB.Clerk ", PASSWORD)
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="login.success", actor=user).exists()


@pytest.mark.django_db
def test_username_in_another_case_counts_towards_the_same_lockout(client, clerk_a):
    for name in ("clerk_a", "CLERK_A", "Clerk_A", "clerk_A", "CLERK_a"):
        _login(client, name, "wrong")
    clerk_a.refresh_from_db()
    assert clerk_a.is_locked()


@pytest.mark.django_db
def test_login_page_reached_from_a_page_says_the_session_expired(client):
    page = client.get(reverse("web:login"), {"next": "/drafts/new/"}).content.decode()
    assert "登录已过期或尚未登录，请重新登录。" in page
    assert 'name="next" value="/drafts/new/"' in page
    assert "登录已过期" not in client.get(reverse("web:login")).content.decode()


@pytest.mark.django_db
def test_a_page_without_login_sends_to_the_login_page_with_the_notice(client):
    response = client.get(reverse("web:draft_create"), follow=True)
    assert response.redirect_chain == [(reverse("web:login") + "?next=/drafts/new/", 302)]
    assert "登录已过期或尚未登录，请重新登录。" in response.content.decode()


@pytest.mark.django_db
def test_next_survives_a_failed_attempt(client, clerk_a):
    url = reverse("web:login") + "?next=/drafts/new/"
    failed = client.post(url, {"username": "clerk_a", "password": "wrong"})
    assert 'name="next" value="/drafts/new/"' in failed.content.decode()
    # The form posts to /login/ without the query: next comes from the hidden field.
    response = client.post(reverse("web:login"), {"username": "clerk_a", "password": PASSWORD,
                                                  "next": "/drafts/new/"})
    assert response["Location"] == "/drafts/new/"


@pytest.mark.django_db
@pytest.mark.parametrize(("target", "landing"), [
    ("/outbox/dispatch/4/", "/outbox/"),         # 分发: a button's address
    ("/drafts/5/submit/", "/drafts/5/"),         # 提交核批
    ("/inbox/3/sign/?x=1", "/inbox/3/"),         # 签收
    ("/logout/", "/home/"),                      # nothing above it but the root
    ("/outbox/?q=通知", "/outbox/?q=通知"),        # a page keeps its query
])
def test_login_never_lands_on_an_address_that_takes_post_only(client, clerk_a, target,
                                                              landing):
    response = client.post(reverse("web:login") + "?" + urlencode({"next": target}),
                           {"username": "clerk_a", "password": PASSWORD})
    assert response.status_code == 302
    assert unquote(response["Location"]) == landing
