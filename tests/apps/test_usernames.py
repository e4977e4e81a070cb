"""Usernames are unique whatever their case (SFB.CLERK is sfb.clerk): the operator's page and
service refuse a second one in Chinese, the database refuses it too (a unique index on
LOWER(username)), and the migration that adds the index stops on existing clashes."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from gongwen.accounts import services
from gongwen.accounts.models import Role, User

NEW = {"full_name": "新收发员", "roles": [Role.CLERK], "password": "Abc-12345678"}


@pytest.mark.django_db
def test_operator_page_refuses_a_username_that_differs_only_in_case(client, operator,
                                                                    make_user, unit_b):
    make_user(unit_b, "clerk", username="sfb.clerk")
    client.force_login(operator)
    response = client.post(reverse("web:user_create"),
                           {**NEW, "username": "SFB.CLERK", "unit": unit_b.pk})
    assert response.status_code == 200
    assert ("用户名“SFB.CLERK”已被使用（已有用户“sfb.clerk”，用户名不区分大小写）。"
            in response.content.decode())
    assert list(User.objects.filter(username__iexact="sfb.clerk")
                .values_list("username", flat=True)) == ["sfb.clerk"]


@pytest.mark.django_db
def test_service_refuses_the_same_name_in_the_same_case_as_before(operator, make_user, unit_b):
    make_user(unit_b, "clerk", username="sfb.clerk")
    with pytest.raises(ValidationError, match=re.escape("用户名“sfb.clerk”已被使用。")):
        services.create_user(actor=operator, username="sfb.clerk", unit=unit_b, **NEW)


@pytest.mark.django_db
def test_service_turns_a_lost_race_into_a_chinese_refusal(operator, make_user, unit_b,
                                                          monkeypatch):
    # Another operator's request created the name between the check and the insert.
    make_user(unit_b, "clerk", username="sfb.clerk")
    monkeypatch.setattr(User.objects, "named", lambda name: User.objects.none())
    monkeypatch.setattr(User, "full_clean", lambda self, **kw: None)
    with pytest.raises(ValidationError, match="用户名已被使用（用户名不区分大小写）。"):
        services.create_user(actor=operator, username="Sfb.Clerk", unit=unit_b, **NEW)


@pytest.mark.django_db
def test_database_refuses_a_username_that_differs_only_in_case(make_user, unit_b):
    make_user(unit_b, username="sfb.clerk")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="SFB.Clerk", unit=unit_b)


@pytest.mark.django_db
def test_model_validation_names_the_rule_in_chinese(make_user, unit_b):
    make_user(unit_b, username="sfb.clerk")
    with pytest.raises(ValidationError, match="用户名已被使用（用户名不区分大小写）。"):
        User(username="SFB.CLERK", unit=unit_b, password="!").full_clean()


@pytest.mark.django_db
def test_django_authentication_finds_the_user_whatever_the_case(make_user, unit_b):
    # The admin's login and createsuperuser's check use the manager's natural key.
    user = make_user(unit_b, username="sfb.clerk")
    assert User.objects.get_by_natural_key("SFB.Clerk") == user


def _migrate(target: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


@pytest.mark.django_db(transaction=True)
def test_migration_stops_on_names_that_differ_only_in_case_then_adds_the_index():
    """GIVEN a database before the index, holding Sfb.Clerk and sfb.clerk
    WHEN it is migrated
    THEN the migration stops and names both, changing nothing; once one is renamed it
    adds the index, which then refuses a third spelling (SQLite and PostgreSQL)."""
    before = [("accounts", "0002_initial")]
    after = [("accounts", "0003_username_case_insensitive")]
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        _migrate(before)
        old_user = MigrationExecutor(connection).loader.project_state(before[0]).apps \
            .get_model("accounts", "User")
        old_user.objects.create(username="sfb.clerk", password="!")
        clash = old_user.objects.create(username="Sfb.Clerk", password="!")
        old_user.objects.create(username="other", password="!")
        with pytest.raises(RuntimeError, match=re.escape("Sfb.Clerk, sfb.clerk")):
            _migrate(after)
        clash.username = "sfb.clerk2"
        clash.save()
        _migrate(after)
        with pytest.raises(IntegrityError), transaction.atomic():
            old_user.objects.create(username="SFB.CLERK", password="!")
    finally:
        _migrate(latest)
