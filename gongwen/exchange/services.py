"""Verbs of the document exchange (R-FLOW-1..3, R-FLOW-7, R-OPS-3).

Each verb runs in one durable transaction (``_verb``): the permission layer is asked first,
the rows are locked (SELECT … FOR UPDATE), the state moves along a transition dict, the audit
row is written in the same transaction, and background work is enqueued ``on_commit``. Every
verb that creates something takes an idempotency key backed by a unique constraint: a retry
(double click, resubmitted form) returns the first result instead of creating a second.

A refused permission check is audited after the verb's own work has rolled back (as the
documents app does), so the denial is kept even though nothing else is.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from gongwen.accounts.models import Role, User
from gongwen.audit.services import record
from gongwen.documents import blobs
from gongwen.documents.models import Action, OfficialDocument, Recipient, State
from gongwen.documents.services import guard_dispatch
from gongwen.policy import rollout
from gongwen.policy.errors import conflict, key_reused, object_id, parse_key, replayed
from gongwen.policy.permissions import Perm, require
from gongwen.policy.sql import FixedRows, KeyedQuery, update_rows
from gongwen.policy.verbs import require_in_verb, verb
from gongwen.units.models import Unit, UnitState

from . import hooks, receipts
from .models import (
    PENDING_STATES,
    Delivery,
    DeliveryAction,
    DeliveryState,
    Dispatch,
    FollowUp,
    Notification,
    Receipt,
    RegistrationCounter,
    overdue_cutoff,
)

__all__ = ["BatchItem", "DispatchItem", "check_delivery", "dispatch", "dispatch_many", "mark_read",
           "open_delivery", "record_follow_up", "return_delivery", "send_overdue_reminders",
           "sign_receipt", "sign_receipts", "verify_dispatches", "withdraw"]


# One durable transaction per verb; refusals are audited after the work rolled back.
_verb = verb
_require = require_in_verb


def _key(value) -> uuid.UUID:
    if (key := parse_key(value)) is None:
        raise ValidationError("缺少幂等键，请刷新页面后重试。")
    return key


def _checkpoint(step: str) -> None:
    """A point between the steps of a verb. Tests inject faults here (R-OPS-3)."""


def _locked_deliveries():
    """Deliveries locked (their own rows only) with what a delivery verb reads: the
    dispatch, its document, the units and the sender. (Deferring the document's body was
    measured: Django's compiling of the query costs more than the column saves.)"""
    return (Delivery.objects.select_for_update(of=("self",))
            .select_related("dispatch", "dispatch__document", "dispatch__sender_unit",
                            "dispatch__by", "recipient_unit"))


# Compiled once per connection (see KeyedQuery): every delivery verb starts with this lock.
_LOCKED_DELIVERY = KeyedQuery(_locked_deliveries)


def _first_answer(prior, *, same_target: bool):
    """What a verb answers when its idempotency key made ``prior`` already: that first
    answer again (marked replayed) for the same target, a refusal for another."""
    if not same_target:
        raise key_reused()
    return replayed(prior)


def _lock_delivery(delivery_id) -> Delivery:
    try:
        return _LOCKED_DELIVERY.get(delivery_id)
    except Delivery.DoesNotExist:
        raise Http404("未找到该来文。") from None


def _enqueue(task, *args) -> None:
    """Background work after the verb: written in its transaction (outbox) where the task
    backend is the database queue, else on commit (tasks.enqueue)."""
    from .tasks import enqueue

    enqueue(task, *args)


# -- recipients ------------------------------------------------------------------------------
def expand_recipients(doc: OfficialDocument, rows=None, members=None
                      ) -> list[tuple[Unit, str, int | None]]:
    """(unit, role, via group id) for every 主送/抄送 unit, groups expanded, each unit once:
    主送 wins over 抄送, a unit listed directly wins over one reached through a group. The
    sender itself and units no longer active are left out; names typed in for units outside
    the platform are text only (no delivery).

    ``rows`` (the document's recipient rows, ordered by role and position) and ``members``
    (group id -> member units by id) may be given when loaded for a stack of documents
    (``_recipients_of``); else they are read here."""
    chosen: dict[int, tuple[Unit, str, int | None]] = {}
    rank: dict[int, tuple[int, int]] = {}
    if rows is None:
        rows = doc.recipients.select_related("unit", "group").order_by("role", "position")
    for row in rows:
        role_rank = 0 if row.role == Recipient.Role.MAIN else 1
        if row.unit_id:
            candidates = [(row.unit, None, 0)]
        elif row.group_id:
            units = (members.get(row.group_id, []) if members is not None
                     else row.group.members.order_by("id"))
            candidates = [(u, row.group_id, 1) for u in units]
        else:
            continue
        for unit, group_id, direct in candidates:
            if unit.pk == doc.unit_id or unit.state != UnitState.ACTIVE:
                continue
            r = (role_rank, direct)
            if unit.pk not in rank or r < rank[unit.pk]:
                rank[unit.pk] = r
                chosen[unit.pk] = (unit, row.role, group_id)
    return list(chosen.values())


def _recipients_of(docs: list[OfficialDocument]) -> dict[int, list[tuple[Unit, str, int | None]]]:
    """``expand_recipients`` for a stack of documents in two queries: every recipient row
    (with its unit), then the members of every group named."""
    rows: dict[int, list[Recipient]] = {d.pk: [] for d in docs}
    for row in (Recipient.objects.filter(document_id__in=list(rows)).select_related("unit")
                .order_by("document_id", "role", "position")):
        rows[row.document_id].append(row)
    groups = {r.group_id for rs in rows.values() for r in rs if not r.unit_id and r.group_id}
    members: dict[int, list[Unit]] = {g: [] for g in groups}
    if groups:
        through = Unit.groups.through
        for link in (through.objects.filter(recipientgroup_id__in=groups)
                     .select_related("unit").order_by("unit_id")):
            members[link.recipientgroup_id].append(link.unit)
    return {d.pk: expand_recipients(d, rows[d.pk], members) for d in docs}


# -- dispatch --------------------------------------------------------------------------------
@dataclass
class DispatchItem:
    """One document of a 批量分发: ``result`` is its dispatch (``already``: dispatched
    before, by a retry or another click), or ``error_zh`` says why not."""

    doc_id: int
    result: Dispatch | None = None
    already: bool = False
    error_zh: str = ""
    error: Exception | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.result is not None


def _doc_id(raw) -> int:
    value = object_id(raw)
    if value is None:
        raise Http404("未找到该公文。")
    return value


@_verb
def dispatch(*, actor, doc_id: int, key, request=None) -> Dispatch:
    """分发: a sealed document to one delivery per recipient unit (R-FLOW-1, R-OPS-3).

    All or nothing: the dispatch row, every delivery and the document's move to
    "dispatched" commit together. A retry with the same key, or a second click with a new
    one, returns the first dispatch. The one-item case of ``dispatch_many``; errors are
    raised (refusals audited after the rollback)."""
    key = _key(key)
    item = _dispatch_stack(actor, [(_doc_id(doc_id), key)], request=request, single=True)[0]
    return replayed(item.result) if item.already else item.result


MAX_DISPATCH_BATCH = 200


@_verb
def dispatch_many(*, actor, doc_ids, key, request=None) -> list[DispatchItem]:
    """批量分发: a keeper or clerk dispatches a stack of sealed documents at once (after a
    sealing sitting). Per document the same rules as ``dispatch`` (permission, sealed state,
    密级 guard, recipients); a document that cannot be dispatched gets its reason in
    ``error_zh`` (a refusal is audited) and the others go on. One transaction for the
    stack, with a few statements for all of it: the documents, prior dispatches, recipients
    and sealed files are read together, the dispatches and deliveries bulk-inserted, the
    documents moved in one UPDATE, one outbox task for the notices and one for the
    verification of the whole stack. Idempotent per document: item keys are
    ``uuid5(key, str(doc_id))``, and a document dispatched already is never sent twice."""
    key = _key(key)
    _require(actor, Perm.DISPATCH, request=request)  # the role; each document's scope below
    ids: list[int] = []
    bad: list[DispatchItem] = []
    for raw in doc_ids or []:
        try:
            value = _doc_id(raw)
        except Http404 as exc:
            bad.append(DispatchItem(0, error_zh=str(exc.args[0]), error=exc))
            continue
        if value not in ids:
            ids.append(value)
    if not ids and not bad:
        raise ValidationError("请选择要分发的公文。")
    if len(ids) > MAX_DISPATCH_BATCH:
        raise ValidationError(f"一次最多分发 {MAX_DISPATCH_BATCH} 件公文。")
    items = _dispatch_stack(actor, [(i, uuid.uuid5(key, str(i))) for i in ids],
                            request=request, single=False)
    return items + bad


def _dispatch_message(exc: Exception) -> str:
    if isinstance(exc, Http404):  # missing or another unit's: the same answer (R-SEC-1)
        return "未找到该公文。"
    if isinstance(exc, PermissionDenied):
        return "您没有分发该公文的权限。"
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return "分发失败。"  # pragma: no cover


def _fingerprint(sealed: hooks.SealedFile) -> str:
    """The dispatched file's fingerprint: the name the blob store gave it at 用印 (the digest
    of its bytes, see ``hooks.SealedFile``), not a second hash of the same bytes; a file
    stored under another algorithm than the platform's now is stored (and named) anew."""
    if sealed.digest.startswith(f"{blobs.algorithm()}:"):
        return sealed.digest
    return blobs.put(sealed.data).digest


def _dispatch_stack(actor, pairs: list[tuple[int, uuid.UUID]], *, request, single: bool
                    ) -> list[DispatchItem]:
    """The work of ``dispatch`` and ``dispatch_many`` inside the caller's transaction.
    ``single``: raise the first error (the verb rolls back and audits a refusal); else keep
    it on its item, audit a refusal in this transaction and go on."""
    from gongwen.documents.services import ClassifiedRefused

    keys = dict(pairs)
    items = {i: DispatchItem(i) for i, _ in pairs}
    # Locked in id order: two stacks sharing documents wait for each other, never deadlock.
    docs = {d.pk: d for d in OfficialDocument.objects.select_for_update(of=("self",))
            .select_related("unit").prefetch_related("attachments")  # for the guard
            .filter(pk__in=list(keys)).order_by("pk")}
    # Retries with the same keys, or documents dispatched already: one query for all.
    priors = sorted(Dispatch.objects.filter(Q(idempotency_key__in=list(keys.values()))
                                            | Q(document_id__in=list(docs))),
                    key=lambda p: p.pk)

    def fail(i: int, exc: Exception) -> None:
        items[i].error = exc
        items[i].error_zh = _dispatch_message(exc)

    scope = rollout.Scope()
    todo: list[OfficialDocument] = []
    for i, key in pairs:
        doc = docs.get(i)
        try:
            if doc is None:
                raise Http404("未找到该公文。")
            if single:
                _require(actor, Perm.DISPATCH, doc, request=request)
            else:  # a denial is audited in this transaction, which commits
                require(actor, Perm.DISPATCH, doc, request=request)
            found = [p for p in priors if p.idempotency_key == key or p.document_id == i]
            for prior in found:
                if prior.idempotency_key == key and (prior.document_id != i
                                                     or prior.sender_unit_id != actor.unit_id):
                    raise key_reused()
            if found:  # dispatched once: a second click never sends twice
                items[i].result, items[i].already = found[0], True
                continue
            state = doc.state
            doc.apply(Action.DISPATCH)  # only a sealed document (raises InvalidTransition)
            try:
                guard_dispatch(doc, actor=actor, request=request)  # 密级公文不得传输 (§3(8))
                # The roll-out phase of today (R-POLICY-1).
                scope.require(doc, stage="dispatch", actor=actor, request=request)
            except (ClassifiedRefused, ValidationError):
                doc.state = state
                raise
        except (ClassifiedRefused, rollout.OutOfScope) as exc:
            if single:
                raise
            exc.audit()
            fail(i, exc)
            continue
        except (Http404, PermissionDenied, ValidationError) as exc:
            if single:
                raise
            fail(i, exc)
            continue
        todo.append(doc)

    files = hooks.sealed_files(todo) if todo else {}
    ready: list[tuple[OfficialDocument, hooks.SealedFile, str]] = []
    for doc in todo:
        try:
            sealed = files.get(doc.pk)
            if sealed is None or not sealed.data:
                raise ValidationError("未找到用印后的版式文件，不能分发。")
            fmt = hooks.file_format_of(sealed.data)
            if not fmt:
                raise ValidationError("用印后的文件不是 PDF/OFD 版式文件，不能分发。")
        except ValidationError as exc:
            if single:
                raise
            fail(doc.pk, exc)
            continue
        ready.append((doc, sealed, fmt))
    recipients = _recipients_of([doc for doc, _, _ in ready]) if ready else {}
    now = timezone.now()
    made: list[tuple[OfficialDocument, Dispatch, list]] = []
    for doc, sealed, fmt in ready:
        if not recipients[doc.pk]:
            exc = ValidationError("该公文没有平台内的主送或抄送单位，不能分发。")
            if single:
                raise exc
            fail(doc.pk, exc)
            continue
        made.append((doc, Dispatch(document=doc, sender_unit_id=doc.unit_id, by=actor, at=now,
                                   idempotency_key=keys[doc.pk],
                                   fingerprint=_fingerprint(sealed), file_format=fmt,
                                   size=len(sealed.data), parallel_run=scope.parallel_run),
                     recipients[doc.pk]))
    if made:
        sent_rows = Dispatch.objects.bulk_create([sent for _, sent, _ in made])
        if any(sent.pk is None for sent in sent_rows):  # pragma: no cover - old SQLite
            by_key = {d.idempotency_key: d.pk for d in Dispatch.objects.filter(
                idempotency_key__in=[sent.idempotency_key for sent in sent_rows])}
            for sent in sent_rows:
                sent.pk = by_key[sent.idempotency_key]
        _checkpoint("dispatch_created")
        Delivery.objects.bulk_create([
            Delivery(dispatch=sent, recipient_unit=unit, role=role, via_group_id=group_id,
                     paper=not unit.networked, dispatched_at=now)
            for _, sent, units in made for unit, role, group_id in units])
        _checkpoint("deliveries_created")
        for doc, _, _ in made:
            doc.updated_at = now
        OfficialDocument.objects.filter(pk__in=[doc.pk for doc, _, _ in made]) \
            .update(state=State.DISPATCHED, updated_at=now)
        from . import tasks

        if single:
            _enqueue(tasks.notify_dispatch, made[0][1].pk)
            _enqueue(tasks.verify_dispatch, made[0][1].pk)
        else:  # one outbox row each for the whole stack
            _enqueue(tasks.notify_dispatches, [sent.pk for _, sent, _ in made])
            _enqueue(tasks.verify_dispatches, [sent.pk for _, sent, _ in made])
        for doc, sent, units in made:
            items[doc.pk].result = sent
            record(actor, "exchange.dispatched", doc, request=request,
                   detail={"dispatch": sent.pk, "fingerprint": sent.fingerprint,
                           "format": sent.file_format, "recipients": len(units),
                           "paper": sum(1 for u, _, _ in units if not u.networked)})
        _checkpoint("audited")
    return [items[i] for i, _ in pairs]


# -- receiving -------------------------------------------------------------------------------
def reverify_after() -> int:
    """Seconds for which a passing report may be reused without running the verification
    again, provided no CRL was published since (GONGWEN["REVERIFY_AFTER_SECONDS"])."""
    return int(getattr(settings, "GONGWEN", {}).get("REVERIFY_AFTER_SECONDS", 300))


def _authorities() -> list:
    from gongwen.authority.models import CertificateAuthority

    return list(CertificateAuthority.objects.order_by("id"))


class _CRLState(NamedTuple):
    """A CA as far as a stored report's basis needs it (see ``_crl_states``)."""

    pk: int
    crl_number: int
    crl_next_update: dt.datetime | None
    has_crl: bool

    @classmethod
    def of(cls, ca) -> _CRLState:
        """The state of a full CertificateAuthority row."""
        return cls(ca.pk, ca.crl_number, ca.crl_next_update, bool(ca.crl_der))


def _crl_state_rows():
    from django.db.models import BooleanField, ExpressionWrapper

    from gongwen.authority.models import CertificateAuthority

    return (CertificateAuthority.objects.order_by("id")
            .annotate(has_crl=ExpressionWrapper(Q(crl_der__isnull=False),
                                                output_field=BooleanField()))
            .values_list("id", "crl_number", "crl_next_update", "has_crl"))


# Compiled once per connection (see FixedRows): every 来文 opened reads it.
_CRL_STATE_ROWS = FixedRows(_crl_state_rows)


def _crl_states() -> list[_CRLState]:
    """The CAs as far as a stored report's basis needs them (id, CRL number and nextUpdate,
    whether a CRL is published), without the certificate and CRL bytes, which grow with
    every revocation: what opening an item reads while the stored report holds."""
    return [_CRLState(*row) for row in _CRL_STATE_ROWS.rows()]


def _basis(states: list[_CRLState], now: dt.datetime) -> dict:
    """What a verification report depends on besides the file: the CRL generation of every
    CA (a revocation, also of a seal, republishes its issuer's CRL) and the time it ran."""
    return {"crls": {str(ca.pk): ca.crl_number for ca in states}, "at": now.isoformat()}


def _still_valid(delivery: Delivery, states: list[_CRLState], now: dt.datetime) -> bool:
    """True if the stored passing report still holds: computed at most
    ``reverify_after()`` seconds ago, against the CRLs still in force (no CRL published
    since, none past its nextUpdate), and the dispatched file is still byte for byte the one
    sent (re-hashed: cheap). Anything else means: verify again."""
    report = delivery.verification or {}
    basis = report.get("basis") or {}
    if not report.get("ok") or not basis:
        return False
    if basis.get("crls") != _basis(states, now)["crls"]:
        return False
    if any(ca.has_crl and (ca.crl_next_update is None or ca.crl_next_update <= now)
           for ca in states):
        return False
    try:
        age = (now - dt.datetime.fromisoformat(basis["at"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        return False
    if not 0 <= age <= reverify_after():
        return False
    fingerprint = delivery.dispatch.fingerprint
    try:
        data = blobs.read(fingerprint)
    except (blobs.BlobError, OSError):
        return False
    return data is not None and blobs.digest_of(data, fingerprint) == fingerprint


def _report(delivery: Delivery) -> hooks.Report:
    return hooks.verify_for_receipt(delivery.dispatch.document, delivery)


def _verify(delivery: Delivery, *, actor=None, request=None,
            states: list[_CRLState] | None = None, reuse: bool = False) -> bool:
    """Store a fresh verification report (or keep the stored one when ``reuse`` and it
    still holds, see ``_still_valid``); a failed one returns the delivery to the sender
    (notice §3(7)). Returns True if the delivery passed, False if it was returned now."""
    states = _crl_states() if states is None else states
    now = timezone.now()
    if reuse and _still_valid(delivery, states, now):
        return True
    # The basis is read before the checks run: a CRL published meanwhile makes it older.
    basis = _basis(states, now)
    return not _store_report(delivery, _report(delivery), basis=basis, actor=actor,
                             request=request)


def _store_report(delivery: Delivery, report: hooks.Report, *, basis: dict | None = None,
                  actor=None, request=None, fields: tuple[str, ...] = ()) -> bool:
    """Keep the report; a failed one returns the delivery to the sender (notice §3(7)).
    True if the delivery was returned now. ``fields``: other changed fields of the
    delivery, saved in the same UPDATE."""
    delivery.verification = {**report.as_dict(), **({"basis": basis} if basis else {})}
    delivery.verified_at = timezone.now()
    fields = [*fields, "verification", "verified_at"]
    returned = False
    if not report.ok and delivery.can_apply(DeliveryAction.REJECT):
        delivery.apply(DeliveryAction.REJECT)
        delivery.returned_at = delivery.verified_at
        delivery.return_reason = f"来文核验未通过：{report.reason_zh()}"[:500]
        fields += ["state", "returned_at", "return_reason"]
        returned = True
    update_rows([delivery], fields)
    if returned:
        settle_notices([delivery])
        _notify_sender(delivery, Notification.Kind.RETURNED,
                       f"《{delivery.dispatch.document.title}》被{delivery.recipient_unit.name}"
                       f"自动退回：{delivery.return_reason}")
        record(actor, "exchange.auto_returned", delivery, unit=delivery.recipient_unit,
               request=request, detail={"reason": delivery.return_reason})
    return returned


@_verb
def open_delivery(*, actor, delivery_id: int, request=None) -> Delivery:
    """The recipient's clerk opens the item: the time is recorded once and the verification
    report computed (or the background check's kept while it still holds); a failing
    document goes back to the sender (R-FLOW-2, notice §3(7))."""
    delivery = _lock_delivery(delivery_id)
    _require(actor, Perm.RECEIVE, delivery, request=request)
    opened = delivery.can_apply(DeliveryAction.OPEN)
    opening = ("state", "opened_at", "handled_by") if opened else ()
    if opened:
        delivery.apply(DeliveryAction.OPEN)
        delivery.opened_at = timezone.now()
        delivery.handled_by = actor
    if delivery.is_pending:
        states = _crl_states()
        now = timezone.now()
        if _still_valid(delivery, states, now):
            if opened:
                update_rows([delivery], opening)
        else:
            # The basis is read before the checks run; one UPDATE for opening and report.
            _store_report(delivery, _report(delivery), basis=_basis(states, now), actor=actor,
                          request=request, fields=opening)
    elif opened:  # pragma: no cover - OPEN leads to a pending state
        update_rows([delivery], opening)
    if opened:
        record(actor, "exchange.opened", delivery, request=request)
    return delivery


@_verb
def check_delivery(*, delivery_id: int) -> Delivery:
    """Verification by the worker right after dispatch (no user)."""
    delivery = _lock_delivery(delivery_id)
    if delivery.is_pending and not delivery.paper:
        basis = _basis(_crl_states(), timezone.now())
        report = _report(delivery)
        if not _store_report(delivery, report, basis=basis):
            record(None, "exchange.verified", delivery, unit=delivery.recipient_unit,
                   detail={"ok": report.ok}, actor_name="worker")
    return delivery


def verify_dispatches(dispatch_ids) -> int:
    """The worker's verification right after dispatch (no user), once per dispatched file:
    the report depends on the file and the document, not on the recipient, so it is
    computed once per dispatch, outside any lock, and stored on every pending networked
    delivery of it not verified yet (one UPDATE for the whole list, ``update_rows``); a failing
    report returns those deliveries to the sender with a notice (notice §3(7)). Audited per
    delivery ("exchange.verified" / "exchange.auto_returned"). Idempotent: a delivery
    verified meanwhile (opened) keeps its report. Returns the deliveries verified."""
    ids = sorted({int(i) for i in dispatch_ids or []})
    todo = set(Delivery.objects.filter(dispatch_id__in=ids, paper=False,
                                       verified_at__isnull=True, state__in=PENDING_STATES)
               .order_by().values_list("dispatch_id", flat=True).distinct())
    if not todo:
        return 0
    sent_rows = list(Dispatch.objects.filter(pk__in=todo)
                     .select_related("document", "document__unit", "sender_unit", "by")
                     .prefetch_related("document__issuers__unit").order_by("pk"))
    cas = _authorities()
    # The basis is read before the checks run: a CRL published meanwhile makes it older.
    basis = _basis([_CRLState.of(ca) for ca in cas], timezone.now())
    checked = hooks.verify_dispatched_stack([(sent.document, sent) for sent in sent_rows], cas)
    reports = {sent.pk: report for sent, report in zip(sent_rows, checked, strict=True)}
    return _store_reports(reports, basis, {sent.pk: sent for sent in sent_rows})


@_verb
def _store_reports(reports: dict[int, hooks.Report], basis: dict,
                   sent_rows: dict[int, Dispatch]) -> int:
    deliveries = list(Delivery.objects.select_for_update(of=("self",))
                      .select_related("recipient_unit")
                      .filter(dispatch_id__in=list(reports), paper=False,
                              verified_at__isnull=True, state__in=PENDING_STATES)
                      .order_by("pk"))
    if not deliveries:
        return 0
    now = timezone.now()
    fields = ["verification", "verified_at"]
    returned: set[int] = set()
    for d in deliveries:
        d.dispatch = sent_rows[d.dispatch_id]
        report = reports[d.dispatch_id]
        d.verification = {**report.as_dict(), "basis": basis}
        d.verified_at = now
        if not report.ok and d.can_apply(DeliveryAction.REJECT):
            d.apply(DeliveryAction.REJECT)
            d.returned_at = now
            d.return_reason = f"来文核验未通过：{report.reason_zh()}"[:500]
            returned.add(d.pk)
    if returned:
        fields += ["state", "returned_at", "return_reason"]
    update_rows(deliveries, fields)
    _notify_senders([(d, f"《{d.dispatch.document.title}》被{d.recipient_unit.name}"
                         f"自动退回：{d.return_reason}") for d in deliveries if d.pk in returned],
                    Notification.Kind.RETURNED)
    for d in deliveries:
        if d.pk in returned:
            record(None, "exchange.auto_returned", d, unit=d.recipient_unit,
                   detail={"reason": d.return_reason})
        else:
            record(None, "exchange.verified", d, unit=d.recipient_unit,
                   detail={"ok": reports[d.dispatch_id].ok}, actor_name="worker")
    return len(deliveries)


def receipt_key_disk(user):
    """The user's usable unit-receipt key disk (签收证书), newest first, or None."""
    from gongwen.authority.models import CertStatus, KeyDisk

    return (KeyDisk.objects.filter(holder=user, unit_id=user.unit_id,
                                   certificate__profile="unit-receipt",
                                   certificate__status=CertStatus.VALID,
                                   destroyed_at__isnull=True)
            .select_related("certificate", "certificate__issuer").order_by("-id").first())


MAX_BATCH = 200


@dataclass
class BatchItem:
    """One delivery of a batch 签收: ``result`` is its receipt, or ``error_zh`` says why not
    (``returned``: it failed verification and went back to the sender)."""

    delivery_id: int
    result: Receipt | None = None
    error_zh: str = ""
    returned: bool = False
    error: Exception | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.result is not None


class _Returned(Exception):
    """Verification failed inside 签收: the delivery was returned (committed)."""


def _message(exc: Exception) -> str:
    if isinstance(exc, Http404):  # missing or another unit's: the same answer (R-SEC-1)
        return "未找到该来文。"
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return getattr(exc, "message_zh", "") or (exc.args[0] if exc.args else "") or "操作失败。"


def sign_receipt(*, actor, delivery_id: int, pin: str, key, request=None) -> Receipt:
    """签收: the clerk signs a receipt (document fingerprint, recipient unit, time, 收文登记号)
    with the unit-receipt key on their key disk (R-FLOW-2). Only a delivery whose
    verification passes can be signed; a failing one is returned automatically.

    The one-item case of ``sign_receipts``; errors are raised (ValidationError, Http404,
    PKIError for the PIN)."""
    key = _key(key)
    delivery_id = object_id(delivery_id)
    if delivery_id is None:
        raise Http404("未找到该来文。")
    item = _sign_batch(actor=actor, pairs=[(delivery_id, key)], pin=pin, request=request)[0]
    if item.error is not None:
        raise item.error
    return item.result


def sign_receipts(*, actor, delivery_ids, pin: str, key, request=None) -> list[BatchItem]:
    """批量签收: one PIN for a stack of incoming documents. The receipt key disk is opened
    once (one PIN attempt, counted once if wrong — then nothing is signed), then every
    delivery is verified (the stored report is kept while it still holds) and signed in a
    transaction of its own; an item that cannot be signed (not pending, another unit's,
    failed verification → returned to the sender) gets its reason in ``error_zh`` and the
    others go on. Idempotent per delivery: item keys are ``uuid5(key, str(delivery_id))``,
    so resubmitting the same batch returns the same receipts."""
    key = _key(key)
    ids: list[int] = []
    bad: list[BatchItem] = []
    for raw in delivery_ids or []:
        value = object_id(raw)
        if value is None:
            bad.append(BatchItem(0, error_zh="未找到该来文。", error=Http404("未找到该来文。")))
            continue
        if value not in ids:
            ids.append(value)
    if not ids and not bad:
        raise ValidationError("请选择要签收的来文。")
    if len(ids) > MAX_BATCH:
        raise ValidationError(f"一次最多签收 {MAX_BATCH} 件来文。")
    items = _sign_batch(actor=actor, pairs=[(i, uuid.uuid5(key, str(i))) for i in ids],
                        pin=pin, request=request)
    return items + bad


def _sign_batch(*, actor, pairs: list[tuple[int, uuid.UUID]], pin: str, request
                ) -> list[BatchItem]:
    from gongwen.authority.services import open_key_disk
    from gongwen.pki.errors import PKIError

    require(actor, Perm.RECEIVE, request=request)  # the role; each item's scope below
    items = {i: BatchItem(i) for i, _ in pairs}
    keys = dict(pairs)
    for receipt in Receipt.objects.filter(idempotency_key__in=keys.values()):
        i = next(i for i, k in keys.items() if k == receipt.idempotency_key)
        if receipt.delivery_id == i:
            items[i].result = replayed(receipt)  # a retry: the first answer
        else:
            items[i].error = key_reused()
    todo = [i for i in keys if items[i].result is None and items[i].error is None]
    found = {d.pk: d for d in Delivery.objects.select_related("dispatch", "recipient_unit")
             .filter(pk__in=todo)}
    signable = []
    for i in todo:
        try:
            items[i].result = _check_item(actor, found.get(i), request)
        except (ValidationError, Http404, PermissionDenied) as exc:
            items[i].error = exc
            continue
        if items[i].result is not None:
            continue
        signable.append(i)
    if signable:
        disk = receipt_key_disk(actor)
        if disk is None:
            raise ValidationError("您没有可用的单位签收证书密钥盘，请联系平台管理员办理。")
        # Once for the whole batch, in its own transaction: a wrong PIN is counted once and
        # raises before anything is signed.
        private_key = open_key_disk(user=actor, disk=disk, pin=pin, request=request)
        try:
            outcomes = _sign_stack(actor=actor, pairs=[(i, keys[i]) for i in signable],
                                   disk=disk, private_key=private_key, request=request)
        except IntegrityError:
            # A receipt stored meanwhile by a concurrent request (a unique constraint): the
            # stack rolled back as a whole; each item again on its own, so every item that
            # can still be signed is, and the others get their answer.
            outcomes = {}
            for i in signable:
                try:
                    outcomes.update(_sign_stack(actor=actor, pairs=[(i, keys[i])], disk=disk,
                                                private_key=private_key, request=request))
                except IntegrityError:
                    outcomes[i] = conflict("该来文已签收，请刷新页面。")
                except (ValidationError, Http404, PermissionDenied, PKIError) as exc:
                    outcomes[i] = exc
        except (ValidationError, Http404, PermissionDenied, PKIError) as exc:
            outcomes = {i: exc for i in signable}
        for i, outcome in outcomes.items():
            if isinstance(outcome, Receipt):
                items[i].result = outcome
            elif isinstance(outcome, _Returned):
                items[i].returned = True
                items[i].error = conflict(
                    f"来文核验未通过，已自动退回发文单位，不能签收。{outcome.args[0]}".strip())
            else:
                items[i].error = outcome
    for item in items.values():
        if item.error is not None:
            item.error_zh = _message(item.error)
    return [items[i] for i, _ in pairs]


def _check_item(actor, delivery: Delivery | None, request) -> Receipt | None:
    """The per-item rules of 签收: raise why the item cannot be signed (missing or another
    unit's — the denial audited, in the caller's transaction if there is one —, not
    pending, paper); return the receipt of an item signed already, else None."""
    if delivery is None:
        raise Http404("未找到该来文。")
    require(actor, Perm.RECEIVE, delivery, request=request)
    if delivery.state == DeliveryState.SIGNED:
        return replayed(delivery.receipt)
    _check_signable(delivery)
    return None


def _check_signable(delivery: Delivery) -> None:
    if not delivery.is_pending:
        raise conflict(f"该来文当前状态为“{delivery.get_state_display()}”，不能签收。")
    if delivery.paper:
        raise ValidationError("该单位未联网，按纸质公文办理签收。")


def _next_registrations(unit_id: int, year: int, n: int) -> list[int]:
    """The next ``n`` consecutive 收文登记号 serials of the unit and year, in one statement
    (UPDATE … RETURNING: PostgreSQL, SQLite ≥ 3.35). The counter row stays locked until
    the signing transaction commits, so numbers are consecutive across requests, and a
    rollback gives them back. The row is created race-free on the unit's first 签收 of a
    year."""
    from django.db import connection

    table = connection.ops.quote_name(RegistrationCounter._meta.db_table)
    sql = (f"UPDATE {table} SET last = last + %s WHERE unit_id = %s AND year = %s "
           "RETURNING last")
    with connection.cursor() as cursor:
        cursor.execute(sql, [n, unit_id, year])
        row = cursor.fetchone()
        if row is None:
            RegistrationCounter.objects.bulk_create(
                [RegistrationCounter(unit_id=unit_id, year=year, last=0)],
                ignore_conflicts=True)
            cursor.execute(sql, [n, unit_id, year])
            row = cursor.fetchone()
    last = int(row[0])
    return list(range(last - n + 1, last + 1))


@_verb
def _sign_stack(*, actor, pairs: list[tuple[int, uuid.UUID]], disk, private_key, request
                ) -> dict[int, Receipt | Exception]:
    """签收 of a stack in one transaction: the deliveries locked at once (in id order, so
    two stacks never wait for each other in a cycle) and checked again under the lock; the
    stored report kept where it still holds, else verified again (a failure returns that
    item to the sender, committed with the others); the 收文登记号 of all items taken in one
    statement; each receipt signed; then one UPDATE of the deliveries, one INSERT of the
    receipts, the senders' notices in one go and one audit entry per item, appended last.
    A unique constraint (a receipt stored meanwhile) rolls the whole stack back: the caller
    then signs item by item. Returns, per delivery id, its receipt or why not."""
    from gongwen.authority.models import CARole

    keys = dict(pairs)
    out: dict[int, Receipt | Exception] = {}
    locked = _locked_deliveries().filter(pk__in=list(keys)).order_by("pk")
    found = {d.pk: d for d in locked}
    cas = states = None
    ready: list[Delivery] = []
    for i in keys:
        delivery = found.get(i)
        try:
            signed = _check_item(actor, delivery, request)  # again, under the lock
        except (ValidationError, Http404, PermissionDenied) as exc:
            out[i] = exc
            continue
        if signed is not None:  # signed by a parallel click: one receipt only
            out[i] = signed
            continue
        if cas is None:
            cas = _authorities()
            states = [_CRLState.of(ca) for ca in cas]
        # 签收 re-checks the report "so that a seal revoked in between is caught"; the
        # stored one is kept when nothing it depended on has changed (see _still_valid).
        if not _verify(delivery, actor=actor, request=request, states=states, reuse=True):
            out[i] = _Returned(f"（{delivery.return_reason.removeprefix('来文核验未通过：')}）")
            continue
        ready.append(delivery)
    if not ready:
        return out
    now = timezone.now()
    year = timezone.localdate(now).year
    serials: dict[int, list[int]] = {}
    for unit_id in dict.fromkeys(d.recipient_unit_id for d in ready):
        serials[unit_id] = _next_registrations(
            unit_id, year, sum(1 for d in ready if d.recipient_unit_id == unit_id))
    cert = disk.certificate
    chain = [bytes(ca.certificate_der) for ca in cas if ca.role != CARole.ROOT]
    crls = [bytes(ca.crl_der) for ca in cas if ca.crl_der]
    receipts_made: list[Receipt] = []
    for delivery in ready:
        delivery.apply(DeliveryAction.SIGN)
        delivery.registration_year = year
        delivery.registration_serial = serials[delivery.recipient_unit_id].pop(0)
        delivery.signed_at = now
        delivery.handled_by = actor
        doc = delivery.dispatch.document
        payload = {
            "document_fingerprint": delivery.dispatch.fingerprint,
            "document_title": doc.title,
            "doc_number": doc.doc_number,
            "sender_unit": delivery.dispatch.sender_unit.name,
            "recipient_unit": delivery.recipient_unit.name,
            "recipient_unit_code": delivery.recipient_unit.code,
            "role": delivery.role,
            "registration_number": delivery.registration_number,
            "signed_at": now.isoformat(),
            "signed_by": actor.display_name,
            "dispatch_id": delivery.dispatch_id,
            "delivery_id": delivery.pk,
            "certificate_serial": cert.serial,
        }
        content = receipts.build(payload, private_key, bytes(cert.der), chain, crls)
        receipts_made.append(Receipt(
            delivery=delivery, idempotency_key=keys[delivery.pk], certificate=cert,
            signed_by=actor, signed_at=now, content=content, digest=blobs.digest_of(content)))
    update_rows(ready, ["state", "signed_at", "handled_by",
                                         "registration_year", "registration_serial"])
    # A second receipt for a delivery or a reused key fails the unique constraints: the
    # transaction rolls back (the caller retries item by item).
    Receipt.objects.bulk_create(receipts_made)
    settle_notices(ready)
    _notify_senders([(d, f"{d.recipient_unit.name}已签收《{d.dispatch.document.title}》"
                         f"（收文登记号 {d.registration_number}）") for d in ready],
                    Notification.Kind.SIGNED)
    for delivery, receipt in zip(ready, receipts_made, strict=True):
        out[delivery.pk] = receipt
        # Appended last by the verb's ``audited`` transaction, all in one go.
        record(actor, "exchange.signed", delivery, request=request,
               detail={"registration_number": delivery.registration_number,
                       "fingerprint": delivery.dispatch.fingerprint,
                       "certificate": cert.serial, "receipt_digest": receipt.digest})
    return out


def _whole(text: str, label: str, model, field: str) -> str:
    """``text`` stripped, refused when longer than its column: the other side reads it,
    and cutting it short without a word (the API has no maxlength) changes what it says."""
    text = (text or "").strip()
    limit = model._meta.get_field(field).max_length
    if len(text) > limit:
        raise ValidationError(f"{label}不能超过 {limit} 字（现为 {len(text)} 字），请精简后重试。")
    return text


def _reason(text: str, verb: str, model, field: str) -> str:
    """The reason a 退回 or 撤回 must give, whole."""
    reason = _whole(text, f"{verb}原因", model, field)
    if not reason:
        raise ValidationError(f"{verb}时请填写原因。")
    return reason


@_verb
def return_delivery(*, actor, delivery_id: int, reason: str, key, request=None) -> Delivery:
    """退回 with a reason, which the sender sees (R-FLOW-2)."""
    key = _key(key)
    prior = Delivery.objects.filter(return_key=key).first()
    if prior is not None:
        return _first_answer(prior, same_target=prior.pk == int(delivery_id))
    delivery = _lock_delivery(delivery_id)
    _require(actor, Perm.RECEIVE, delivery, request=request)
    if delivery.return_key == key:  # a concurrent retry committed it while this one waited
        return replayed(delivery)
    reason = _reason(reason, "退回", Delivery, "return_reason")
    if delivery.paper:
        # As for 签收 (_check_signable): a unit not networked handles the paper copy.
        raise ValidationError("该单位未联网，按纸质公文办理，不能在平台上退回。")
    delivery.apply(DeliveryAction.RETURN)
    delivery.returned_at = timezone.now()
    delivery.return_reason = reason
    delivery.return_key = key
    delivery.handled_by = actor
    delivery.save(update_fields=["state", "returned_at", "return_reason", "return_key",
                                 "handled_by"])
    record(actor, "exchange.returned", delivery, request=request, detail={"reason": reason})
    settle_notices([delivery])
    _notify_sender(delivery, Notification.Kind.RETURNED,
                   f"《{delivery.dispatch.document.title}》被{delivery.recipient_unit.name}"
                   f"退回：{reason}")
    return delivery


# -- sender ----------------------------------------------------------------------------------
@_verb
def withdraw(*, actor, dispatch_id: int, reason: str, key, request=None) -> Dispatch:
    """撤回: the sender takes back every delivery not yet signed for, with a reason; the
    recipients see it withdrawn (R-FLOW-1). If nobody had signed for it the document moves
    to 已撤回 in the same transaction; otherwise it stays 已分发 (部分撤回). A retry with the
    same key returns the first result; a second withdrawal is refused."""
    key = _key(key)
    prior = Dispatch.objects.filter(withdraw_key=key).first()
    if prior is not None:
        return _first_answer(prior, same_target=prior.pk == int(dispatch_id))
    try:
        sent = (Dispatch.objects.select_for_update(of=("self",))
                .select_related("document").get(pk=dispatch_id))
    except (Dispatch.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该发文。") from None
    _require(actor, Perm.DISPATCH, sent, request=request)
    if sent.withdraw_key == key:  # a concurrent retry committed it while this one waited
        return replayed(sent)
    reason = _reason(reason, "撤回", Dispatch, "withdraw_reason")
    if sent.withdrawn_at is not None:
        raise conflict("该公文已撤回。")
    deliveries = list(sent.deliveries.select_for_update().select_related("recipient_unit"))
    pending = [d for d in deliveries if d.can_apply(DeliveryAction.WITHDRAW)]
    if not pending:
        raise conflict("所有收文单位均已签收或退回，不能撤回。")
    now = timezone.now()
    for d in pending:
        d.apply(DeliveryAction.WITHDRAW)
        d.withdrawn_at = now
    update_rows(pending, ["state", "withdrawn_at"])
    sent.withdrawn_at, sent.withdrawn_by = now, actor
    sent.withdraw_reason, sent.withdraw_key = reason, key
    sent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason",
                             "withdraw_key"])
    signed = sum(1 for d in deliveries if d.state == DeliveryState.SIGNED)
    doc = sent.document
    if not signed:
        # Nobody signed for it: the document itself is 已撤回. With some receipts it stays
        # 已分发 and the pages show 部分撤回 (selectors.withdrawal_of).
        doc = OfficialDocument.objects.select_for_update(of=("self",)).get(pk=doc.pk)
        doc.apply(Action.RECALL)
        doc.save(update_fields=["state", "updated_at"])
        sent.document = doc
    record(actor, "exchange.withdrawn", doc, request=request,
           detail={"dispatch": sent.pk, "reason": reason, "withdrawn": len(pending),
                   "already_signed": signed, "document_state": doc.state})
    for d in pending:
        _notify_unit(d.recipient_unit_id, Notification.Kind.WITHDRAWN,
                     f"{sent.sender_unit.name}已撤回《{sent.document.title}》：{reason}",
                     _delivery_link(d), f"withdrawn:{d.pk}")
    return sent


@_verb
def record_follow_up(*, actor, delivery_id: int, how: str, contact: str = "", at=None,
                     note: str = "", key, request=None) -> FollowUp:
    """催办 record of the sender for one recipient (R-FLOW-3)."""
    key = _key(key)
    delivery = _lock_delivery(delivery_id)
    _require(actor, Perm.TRACK, delivery, request=request)
    # Looked up under the delivery's lock: a concurrent request with the same key has
    # committed its record by then (checked before the lock, both would insert one).
    if (prior := FollowUp.objects.filter(idempotency_key=key).first()) is not None:
        return _first_answer(prior, same_target=prior.delivery_id == delivery.pk)
    if not delivery.is_pending:  # signed, returned or withdrawn: nothing to chase
        raise conflict(f"该来文当前状态为“{delivery.get_state_display()}”，无需催办。")
    if how not in FollowUp.How.values:
        raise ValidationError("请选择催办方式。")
    at = at or timezone.now()
    if at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError("催办时间不能晚于现在。")
    contact = _whole(contact, "联系人", FollowUp, "contact")
    note = _whole(note, "情况说明", FollowUp, "note")
    item = FollowUp.objects.create(delivery=delivery, how=how, contact=contact, at=at,
                                   note=note, by=actor, idempotency_key=key)
    record(actor, "exchange.follow_up", delivery, request=request,
           detail={"how": how, "contact": item.contact})
    return item


# -- reminders -------------------------------------------------------------------------------
def overdue_deliveries(now: dt.datetime | None = None):
    return Delivery.objects.filter(state__in=[DeliveryState.DELIVERED, DeliveryState.OPENED],
                                   paper=False, dispatched_at__lte=overdue_cutoff(now))


def send_overdue_reminders(now: dt.datetime | None = None) -> int:
    """Remind the recipient's clerks of every overdue delivery, once per delivery (restart
    safe: ``reminded_at`` is set under a row lock, notifications have dedup keys)."""
    count = 0
    ids = list(overdue_deliveries(now).filter(reminded_at__isnull=True)
               .values_list("pk", flat=True))
    for delivery_id in ids:
        count += _remind(delivery_id=delivery_id)
    return count


@_verb
def _remind(*, delivery_id: int) -> int:
    delivery = _lock_delivery(delivery_id)
    if delivery.reminded_at is not None or not delivery.overdue:
        return 0
    delivery.reminded_at = timezone.now()
    delivery.save(update_fields=["reminded_at"])
    doc = delivery.dispatch.document
    hours = int(getattr(settings, "GONGWEN", {}).get("RECEIPT_HOURS", 24))
    _notify_unit(delivery.recipient_unit_id, Notification.Kind.OVERDUE,
                 f"催办提醒：《{doc.title}》已送达超过{hours}小时仍未签收，请及时处理。",
                 _delivery_link(delivery), f"overdue:{delivery.pk}")
    _notify_sender(delivery, Notification.Kind.OVERDUE,
                   f"{delivery.recipient_unit.name}超过{hours}小时未签收《{doc.title}》，请跟踪催办。",
                   dedup=f"overdue-sender:{delivery.pk}")
    record(None, "exchange.reminded", delivery, unit=delivery.recipient_unit,
           actor_name="scheduler")
    return 1


# -- notifications (R-FLOW-7) ----------------------------------------------------------------
def _delivery_link(delivery: Delivery) -> str:
    return reverse("web:delivery", args=[delivery.pk])


# The recipient's notices that ask for work on a delivery (their dedup keys' first part).
_WORK_NOTICES = ("incoming", "overdue")


def _work_notice_keys(delivery_ids_by_unit: dict[int, list[int]],
                      user_ids_by_unit: dict[int, list[int]]) -> list[str]:
    return [f"{kind}:{pk}:u{uid}" for unit, pks in delivery_ids_by_unit.items()
            for uid in user_ids_by_unit.get(unit, ()) for pk in pks for kind in _WORK_NOTICES]


def settle_notices(deliveries: Iterable[Delivery]) -> int:
    """The 新来文 and 超时 notices of deliveries now handled (签收, 退回, returned after a
    failed check) become read for every clerk of the receiving unit: the work they asked
    for is done, and the badge must not count it (QA). By their dedup keys: one indexed
    UPDATE."""
    by_unit: dict[int, list[int]] = {}
    for d in deliveries:
        by_unit.setdefault(d.recipient_unit_id, []).append(d.pk)
    if not by_unit:
        return 0
    users: dict[int, list[int]] = {}
    for uid, unit in _clerks(*by_unit).values_list("pk", "unit_id"):
        users.setdefault(unit, []).append(uid)
    keys = _work_notice_keys(by_unit, users)
    return Notification.objects.filter(dedup_key__in=keys, read_at__isnull=True) \
        .update(read_at=timezone.now()) if keys else 0


def read_notices_of(user, delivery: Delivery) -> int:
    """The user's own notices about ``delivery`` become read once they open its page."""
    keys = _work_notice_keys({delivery.recipient_unit_id: [delivery.pk]},
                             {delivery.recipient_unit_id: [user.pk]})
    return Notification.objects.filter(user=user, dedup_key__in=keys, read_at__isnull=True) \
        .update(read_at=timezone.now())


def _clerks(*unit_ids: int):
    return User.objects.filter(unit_id__in=unit_ids, is_active=True,
                               role_grants__role=Role.CLERK).distinct()


def _notify(users, kind: str, text: str, link: str, dedup: str, unit_id=None) -> list[int]:
    """One notice per user, at most once per ``dedup`` key: the keys already there are read
    in one query and the new notices written with one ``bulk_create`` (a notice made by a
    concurrent run meanwhile is skipped by ``ignore_conflicts``). E-mail goes out after the
    commit when it is enabled. Returns one entry per new notice: its id when e-mail is
    enabled (read back for the mail task), else None (no query)."""
    return _store_notices([Notification(user=user, unit_id=unit_id or user.unit_id, kind=kind,
                                        text=text[:300], link=link,
                                        dedup_key=f"{dedup}:u{user.pk}"[:120])
                           for user in users])


def _store_notices(notices: list[Notification]) -> list[int]:
    """Write the notices whose dedup keys are new (see ``_notify``)."""
    by_key = {n.dedup_key: n for n in notices}
    if not by_key:
        return []
    have = set(Notification.objects.filter(dedup_key__in=list(by_key))
               .values_list("dedup_key", flat=True))
    fresh = [n for k, n in by_key.items() if k not in have]
    if not fresh:
        return []
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    if not email_enabled():
        return [n.pk for n in fresh]
    made = list(Notification.objects.filter(dedup_key__in=[n.dedup_key for n in fresh],
                                            emailed_at__isnull=True)
                .values_list("pk", flat=True))
    if made:
        from . import tasks

        _enqueue(tasks.email_notifications, made)
    return made


def _notify_unit(unit_id: int, kind: str, text: str, link: str, dedup: str) -> list[int]:
    return _notify(_clerks(unit_id), kind, text, link, dedup, unit_id)


def _notify_senders(notices: list[tuple[Delivery, str]], kind: str, dedup: str = ""
                    ) -> list[int]:
    """The dispatching clerk and the sender unit's clerks, for one delivery or many at once
    (批量签收): the senders' clerks in one query, the existing dedup keys in one, the new
    notices in one ``bulk_create`` and one e-mail task for all of them. ``dedup`` (one
    delivery) replaces the default key kind:delivery:state."""
    if not notices:
        return []
    clerks: dict[int, dict[int, User]] = {d.dispatch.sender_unit_id: {} for d, _ in notices}
    for user in _clerks(*clerks):
        clerks[user.unit_id][user.pk] = user
    fresh: list[Notification] = []
    for delivery, text in notices:
        sent = delivery.dispatch
        users = dict(clerks[sent.sender_unit_id])
        if sent.by.is_active:
            users.setdefault(sent.by_id, sent.by)
        link = reverse("web:dispatch", args=[sent.pk])
        key = dedup or f"{kind}:{delivery.pk}:{delivery.state}"
        fresh += [Notification(user=user, unit_id=sent.sender_unit_id, kind=kind,
                               text=text[:300], link=link, dedup_key=f"{key}:u{user.pk}"[:120])
                  for user in users.values()]
    return _store_notices(fresh)


def _notify_sender(delivery: Delivery, kind: str, text: str, dedup: str = "") -> list[int]:
    """The dispatching clerk and the sender unit's clerks."""
    return _notify_senders([(delivery, text)], kind, dedup)


def notify_dispatch(dispatch_id: int) -> int:
    """新来文 notices to the clerks of every networked recipient (idempotent)."""
    sent = Dispatch.objects.select_related(
        "document", "sender_unit", "document__answers__dispatch__document").get(pk=dispatch_id)
    doc = sent.document
    # An answer (批复, 复函) tells the asking unit which of its requests it answers.
    asked = doc.answers.dispatch if doc.answers_id else None
    # A correction says it is one; what it corrects only to those that received that
    # (documents.selectors.corrected_document).
    had_original = set(Delivery.objects.filter(dispatch__document_id=doc.corrects_id)
                       .values_list("recipient_unit_id", flat=True)) if doc.corrects_id else ()
    kind = "新来文（更正公文）" if doc.corrects_id else "新来文"
    made = 0
    for d in sent.deliveries.filter(paper=False, state__in=[DeliveryState.DELIVERED,
                                                            DeliveryState.OPENED]):
        answers = (f"，答复本单位《{asked.document.title}》"
                   if asked is not None and asked.sender_unit_id == d.recipient_unit_id else "")
        corrects = (f"，更正此前来文《{doc.corrects.title}》"
                    if d.recipient_unit_id in had_original else "")
        with transaction.atomic():
            made += len(_notify_unit(
                d.recipient_unit_id, Notification.Kind.INCOMING,
                f"{kind}：{sent.sender_unit.name}《{doc.title}》"
                f"（{d.get_role_display()}）{answers}{corrects}，请及时签收。"[:300],
                _delivery_link(d), f"incoming:{d.pk}"))
    return made


def email_enabled() -> bool:
    """E-mail goes out when SMTP is configured, or with a non-SMTP backend other than the
    development console (tests use the in-memory backend)."""
    backend = settings.EMAIL_BACKEND
    if backend.endswith(("console.EmailBackend", "dummy.EmailBackend")):
        return False
    if backend.endswith("smtp.EmailBackend"):
        return bool(settings.EMAIL_HOST)
    return True


def public_url(path: str) -> str:
    """``path`` of this platform as people outside it reach it (GONGWEN_PUBLIC_URL): links
    in e-mails, the QR code of a printed copy."""
    return str(getattr(settings, "GONGWEN", {}).get("PUBLIC_URL", "")).rstrip("/") + path


def email_notifications(ids: list[int]) -> int:
    if not email_enabled():
        return 0
    sent = 0
    for note in Notification.objects.filter(pk__in=ids, emailed_at__isnull=True) \
            .select_related("user"):
        if not note.user.email:
            continue
        # Mark first: a crash after sending repeats nothing; a failed send is logged.
        if not Notification.objects.filter(pk=note.pk, emailed_at__isnull=True) \
                .update(emailed_at=timezone.now()):
            continue
        send_mail(f"【电子公文】{note.get_kind_display()}", f"{note.text}\n\n{public_url(note.link)}",
                  None, [note.user.email], fail_silently=True)
        sent += 1
    return sent


def mark_read(*, user, notification_id: int | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
