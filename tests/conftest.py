"""Shared fixtures: a small cast of units and users (healthchecks-style: alice and bob).

unit A (the platform operator unit) and unit B (a county government): each role exists in
both, so every permission can be checked against one's own and another unit.
"""

from __future__ import annotations

import itertools

import pytest

PASSWORD = "Test-pass-2006"


@pytest.fixture(autouse=True, scope="session")
def _audit_checkpoints_apart(tmp_path_factory):
    """No test signs audit checkpoints with, or appends them to the file of, the var dir:
    the key is absent unless a test makes one (tests/apps/test_audit_checkpoints.py)."""
    from django.conf import settings

    where = tmp_path_factory.mktemp("audit")
    settings.GONGWEN["AUDIT_KEY_FILE"] = str(where / "absent.key")
    settings.GONGWEN["AUDIT_CHECKPOINT_FILE"] = str(where / "checkpoints.jsonl")
_codes = itertools.count(1)


@pytest.fixture
def make_unit(db):
    from gongwen.units.models import Kind, Level, Unit

    def make(name: str = "", **fields):
        n = next(_codes)
        defaults = {"code": f"TEST{n:06d}", "name": name or f"测试单位{n}",
                    "short_name": f"测{n}", "level": Level.DEPARTMENT, "kind": Kind.DEPARTMENT}
        defaults.update(fields)
        return Unit.objects.create(**defaults)

    return make


@pytest.fixture
def make_user(db):
    from gongwen.accounts.models import RoleGrant, User

    def make(unit, *roles: str, username: str = "", **fields):
        n = next(_codes)
        user = User(username=username or f"user{n}", full_name=f"用户{n}", unit=unit, **fields)
        user.set_password(PASSWORD)
        user.save()
        for role in roles:
            RoleGrant.objects.create(user=user, role=role)
        return user

    return make


@pytest.fixture
def unit_a(make_unit):
    from gongwen.units.models import Kind, Level

    return make_unit("连云港市人民政府办公室", level=Level.CITY, kind=Kind.GOVERNMENT_OFFICE,
                     is_platform_operator=True, is_seal_authority=True)


@pytest.fixture
def unit_b(make_unit):
    from gongwen.units.models import Kind, Level

    return make_unit("东海县人民政府", level=Level.COUNTY, kind=Kind.GOVERNMENT)


@pytest.fixture
def province(make_unit):
    """江苏省人民政府办公厅: the provincial seal authority (attachment art. 4)."""
    from gongwen.units.models import Kind, Level

    return make_unit("江苏省人民政府办公厅", level=Level.PROVINCE,
                     kind=Kind.GOVERNMENT_OFFICE, is_seal_authority=True)


@pytest.fixture
def province_operator(make_user, province):
    return make_user(province, "operator", username="js_op")


@pytest.fixture
def operator(make_user, unit_a):
    return make_user(unit_a, "operator", username="op")


@pytest.fixture
def clerk_a(make_user, unit_a):
    return make_user(unit_a, "clerk", username="clerk_a")


@pytest.fixture
def clerk_b(make_user, unit_b):
    return make_user(unit_b, "clerk", username="clerk_b")
