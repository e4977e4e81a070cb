"""Service verbs whose refusals must leave a trace although their work is rolled back.

A verb runs in one durable transaction (STYLE.md §2). When it refuses — a permission check
failed, a classified document, a rejected upload — its own writes must roll back, yet the
refusal must be in the audit trail (R-AUDIT-1, R-DOC-5). So the verb raises a marker
exception, its transaction rolls back, and ``verb`` writes the audit row in a transaction
of its own afterwards, then re-raises what the caller should see.
"""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404

from gongwen.audit.services import audited

from .permissions import Perm, can, require


class AuditedRefusal(Exception):
    """Mixin for a refusal that knows its own audit row (written by ``verb``)."""

    def audit(self) -> None:
        raise NotImplementedError


class Denied(Exception):
    """A permission check failed inside a verb; ``verb`` re-raises it through ``require``,
    which audits the denial and raises 403 or 404."""

    def __init__(self, actor, perm: Perm, obj, request) -> None:
        self.actor, self.perm, self.obj, self.request = actor, perm, obj, request


def require_in_verb(actor, perm: Perm, obj=None, *, request=None) -> None:
    if not can(actor, perm, obj):
        raise Denied(actor, perm, obj, request)


def verb(fn):
    """Run ``fn`` in one durable transaction; audit refusals that roll its work back.

    The transaction is ``gongwen.audit.services.audited``: the audit entries ``fn`` records
    are appended after the rest of its work, right before the commit, so the audit chain's
    head row is always the last lock the verb takes and two verbs cannot deadlock on it
    (see ``audited`` for why this and not a fixed lock order or retries).

    A refusal leaves the transaction by an exception, so all of ``fn``'s writes are rolled
    back; the audit row of the refusal is then written in a transaction of its own. No
    savepoint is needed for that (two statements fewer per verb)."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with audited(durable=True):
                return fn(*args, **kwargs)
        except AuditedRefusal as exc:
            with transaction.atomic(durable=True):
                exc.audit()
            raise
        except Denied as denied:
            try:
                require(denied.actor, denied.perm, denied.obj, request=denied.request)
            except (PermissionDenied, Http404) as exc:
                failure: BaseException = exc
            else:  # pragma: no cover - can() and require() agree
                failure = PermissionDenied("您没有执行此操作的权限。")
            raise failure from None

    return wrapper
