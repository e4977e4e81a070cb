"""Read side of the exchange: inbox, outbox, tracking, all through the R-SEC-1 gate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from gongwen.documents.replies import open_requests, unanswered
from gongwen.documents.selectors import document_match
from gongwen.policy.permissions import Perm, can, visible_deliveries

from .models import (
    PENDING_STATES,
    RETURNED_STATES,
    Delivery,
    DeliveryState,
    Dispatch,
    overdue_cutoff,
)

# Signed 请示 and 函 not yet answered (documents.replies.open_requests): a filter on top of
# the state.
TO_ANSWER = "to_answer"
INBOX_TABS = {
    "pending": ("未签收", list(PENDING_STATES)),
    "signed": ("已签收", [DeliveryState.SIGNED]),
    "returned": ("已退回/撤回", [*RETURNED_STATES, DeliveryState.WITHDRAWN]),
    TO_ANSWER: ("待答复", [DeliveryState.SIGNED]),
}
# The web inbox shows 已退回 and 已撤回 apart (the API keeps INBOX_TABS).
INBOX_PAGE_TABS = {
    "pending": INBOX_TABS["pending"],
    "signed": INBOX_TABS["signed"],
    TO_ANSWER: INBOX_TABS[TO_ANSWER],
    "returned": ("已退回", list(RETURNED_STATES)),
    "withdrawn": ("已撤回", [DeliveryState.WITHDRAWN]),
}


def _search(qs: QuerySet, prefix: str, q: str = "", date_from: dt.date | None = None,
            date_to: dt.date | None = None, unit_field: str = "") -> QuerySet:
    if q:
        cond = document_match(q, f"{prefix}document__")
        if unit_field:
            cond |= Q(**{f"{unit_field}__name__icontains": q})
        qs = qs.filter(cond)
    at = f"{prefix}at" if prefix else "at"
    if date_from:
        qs = qs.filter(**{f"{at}__date__gte": date_from})
    if date_to:
        qs = qs.filter(**{f"{at}__date__lte": date_to})
    return qs


def inbox_for(user, tab: str = "pending", tabs: dict = INBOX_TABS,
              **search) -> QuerySet[Delivery]:
    states = tabs.get(tab, tabs["pending"])[1]
    qs = (visible_deliveries(user).filter(recipient_unit_id=user.unit_id, state__in=states)
          .select_related("dispatch", "dispatch__document", "dispatch__sender_unit")
          .order_by("-dispatched_at", "-id"))
    if tab == TO_ANSWER and tab in tabs:
        qs = open_requests(qs)
    return _search(qs, "dispatch__", **search)


def inbox_counts(user, tabs: dict = INBOX_TABS) -> dict[str, int]:
    own = visible_deliveries(user).filter(recipient_unit_id=user.unit_id)
    by_state = {r["state"]: r["n"] for r in own.values("state").annotate(n=Count("id"))}
    counts = {tab: sum(by_state.get(s, 0) for s in states)
              for tab, (_, states) in tabs.items()}
    if TO_ANSWER in tabs:
        counts[TO_ANSWER] = open_requests(own).count()
    return counts


OUTBOX_FILTERS = {
    "": "全部",
    "open": "有未签收",
    "overdue": "有超时",
    "returned": "有退回",
    "withdrawn": "已撤回",
    "partial": "部分撤回",
    "unanswered": "请示/函待答复",
}


def outbox_for(user, status: str = "", **search) -> QuerySet[Dispatch]:
    """发文: the unit's dispatches with their counts, newest first. The search (title, 字号,
    recipient unit, date) picks the dispatches first, so a recipient-unit match does not
    multiply the counts."""
    from gongwen.documents.models import State

    if not user.unit_id:
        return Dispatch.objects.none()
    base = Dispatch.objects.filter(sender_unit_id=user.unit_id)
    if any(search.values()):
        base = Dispatch.objects.filter(pk__in=_search(
            base, "", unit_field="deliveries__recipient_unit", **search).values("pk"))
    if status == "withdrawn":
        base = base.filter(document__state=State.WITHDRAWN)
    elif status == "partial":
        base = base.filter(withdrawn_at__isnull=False).exclude(document__state=State.WITHDRAWN)
    elif status == "unanswered":
        base = unanswered(base)
    qs = base.select_related("document", "by").annotate(
        total=Count("deliveries"),
        n_signed=Count("deliveries", filter=Q(deliveries__state=DeliveryState.SIGNED)),
        n_returned=Count("deliveries", filter=Q(deliveries__state__in=RETURNED_STATES)),
        n_pending=Count("deliveries", filter=Q(deliveries__state__in=PENDING_STATES)),
        n_withdrawn=Count("deliveries", filter=Q(deliveries__state=DeliveryState.WITHDRAWN)),
        n_overdue=Count("deliveries", filter=Q(deliveries__state__in=PENDING_STATES,
                                               deliveries__paper=False,
                                               deliveries__dispatched_at__lte=overdue_cutoff())),
    ).order_by("-at", "-id")
    if status == "open":
        qs = qs.filter(n_pending__gt=0)
    elif status == "overdue":
        qs = qs.filter(n_overdue__gt=0)
    elif status == "returned":
        qs = qs.filter(n_returned__gt=0)
    return qs


def tracking_for(user, only: str = "open", **search) -> QuerySet[Delivery]:
    qs = (Delivery.objects.filter(dispatch__sender_unit_id=user.unit_id)
          .select_related("dispatch", "dispatch__document", "recipient_unit")
          .prefetch_related("follow_ups").order_by("dispatched_at", "id"))
    if only == "overdue":
        qs = qs.filter(state__in=PENDING_STATES, paper=False,
                       dispatched_at__lte=overdue_cutoff())
    elif only == "open":
        qs = qs.filter(state__in=PENDING_STATES)
    return _search(qs, "dispatch__", unit_field="recipient_unit", **search)


def sealed_to_dispatch(user):
    """Sealed documents of the unit waiting for 分发."""
    from gongwen.documents.models import OfficialDocument, State

    if not user.unit_id:
        return OfficialDocument.objects.none()
    return OfficialDocument.objects.filter(unit_id=user.unit_id, state=State.SEALED) \
        .order_by("-updated_at")


def file_report(delivery) -> dict | None:
    """The sealing verification (documents.verification.VerificationReport.to_json()) of the
    file that was dispatched with ``delivery``, computed now; None if the file is missing.
    The report that gates 签收 is the one the services store on the delivery."""
    from gongwen.documents import blobs, sealing, verification

    sent = delivery.dispatch
    try:
        data = blobs.read(sent.fingerprint)
    except (blobs.BlobError, OSError):
        return None
    doc = sent.document
    return verification.verify_file(data, document=doc,
                                    claimed_units=sealing.sealing_issuers(doc)).to_json()


# -- the document page: exchange facts and the timeline ---------------------------------------
PARTIAL_WITHDRAWAL = "部分撤回"


def withdrawal_label(doc, sent) -> str:
    """"已撤回" when the document itself was withdrawn (nobody had signed), "部分撤回" when the
    dispatch was withdrawn after some recipients had signed, "" otherwise."""
    from gongwen.documents.models import State

    if doc.state == State.WITHDRAWN:
        return State.WITHDRAWN.label
    if sent is not None and sent.withdrawn_at is not None:
        return PARTIAL_WITHDRAWAL
    return ""


@dataclass(frozen=True)
class Event:
    """One line of a document's timeline."""

    at: dt.datetime
    kind: str          # machine name, also the CSS class: created, submitted, approved, …
    label: str         # 中文: 起草, 提交核批, 核批签发, …
    who: str = ""      # person (and unit) who acted
    detail: str = ""   # opinion, reason, 收文登记号, seal, …
    unit: str = ""     # the recipient unit an exchange event is about


