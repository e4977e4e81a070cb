"""Writing and checking the audit trail. ``record`` is called inside every service that
changes security-relevant state, in the same transaction, so the audit row and the change
commit or roll back together."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from . import chain
from .models import AuditEntry, AuditHead

_ALGORITHM = chain.default_algorithm()


def _content(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "unit_id": entry.unit_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target_repr": entry.target_repr,
        "detail": entry.detail,
        "ip": entry.ip,
    }


def client_ip(request) -> str:
    if request is None:
        return ""
    return request.META.get("REMOTE_ADDR", "")[:64]


def record(actor, action: str, target: models.Model | None = None, *, unit=None,
           detail: dict[str, Any] | None = None, request=None, actor_name: str = "",
           ) -> AuditEntry:
    """Append one entry to the chain. Safe under concurrency: the head row is locked.

    Three statements in the usual case: lock and read the head, insert the entry, move the
    head. No savepoint of its own (a failed append fails the caller's transaction, which is
    what an audited change must do); outside a transaction it opens one. Call it as late
    as possible in a verb: the head lock is held until the verb commits, and every writer
    of the trail waits for it."""
    with transaction.atomic(savepoint=False):
        head = _locked_head()
        user = actor if getattr(actor, "pk", None) else None
        entry = AuditEntry(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=user,
            actor_name=(actor_name or (user.username if user else "system"))[:150],
            action=action,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            target_repr=str(target)[:200] if target is not None else "",
            detail=_jsonable(detail or {}),
            ip=client_ip(request),
            algorithm=_ALGORITHM,
            prev_hash=head.hash,
        )
        if unit is not None:
            entry.unit = unit
        elif user is not None:
            entry.unit_id = user.unit_id  # the id is enough: no query for the unit row
        entry.hash = chain.entry_hash(entry.algorithm, entry.prev_hash, _content(entry))
        entry.save(force_insert=True)
        AuditHead.objects.filter(id=1).update(seq=entry.seq, hash=entry.hash)
        return entry


def _locked_head() -> AuditHead:
    """The chain head, locked (SELECT … FOR UPDATE); created on the first append. The
    creation races safely: ``ignore_conflicts`` and then the locking read again."""
    head = AuditHead.objects.select_for_update().filter(id=1).first()
    if head is None:
        AuditHead.objects.bulk_create([AuditHead(id=1, seq=0, hash=chain.GENESIS_HASH)],
                                      ignore_conflicts=True)
        head = AuditHead.objects.select_for_update().get(id=1)
    return head


def _jsonable(detail: dict[str, Any]) -> dict[str, Any]:
    # Round-trip through the canonical encoder so what we hash is exactly what the JSON
    # column gives back when the chain is verified (dates become strings, etc.).
    import json

    return json.loads(chain.canonical_bytes(detail))


def _entries() -> Iterator[chain.ChainEntry]:
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        yield chain.ChainEntry(entry.seq, entry.algorithm, entry.prev_hash, entry.hash,
                               _content(entry), ref=entry.pk)


def verify_chain() -> chain.ChainBreak | None:
    head = AuditHead.objects.filter(id=1).first()
    return chain.verify(_entries(), head_seq=head.seq if head else 0,
                        head_hash=head.hash if head else None)


def algorithm() -> str:
    return _ALGORITHM
