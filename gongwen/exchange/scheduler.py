"""The worker's periodic loop: every N minutes enqueue the overdue reminders, sweep for lost
background work (``sweep``), renew CRLs that are due
(``gongwen.authority.services.refresh_due_crls``) and sign a checkpoint of the audit chain's
head if it moved (``gongwen.audit.services.make_checkpoint``). Restart-safe: reminders are
idempotent per delivery, the sweep only re-enqueues work whose effect is missing and not
already queued, CRL renewal only acts when a CRL is due, a checkpoint only when the head
moved."""

from __future__ import annotations

import datetime as dt
import logging
import threading

log = logging.getLogger("gongwen.scheduler")


def interval_minutes() -> float:
    from django.conf import settings

    return float(getattr(settings, "GONGWEN", {}).get("SCHEDULER_MINUTES", 5))


def tick() -> None:
    """One round; errors are logged, never fatal to the worker."""
    from django.db import close_old_connections, connection
    from django.utils import timezone

    def tidy() -> None:
        # A long-lived thread drops broken or expired connections between rounds.
        if not connection.in_atomic_block:
            close_old_connections()

    tidy()
    try:
        from . import tasks

        stale = timezone.now() - dt.timedelta(minutes=sweep_minutes())
        if not queued(tasks.send_overdue_reminders, running_since=stale):
            tasks.send_overdue_reminders.enqueue()
    except Exception:  # the next tick tries again
        log.exception("could not enqueue overdue reminders")
    try:
        sweep()
    except Exception:  # the next tick tries again
        log.exception("background work sweep failed")
    try:
        from gongwen.authority import services as authority
    except ImportError:
        authority = None
    refresh = getattr(authority, "refresh_due_crls", None)
    if refresh is not None:
        try:
            refresh()
        except Exception:
            log.exception("CRL refresh failed")
    try:
        from gongwen.audit.services import make_checkpoint

        make_checkpoint()  # signs the audit chain's head if it moved (R-AUDIT-1)
    except Exception:
        log.exception("audit checkpoint failed")
    tidy()


def start(stop: threading.Event | None = None, minutes: float | None = None
          ) -> tuple[threading.Thread, threading.Event]:
    stop = stop or threading.Event()
    period = max(float(minutes if minutes is not None else interval_minutes()), 0.05) * 60

    def loop() -> None:
        while not stop.is_set():
            tick()
            stop.wait(period)

    thread = threading.Thread(target=loop, name="gongwen-scheduler", daemon=True)
    thread.start()
    return thread, stop


# -- the safety net for lost background work --------------------------------------------------
def sweep_minutes() -> float:
    """Work older than this whose effect is missing counts as lost (GONGWEN["SWEEP_MINUTES"])."""
    from django.conf import settings

    return float(getattr(settings, "GONGWEN", {}).get("SWEEP_MINUTES", 10))


def _pending_args(task_obj, running_since: dt.datetime | None = None) -> list | None:
    """The argument lists of ``task_obj`` runs still waiting (READY) or running on the
    database queue; None when the backend keeps no queue we can read (then nothing counts as
    queued). A run RUNNING since before ``running_since`` belonged to a worker that died
    (the queue leaves such rows RUNNING): it does not count, so the sweep enqueues again."""
    from django.db.models import Q
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from . import tasks

    if not tasks.transactional(task_obj):
        return None
    running = Q(status=TaskResultStatus.RUNNING)
    if running_since is not None:
        running &= Q(started_at__gte=running_since)
    rows = DBTaskResult.objects.filter(Q(status=TaskResultStatus.READY) | running,
                                       task_path=task_obj.module_path) \
        .values_list("args_kwargs", flat=True)
    return [(row or {}).get("args", []) for row in rows]


def queued(task_obj, *args, running_since: dt.datetime | None = None) -> bool:
    """True if ``task_obj(*args)`` already waits (or runs) on the database queue."""
    pending = _pending_args(task_obj, running_since)
    return pending is not None and list(args) in pending


def sweep(now: dt.datetime | None = None, minutes: float | None = None) -> dict[str, int]:
    """Re-enqueue background work whose effect is missing ``minutes`` after it was due:

    * a dispatch with a pending networked delivery whose unit has clerks but no 新来文
      notice → ``notify_dispatch``;
    * a dispatch with a pending networked delivery never verified → ``verify_dispatch``;
      (a dispatch waiting in a stack's ``notify_dispatches``/``verify_dispatches`` counts as
      queued);
    * notifications of the last day not e-mailed although e-mail is on → ``email_notifications``.

    Tasks already waiting on the queue are not enqueued again and every task is idempotent, so
    a second sweep right after the first enqueues nothing. Returns what was enqueued."""
    from django.utils import timezone

    from gongwen.accounts.models import Role, User

    from . import services, tasks
    from .models import PENDING_STATES, Delivery, Notification

    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=sweep_minutes() if minutes is None else minutes)
    open_ = Delivery.objects.filter(state__in=PENDING_STATES, paper=False,
                                    dispatched_at__lte=cutoff)
    to_verify = set(open_.filter(verified_at__isnull=True).values_list("dispatch_id", flat=True))

    candidates = list(open_.values_list("pk", "dispatch_id", "recipient_unit_id",
                                        "dispatched_at"))
    to_notify: set[int] = set()
    if candidates:
        staffed = set(User.objects.filter(unit_id__in={c[2] for c in candidates},
                                          is_active=True, role_grants__role=Role.CLERK)
                      .values_list("unit_id", flat=True))
        # 新来文 notices are made after the dispatch: only those can belong to a candidate.
        noticed = {dedup.split(":")[1] for dedup in Notification.objects.filter(
            kind=Notification.Kind.INCOMING, unit_id__in=staffed,
            created_at__gte=min(c[3] for c in candidates)).values_list("dedup_key", flat=True)}
        to_notify = {dispatch_id for pk, dispatch_id, unit, _ in candidates
                     if unit in staffed and str(pk) not in noticed}

    to_email: list[int] = []
    if services.email_enabled():
        to_email = list(Notification.objects.filter(
            emailed_at__isnull=True, created_at__lte=cutoff,
            created_at__gte=now - dt.timedelta(days=1))
            .exclude(user__email="").values_list("pk", flat=True).order_by("pk"))
        waiting = _pending_args(tasks.email_notifications, cutoff) or []
        already = {i for args in waiting for i in (args[0] if args else [])}
        to_email = [i for i in to_email if i not in already]

    def in_stacks(task_obj) -> set[int]:
        """Dispatch ids waiting in a task for a whole stack (``dispatch_many``)."""
        if not (to_notify or to_verify):
            return set()
        return {i for args in _pending_args(task_obj, cutoff) or []
                for i in (args[0] if args else [])}

    stacked_notify = in_stacks(tasks.notify_dispatches)
    stacked_verify = in_stacks(tasks.verify_dispatches)
    done = {"notify": 0, "verify": 0, "email": 0}
    for dispatch_id in sorted(to_notify - stacked_notify):
        if not queued(tasks.notify_dispatch, dispatch_id, running_since=cutoff):
            tasks.notify_dispatch.enqueue(dispatch_id)
            done["notify"] += 1
    for dispatch_id in sorted(to_verify - stacked_verify):
        if not queued(tasks.verify_dispatch, dispatch_id, running_since=cutoff):
            tasks.verify_dispatch.enqueue(dispatch_id)
            done["verify"] += 1
    if to_email:
        tasks.email_notifications.enqueue(to_email)
        done["email"] = len(to_email)
    if any(done.values()):
        log.warning("re-enqueued lost background work: %s", done)
    return done
