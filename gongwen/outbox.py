"""Handing background work to the worker (django-tasks), shared by every app.

**Transactional outbox.** ``enqueue(task, *args)`` is how the services hand work to the
worker. With the django-tasks-db ``DatabaseBackend`` on the data's own database the task row
is written *inside the verb's transaction*: the data and its follow-up work commit together
or not at all, so a process that dies right after the commit loses nothing. (django-tasks
0.12 has no ``enqueue_on_commit`` option; its ``DatabaseBackend.enqueue`` simply creates the
``DBTaskResult`` row on the current connection, which is what makes this work.) Any other
backend (the immediate one of the tests, a broker) would run or publish the task before the
data is visible, so there the task is enqueued ``on_commit``; the scheduler's sweep
(``services.repair_background_work``) re-enqueues what such a crash lost.

"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, router, transaction
from django_tasks import task_backends


def transactional(task_obj) -> bool:
    """True if enqueuing ``task_obj`` writes its row in the current database transaction."""
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - the product's backend
        return False
    backend = task_backends[task_obj.backend]
    return (isinstance(backend, DatabaseBackend)
            and (router.db_for_write(DBTaskResult) or DEFAULT_DB_ALIAS) == DEFAULT_DB_ALIAS)


def enqueue(task_obj, *args) -> None:
    """Hand ``task_obj(*args)`` to the worker once the current transaction commits: in the
    same transaction (outbox) where the backend allows it, else ``on_commit``."""
    if transactional(task_obj) and transaction.get_connection().in_atomic_block:
        task_obj.enqueue(*args)
    else:
        transaction.on_commit(lambda: task_obj.enqueue(*args))