def document_exchange(user, doc) -> dict:
    """What the document page shows of the exchange, for ``user`` who may see ``doc``:
    the dispatch, the deliveries the user may know of — every recipient for the sending unit
    (tracking is the sender's, R-FLOW-3), only its own delivery for a recipient unit — and
    their receipts (without the file content)."""
    sent = (Dispatch.objects.select_related("by", "withdrawn_by", "sender_unit")
            .filter(document=doc).first())
    out = {"sent": sent, "is_sender": False, "deliveries": [], "withdrawal": "",
           "may_track": False}
    if sent is None:
        return out
    out["withdrawal"] = withdrawal_label(doc, sent)
    is_sender = user.unit_id == sent.sender_unit_id
    out["is_sender"] = is_sender
    out["may_track"] = is_sender and can(user, Perm.TRACK, sent)
    qs = (sent.deliveries.select_related("recipient_unit", "via_group", "handled_by",
                                         "receipt", "receipt__signed_by", "receipt__certificate")
          .defer("receipt__content").prefetch_related("follow_ups__by").order_by("role", "id"))
    if not out["may_track"]:
        qs = qs.filter(recipient_unit_id=user.unit_id)
    out["deliveries"] = list(qs)
    return out


def _name(user) -> str:
    return getattr(user, "display_name", "") or getattr(user, "username", "") or ""


