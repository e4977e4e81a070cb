"""The permission matrix (R-SEC-1): every page × every role × own/other unit.

GIVEN a user with exactly one role in unit A (the platform operator unit) or unit B
WHEN they open each page (and each object page of unit A and unit B)
THEN they get 200 where the permission layer allows it, 403 for a missing role and 404 for
an object of another unit; every denial is audited. Platform-wide management (a new unit,
the registry's changes, the platform's recipient groups) is the platform operator unit's
operators' only; another unit's operator manages his own unit (QA backlog 4).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from gongwen.accounts.models import Role
from gongwen.audit.models import AuditEntry

# page -> roles allowed (feature pages, no object)
FEATURE_PAGES = {
    "web:inbox": {Role.CLERK, Role.HEAD, Role.LEADER},
    "web:outbox": {Role.CLERK, Role.HEAD, Role.LEADER},
    "web:drafts": {Role.CLERK},
    "web:draft_create": {Role.CLERK},
    "web:approvals": {Role.HEAD, Role.LEADER},
    "web:sealing": {Role.SEAL_KEEPER},
    "web:tracking": {Role.CLERK, Role.HEAD, Role.LEADER},
    "web:seals": {Role.SEAL_KEEPER, Role.HEAD, Role.OPERATOR},
    "web:stats": {Role.HEAD, Role.LEADER, Role.OPERATOR, Role.AUDITOR},
    "web:directory": set(Role.values),
    "web:units": {Role.OPERATOR},
    "web:unit_create": {Role.OPERATOR},
    "web:users": {Role.OPERATOR},
    "web:user_create": {Role.OPERATOR},
    "web:groups": {Role.OPERATOR},
    "web:group_create": {Role.OPERATOR},
    "web:audit": {Role.AUDITOR},
    "web:home": set(Role.values),
}

# Pages of the platform as a whole: operators of the platform operator unit (unit A) only.
PLATFORM_PAGES = {"web:unit_create", "web:groups", "web:group_create"}

API_PAGES = {
    "/api/me": set(Role.values),
    "/api/units": set(Role.values),
    "/api/groups": set(Role.values),
    "/api/audit": {Role.AUDITOR},
}


def _status_for(allowed: bool) -> int:
    return 200 if allowed else 403


@pytest.mark.django_db
@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("home", ["a", "b"])
def test_feature_pages_by_role(client, make_user, unit_a, unit_b, role, home):
    user = make_user(unit_a if home == "a" else unit_b, role)
    client.force_login(user)
    for page, allowed_roles in FEATURE_PAGES.items():
        response = client.get(reverse(page))
        expected = _status_for(role in allowed_roles
                               and (home == "a" or page not in PLATFORM_PAGES))
        assert response.status_code == expected, (page, role, home, response.status_code)
        if expected == 403:
            assert "无权访问" in response.content.decode()
    for path, allowed_roles in API_PAGES.items():
        response = client.get(path)
        assert response.status_code == _status_for(role in allowed_roles), (path, role)


# object pages: (url name, kwargs builder, roles allowed on own unit, roles allowed on other)
def _object_pages(unit, member):
    return {
        reverse("web:unit_detail", args=[unit.pk]): ("view_unit",),
        reverse("web:unit_edit", args=[unit.pk]): ("manage",),
        reverse("web:unit_rename", args=[unit.pk]): ("registry",),
        reverse("web:unit_merge", args=[unit.pk]): ("registry",),
        reverse("web:unit_revoke", args=[unit.pk]): ("registry",),
        reverse("web:user_edit", args=[member.pk]): ("manage",),
        f"/api/units/{unit.pk}": ("view_unit",),
    }


def _expected_object_status(kind: str, role: str, own: bool) -> int:
    """For a user of unit B (a county, not the platform operator unit)."""
    if kind == "registry":  # the platform operator unit's operators only
        return 403
    if kind == "manage" and role != Role.OPERATOR:
        return 403
    # manage: the operator his own unit; view_unit: every role its own unit; else 404
    return 200 if own else 404


@pytest.mark.django_db
@pytest.mark.parametrize("role", Role.values)
def test_object_pages_own_and_other_unit(client, make_user, unit_a, unit_b, role):
    user = make_user(unit_b, role)
    member_b = make_user(unit_b, Role.CLERK)
    member_a = make_user(unit_a, Role.CLERK)
    client.force_login(user)
    for unit, member, own in ((unit_b, member_b, True), (unit_a, member_a, False)):
        for path, (kind,) in _object_pages(unit, member).items():
            response = client.get(path)
            expected = _expected_object_status(kind, role, own)
            assert response.status_code == expected, (path, role, own, response.status_code)


@pytest.mark.django_db
def test_other_units_members_not_listed_in_api(client, make_user, unit_a, unit_b):
    clerk = make_user(unit_b, Role.CLERK)
    make_user(unit_a, Role.HEAD, username="secret_head")
    client.force_login(clerk)
    assert client.get(f"/api/units/{unit_a.pk}").status_code == 404
    assert "secret_head" not in client.get(reverse("web:directory")).content.decode()


@pytest.mark.django_db
def test_denials_are_audited(client, make_user, unit_a, unit_b):
    clerk = make_user(unit_b, Role.CLERK)
    client.force_login(clerk)
    client.get(reverse("web:units"))
    client.get(reverse("web:unit_detail", args=[unit_a.pk]))
    denials = AuditEntry.objects.filter(action="permission.denied", actor=clerk)
    assert sorted(d.detail["why"] for d in denials) == ["role", "scope"]


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client, unit_a):
    for page in FEATURE_PAGES:
        response = client.get(reverse(page))
        assert response.status_code == 302 and "/login/" in response["Location"], page
    assert client.get("/api/me").status_code == 401


@pytest.mark.django_db
def test_inactive_user_gets_nothing(client, make_user, unit_a):
    user = make_user(unit_a, Role.OPERATOR, is_active=False)
    client.force_login(user)
    assert client.get(reverse("web:units")).status_code in (302, 403)


# Document pages (R-SEC-1): own unit, another unit, and a recipient unit (which sees a
# document only once it has been dispatched to it). VIEW = roles with Perm.VIEW_DOCUMENT.
DOC_VIEW_ROLES = {Role.CLERK, Role.HEAD, Role.LEADER, Role.SEAL_KEEPER}


def _document_pages(doc):
    return {
        reverse("web:document", args=[doc.pk]): DOC_VIEW_ROLES,
        reverse("web:document_preview", args=[doc.pk]): DOC_VIEW_ROLES,
        reverse("web:document_rendition", args=[doc.pk, "pdf"]): DOC_VIEW_ROLES,
        reverse("web:draft_edit", args=[doc.pk]): {Role.CLERK},
    }


@pytest.fixture
def documents_cast(make_user, make_unit, unit_a, unit_b, settings, tmp_path):
    from gongwen.documents import services
    from gongwen.documents.models import OfficialDocument, State

    settings.GONGWEN = {**settings.GONGWEN, "BLOB_DIR": str(tmp_path / "blobs")}
    clerk = make_user(unit_a, Role.CLERK)
    fields = {"title": "关于推行公文无纸化传输工作的通知", "body_text": "正文。",
              "main_units": [unit_b.pk]}
    draft = services.create_draft(actor=clerk, **fields)
    sent = services.create_draft(actor=clerk, **fields)
    OfficialDocument.objects.filter(pk=sent.pk).update(state=State.DISPATCHED)
    sent.refresh_from_db()
    return {"draft": draft, "sent": sent, "unit_c": make_unit("连云港市教育局")}


@pytest.mark.django_db
@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("where", ["own", "recipient", "other"])
def test_document_pages_own_recipient_other(client, make_user, unit_a, unit_b, documents_cast,
                                            role, where):
    home = {"own": unit_a, "recipient": unit_b, "other": documents_cast["unit_c"]}[where]
    user = make_user(home, role)
    client.force_login(user)
    for name in ("draft", "sent"):
        doc = documents_cast[name]
        visible = where == "own" or (where == "recipient" and name == "sent")
        for path, allowed_roles in _document_pages(doc).items():
            is_edit = "/drafts/" in path
            if role not in allowed_roles:
                expected = 403
            elif is_edit:
                # Only the drafting unit edits, and only while the document is editable.
                expected = (200 if name == "draft" else 302) if where == "own" else 404
            else:
                expected = 200 if visible else 404
            response = client.get(path)
            assert response.status_code == expected, (path, role, where, name,
                                                      response.status_code)
