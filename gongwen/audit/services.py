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
    """Append one entry to the chain. Safe under concurrency: the head row is locked."""
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            id=1, defaults={"seq": 0, "hash": chain.GENESIS_HASH})
        # get_or_create may have inserted without a lock on some backends: lock it now.
        head = AuditHead.objects.select_for_update().get(id=1)
        user = actor if getattr(actor, "pk", None) else None
        if unit is None and user is not None:
            unit = user.unit
        entry = AuditEntry(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=user,
            actor_name=(actor_name or (user.username if user else "system"))[:150],
            unit=unit,
            action=action,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            target_repr=str(target)[:200] if target is not None else "",
            detail=_jsonable(detail or {}),
            ip=client_ip(request),
            algorithm=_ALGORITHM,
            prev_hash=head.hash,
        )
        entry.hash = chain.entry_hash(entry.algorithm, entry.prev_hash, _content(entry))
        entry.save(force_insert=True)
        head.seq, head.hash = entry.seq, entry.hash
        head.save(update_fields=["seq", "hash"])
        return entry


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