def document_timeline(user, doc, exchange: dict | None = None) -> list[Event]:
    """The document's history, oldest first, from the records that already exist: the audit
    trail of the document (created, submitted, withdrawn from approval, sealed, correction),
    the 核批 records (approved or returned, with the opinion), the dispatch, each delivery
    (delivered, opened, signed, returned, withdrawn, reminded) and the follow-ups.

    The issuing unit sees all of it. A recipient unit sees the dispatch to it and its own
    delivery only — never the drafting, the approval or the other recipients (R-SEC-1,
    R-FLOW-3: tracking is for the sender)."""
    from gongwen.audit.models import AuditEntry

    exchange = exchange if exchange is not None else document_exchange(user, doc)
    own = doc.unit_id == user.unit_id
    events: list[Event] = []
    if own:
        labels = {"document.created": ("created", "起草"),
                  "document.submitted": ("submitted", "提交核批"),
                  "document.withdrawn": ("recalled", "撤回核批"),
                  "document.sealed": ("sealed", "用印"),
                  "document.correction_started": ("correction", "以原公文为基础起草更正")}
        entries = (AuditEntry.objects.filter(target_type=doc._meta.label_lower,
                                             target_id=str(doc.pk), action__in=list(labels))
                   .select_related("actor").order_by("seq"))
        for e in entries:
            kind, label = labels[e.action]
            detail = ""
            if e.action == "document.sealed":
                d = e.detail or {}
                detail = f"{d.get('seal_unit', '')}印章（第{d.get('seal', 1)}/{d.get('of', 1)}枚）"
            elif e.action == "document.correction_started":
                detail = f"更正 {(e.detail or {}).get('corrects_number', '')}".strip()
            events.append(Event(e.at, kind, label, _name(e.actor) or e.actor_name, detail))
        for r in doc.reviews.select_related("by").order_by("at", "id"):
            approved = r.action == "approve"
            events.append(Event(r.at, "approved" if approved else "returned",
                                "核批签发" if approved else "退回修改", _name(r.by),
                                f"意见：{r.comment}" if r.comment else ""))
        for c in doc.corrections.order_by("created_at", "id"):
            events.append(Event(c.created_at, "corrected", "已起草更正公文", _name(c.created_by),
                                f"《{c.title}》"))
    sent = exchange.get("sent")
    if sent is not None:
        deliveries = exchange.get("deliveries", [])
        sender = exchange.get("may_track", False)
        if sender:
            paper = sum(1 for d in deliveries if d.paper)
            events.append(Event(sent.at, "dispatched", "分发", _name(sent.by),
                                f"送达 {len(deliveries)} 个单位"
                                + (f"（其中未联网·纸质 {paper} 个）" if paper else "")))
        for d in deliveries:
            unit = d.recipient_unit.name
            if not sender:
                events.append(Event(d.dispatched_at, "delivered", "来文送达",
                                    sent.sender_unit.name, d.get_role_display(), unit))
            if d.opened_at:
                events.append(Event(d.opened_at, "opened", "打开", unit=unit,
                                    who=_name(d.handled_by) if not d.signed_at else ""))
            if d.reminded_at:
                events.append(Event(d.reminded_at, "reminded", "超时未签收提醒", unit=unit))
            for f in sorted(d.follow_ups.all(), key=lambda f: (f.at, f.pk)) if sender else ():
                events.append(Event(f.at, "follow_up", f.get_how_display(), _name(f.by),
                                    "；".join(x for x in (f.contact, f.note) if x), unit))
            receipt = getattr(d, "receipt", None) if d.signed_at else None
            if d.signed_at:
                events.append(Event(d.signed_at, "signed", "签收",
                                    _name(receipt.signed_by) if receipt else _name(d.handled_by),
                                    f"收文登记号 {d.registration_number}", unit))
            if d.returned_at:
                events.append(Event(d.returned_at, "returned_by_recipient",
                                    d.get_state_display(), _name(d.handled_by),
                                    f"原因：{d.return_reason}", unit))
            if d.withdrawn_at and not sender:
                events.append(Event(d.withdrawn_at, "withdrawn", "发文单位撤回",
                                    sent.sender_unit.name, f"原因：{sent.withdraw_reason}", unit))
        if sender and sent.withdrawn_at:
            n = sum(1 for d in deliveries if d.withdrawn_at)
            label = withdrawal_label(doc, sent) or "撤回"
            events.append(Event(sent.withdrawn_at, "withdrawn", f"撤回（{label}）",
                                _name(sent.withdrawn_by),
                                f"原因：{sent.withdraw_reason}；撤回 {n} 个单位的送达"))
    events.sort(key=lambda e: e.at)
    return events


def paper_awaited(user) -> list[Delivery]:
    """Requests (请示) to the user's unit, dispatched during the 纸电并行 run, whose paper
    copy has not arrived yet (R-FLOW-4): what the mail room should expect."""
    from gongwen.documents.models import DocType

    return list(Delivery.objects.filter(recipient_unit_id=user.unit_id,
                                        dispatch__parallel_run=True,
                                        dispatch__document__doc_type=DocType.REQUEST,
                                        paper_received_on__isnull=True)
                .exclude(state=DeliveryState.WITHDRAWN)
                .select_related("dispatch__document", "dispatch__sender_unit")
                .order_by("dispatched_at", "id")[:200])
