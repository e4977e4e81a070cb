"""No lost background work (R-OPS-3): with the database queue the follow-up tasks are written
in the verb's own transaction (a transactional outbox); with any other backend they are
enqueued on commit, and the scheduler's sweep re-enqueues what a crash in between lost."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from gongwen.documents.models import State
from gongwen.exchange import scheduler, services, tasks
from gongwen.exchange.models import Delivery, Dispatch, Notification

pytestmark = pytest.mark.django_db

DB_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _queued_paths():
    """The exchange's queued tasks (the documents app's prerender task, written when the
    fixtures approve a document, is not the exchange's)."""
    from django_tasks_db.models import DBTaskResult

    return sorted(name for name in (p.rsplit(".", 1)[1] for p in
                  DBTaskResult.objects.values_list("task_path", flat=True))
                  if name != "prerender_document")


def _tasks(callbacks):
    """The on_commit callbacks that enqueue work (not the audit trail's savepoint markers)."""
    from gongwen.audit.services import _Marker

    return [c for c in callbacks if not isinstance(c, _Marker)]


def test_database_queue_rows_are_written_inside_the_dispatch_transaction(
        settings, cast, sealed_doc, django_capture_on_commit_callbacks):
    settings.TASKS = DB_QUEUE
    doc = sealed_doc()
    with django_capture_on_commit_callbacks() as callbacks:
        sent = services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=uuid.uuid4())
    # Nothing waits for the commit: the task rows are already there, in the same transaction.
    assert _tasks(callbacks) == []
    assert _queued_paths() == ["notify_dispatch", "verify_dispatch"]
    assert tasks.transactional(tasks.notify_dispatch)
    assert sent.deliveries.count() == 5


def test_rollback_of_the_verb_leaves_no_task(settings, cast, sealed_doc, monkeypatch):
    settings.TASKS = DB_QUEUE
    doc = sealed_doc()

    class CrashingTask:
        backend = "default"

        def enqueue(self, *args):
            raise RuntimeError("process died")

    # notify_dispatch's row is written, then the process "dies" before the verb returns.
    monkeypatch.setattr(tasks, "verify_dispatch", CrashingTask())
    with pytest.raises(RuntimeError):
        services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=uuid.uuid4())
    assert _queued_paths() == []
    assert not Dispatch.objects.exists() and not Delivery.objects.exists()
    doc.refresh_from_db()
    assert doc.state == State.SEALED


def test_other_backends_enqueue_on_commit(cast, sealed_doc, django_capture_on_commit_callbacks):
    """The immediate backend would run the task before the data is committed: on commit."""
    assert not tasks.transactional(tasks.notify_dispatch)
    doc = sealed_doc()
    with django_capture_on_commit_callbacks() as callbacks:
        services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=uuid.uuid4())
    assert len(_tasks(callbacks)) == 2
    assert not Notification.objects.exists()


def test_sweep_repairs_work_lost_between_commit_and_enqueue(
        cast, sealed_doc, monkeypatch, django_capture_on_commit_callbacks):
    doc = sealed_doc()
    with monkeypatch.context() as crash:
        # The process dies after the commit, before the on_commit callbacks ran.
        crash.setattr(transaction, "on_commit", lambda *args, **kwargs: None)
        sent = services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=uuid.uuid4())
    networked = sent.deliveries.filter(paper=False)
    assert not Notification.objects.exists()
    assert not networked.filter(verified_at__isnull=False).exists()
    assert mail.outbox == []

    # Too early: work younger than SWEEP_MINUTES may still be on its way.
    assert scheduler.sweep() == {"notify": 0, "verify": 0, "email": 0}

    later = timezone.now() + dt.timedelta(minutes=11)
    with django_capture_on_commit_callbacks(execute=True):
        first = scheduler.sweep(now=later)
    assert first == {"notify": 1, "verify": 1, "email": 0}
    users = set(Notification.objects.filter(kind="incoming")
                .values_list("user__username", flat=True))
    assert users == {"dhx_clerk", "gyx_clerk", "gn_clerk", "fgw_clerk"}
    assert not networked.filter(verified_at__isnull=True).exists()
    assert {m.to[0] for m in mail.outbox} == {"dhx@example.gov.cn", "gyx@example.gov.cn"}

    notices, mails = Notification.objects.count(), len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        second = scheduler.sweep(now=later)
    assert second == {"notify": 0, "verify": 0, "email": 0}
    assert Notification.objects.count() == notices and len(mail.outbox) == mails


def test_sweep_resends_lost_mail_once(cast, dispatched, monkeypatch):
    dispatched()
    # A crash before the e-mail task ran: the notices exist, the mails never went out.
    Notification.objects.update(emailed_at=None)
    mail.outbox.clear()
    later = timezone.now() + dt.timedelta(minutes=11)
    assert scheduler.sweep(now=later)["email"] == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["dhx@example.gov.cn", "gyx@example.gov.cn"]
    assert scheduler.sweep(now=later)["email"] == 0
    assert len(mail.outbox) == 2


def test_sweep_skips_work_already_waiting_on_the_database_queue(settings, cast, sealed_doc):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DB_QUEUE
    doc = sealed_doc()
    services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=uuid.uuid4())
    later = timezone.now() + dt.timedelta(minutes=11)
    # The worker is behind, nothing is lost: the queued tasks are not enqueued again.
    assert scheduler.sweep(now=later) == {"notify": 0, "verify": 0, "email": 0}
    # The rows are gone (e.g. a queue wiped by hand): the sweep enqueues each once.
    DBTaskResult.objects.all().delete()
    assert scheduler.sweep(now=later) == {"notify": 1, "verify": 1, "email": 0}
    assert scheduler.sweep(now=later) == {"notify": 0, "verify": 0, "email": 0}
    assert _queued_paths() == ["notify_dispatch", "verify_dispatch"]


def test_tick_does_not_pile_up_reminder_tasks(settings, monkeypatch):
    from gongwen.authority import services as authority

    settings.TASKS = DB_QUEUE
    monkeypatch.setattr(authority, "refresh_due_crls", lambda **kw: None)
    scheduler.tick()
    scheduler.tick()
    assert _queued_paths() == ["send_overdue_reminders"]


def test_sweep_replaces_a_task_left_running_by_a_dead_worker(settings, cast, sealed_doc):
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DB_QUEUE
    doc = sealed_doc()
    services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=uuid.uuid4())
    now = timezone.now()
    # A busy worker picked both tasks up 20 minutes later: still running 5 minutes after.
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING,
                                started_at=now + dt.timedelta(minutes=20))
    later = now + dt.timedelta(minutes=25)
    assert scheduler.sweep(now=later) == {"notify": 0, "verify": 0, "email": 0}
    # The worker was killed: the rows stay RUNNING; SWEEP_MINUTES later they count as dead.
    much_later = now + dt.timedelta(minutes=45)
    assert scheduler.sweep(now=much_later) == {"notify": 1, "verify": 1, "email": 0}
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 2
    assert scheduler.sweep(now=much_later) == {"notify": 0, "verify": 0, "email": 0}
