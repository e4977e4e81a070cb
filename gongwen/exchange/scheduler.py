"""The worker's periodic loop: every N minutes enqueue the overdue reminders and renew CRLs
that are due (``gongwen.authority.services.refresh_due_crls``). Restart-safe: reminders are
idempotent per delivery, CRL renewal only acts when a CRL is due."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("gongwen.scheduler")


def interval_minutes() -> float:
    from django.conf import settings

    return float(getattr(settings, "GONGWEN", {}).get("SCHEDULER_MINUTES", 5))


def tick() -> None:
    """One round; errors are logged, never fatal to the worker."""
    from django.db import close_old_connections, connection

    def tidy() -> None:
        # A long-lived thread drops broken or expired connections between rounds.
        if not connection.in_atomic_block:
            close_old_connections()

    tidy()
    try:
        from . import tasks

        tasks.send_overdue_reminders.enqueue()
    except Exception:  # the next tick tries again
        log.exception("could not enqueue overdue reminders")
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
