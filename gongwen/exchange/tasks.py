"""Background work of the exchange (django-tasks, database queue): enqueued ``on_commit`` by
the services, run by ``gongwen worker``. Every task is idempotent, so a worker restart that
runs one twice changes nothing (R-OPS-3)."""

from __future__ import annotations

from django_tasks import task


@task()
def notify_dispatch(dispatch_id: int) -> int:
    """Fan-out of 新来文 notices (in-app, e-mail) to the recipients' clerks."""
    from . import services

    return services.notify_dispatch(dispatch_id)


@task()
def verify_dispatch(dispatch_id: int) -> int:
    """Verify every delivery of a dispatch; failures go back to the sender (notice §3(7))."""
    from . import services
    from .models import Delivery, PENDING_STATES

    ids = list(Delivery.objects.filter(dispatch_id=dispatch_id, paper=False,
                                       verified_at__isnull=True,
                                       state__in=PENDING_STATES).values_list("pk", flat=True))
    for delivery_id in ids:
        services.check_delivery(delivery_id=delivery_id)
    return len(ids)


@task()
def send_overdue_reminders() -> int:
    """Reminders for deliveries unsigned 24 hours after dispatch (R-FLOW-3, R-FLOW-7)."""
    from . import services

    return services.send_overdue_reminders()


@task()
def email_notifications(ids: list[int]) -> int:
    from . import services

    return services.email_notifications(ids)
