"""The worker's scheduler: each tick enqueues the overdue reminders and renews due CRLs."""

from __future__ import annotations

import pytest

from gongwen.exchange import scheduler

pytestmark = pytest.mark.django_db


def test_tick_enqueues_reminders_and_refreshes_crls(settings, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    from gongwen.authority import services as authority

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    calls = []
    monkeypatch.setattr(authority, "refresh_due_crls", lambda **kw: calls.append("crl"))
    scheduler.tick()
    assert calls == ["crl"]
    assert DBTaskResult.objects.filter(task_path__endswith="send_overdue_reminders").exists()


def test_tick_survives_errors(monkeypatch):
    from gongwen.authority import services as authority

    def boom(**kw):
        raise RuntimeError("db down")

    monkeypatch.setattr(authority, "refresh_due_crls", boom)
    scheduler.tick()  # logged, not raised


def test_reminder_task_runs_on_the_database_queue(settings, cast, dispatched):
    """The real backend of the product: the task is stored and survives a restart."""
    from django_tasks_db.models import DBTaskResult

    from gongwen.exchange import tasks

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    tasks.send_overdue_reminders.enqueue()
    assert DBTaskResult.objects.filter(task_path__endswith="send_overdue_reminders").exists()
