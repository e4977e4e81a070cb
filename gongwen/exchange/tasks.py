"""Background work of the exchange (django-tasks, database queue), run by ``gongwen worker``.

Work is handed over with :func:`gongwen.outbox.enqueue` (a transactional outbox on the
database queue; see there); the scheduler's sweep (``services.repair_background_work``)
re-enqueues what a crash lost where the backend is not transactional.

Every task is idempotent, so a worker restart that runs one twice, or a sweep that
re-enqueues it, changes nothing (R-OPS-3)."""

from __future__ import annotations

from django_tasks import task

from gongwen.outbox import enqueue, transactional  # noqa: F401  (used by services, scheduler)


@task()
def notify_dispatch(dispatch_id: int) -> int:
    """Fan-out of 新来文 notices (in-app, e-mail) to the recipients' clerks."""
    from . import paper, services

    paper.match_waiting([dispatch_id])  # paper that came before the dispatch
    return services.notify_dispatch(dispatch_id)


@task()
def notify_dispatches(dispatch_ids: list[int]) -> int:
    """``notify_dispatch`` for a stack dispatched at once (``services.dispatch_many``)."""
    from . import paper, services

    paper.match_waiting(dispatch_ids)
    return sum(services.notify_dispatch(i) for i in dispatch_ids)


@task()
def verify_dispatch(dispatch_id: int) -> int:
    """Verify the dispatched file once and store the report on every pending delivery;
    failures go back to the sender (notice §3(7))."""
    from . import services

    return services.verify_dispatches([dispatch_id])


@task()
def verify_dispatches(dispatch_ids: list[int]) -> int:
    """``verify_dispatch`` for a stack dispatched at once: each file verified once, the
    reports stored in one transaction (``services.verify_dispatches``)."""
    from . import services

    return services.verify_dispatches(dispatch_ids)


@task()
def send_overdue_reminders() -> int:
    """Reminders for deliveries unsigned 24 hours after dispatch (R-FLOW-3, R-FLOW-7)."""
    from . import services

    return services.send_overdue_reminders()


@task()
def email_notifications(ids: list[int]) -> int:
    from . import services

    return services.email_notifications(ids)
