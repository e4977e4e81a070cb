"""收文, 发文, 跟踪 and notifications (R-FLOW-1..3, R-FLOW-7): parse, call one service,
render. Objects outside the user's unit answer 404 through the permission layer."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from gongwen.documents import blobs, replies
from gongwen.documents.forwarding import forwardable
from gongwen.documents.models import OfficialDocument
from gongwen.documents.selectors import corrected_document
from gongwen.exchange import hooks, printing, selectors, services
from gongwen.exchange.models import Delivery, Dispatch, FollowUp, Notification
from gongwen.pki.errors import PKIError
from gongwen.policy.permissions import Perm, can, require, visible_deliveries

from .common import error_messages, flash_errors, paginate, requires, search_params


def _delivery(request, delivery_id: int) -> Delivery:
    delivery = (Delivery.objects.select_related("dispatch", "dispatch__document",
                                                "dispatch__sender_unit", "recipient_unit")
                .filter(pk=delivery_id).first())
    if delivery is None:
        raise Http404("未找到该来文。")
    require(request.user, Perm.VIEW_DELIVERY, delivery, request=request)
    return delivery


# -- 收文 --------------------------------------------------------------------------------------
@requires(Perm.VIEW_INBOX)
def inbox(request):
    tab = request.GET.get("tab", "pending")
    tabs = selectors.INBOX_PAGE_TABS
    if tab not in tabs:
        tab = "pending"
    search = search_params(request)
    page = paginate(request, selectors.inbox_for(request.user, tab, tabs, **search))
    counts = selectors.inbox_counts(request.user, tabs)
    tabs = [(k, label, counts.get(k, 0)) for k, (label, _) in tabs.items()]
    template = "exchange/_inbox_rows.html" if request.htmx else "exchange/inbox.html"
    batch = tab == "pending" and can(request.user, Perm.RECEIVE)
    return render(request, template, {"page": page, "tab": tab, "tabs": tabs,
                                      "search": search, "title": "收文", "batch": batch,
                                      "key": uuid.uuid4(),
                                      "perms_receive": can(request.user, Perm.RECEIVE)})


@require_POST
@requires(Perm.RECEIVE)
def inbox_sign(request):
    """批量签收: the ticked items of the 未签收 tab with one PIN; one message per item."""
    back = redirect(f"{reverse('web:inbox')}?tab=pending")
    try:
        items = services.sign_receipts(actor=request.user,
                                       delivery_ids=request.POST.getlist("ids"),
                                       pin=request.POST.get("pin", ""),
                                       key=request.POST.get("key"), request=request)
    except (ValidationError, PKIError) as exc:
        flash_errors(request, exc)
        return back
    own = {d.pk: d for d in visible_deliveries(request.user).filter(
        recipient_unit_id=request.user.unit_id, pk__in=[i.delivery_id for i in items])
        .select_related("dispatch__document", "recipient_unit")}
    signed = sum(1 for i in items if i.ok)
    if signed:
        messages.success(request, f"已签收 {signed} 件，签收回执已生成并发送给发文单位。")
    for item in items:
        d = own.get(item.delivery_id)
        label = f"《{d.dispatch.document.title}》" if d is not None else "所选来文"
        if item.ok:
            number = d.registration_number if d is not None else ""
            messages.success(request, f"{label}：已签收" + (f"，收文登记号 {number}" if number
                                                            else "。"))
        else:
            messages.error(request, f"{label}：{item.error_zh}")
    return back


@requires(Perm.VIEW_DELIVERY)
def delivery_detail(request, delivery_id: int):
    delivery = _delivery(request, delivery_id)
    is_recipient = delivery.recipient_unit_id == request.user.unit_id
    if is_recipient and can(request.user, Perm.RECEIVE, delivery) and delivery.is_pending:
        delivery = services.open_delivery(actor=request.user, delivery_id=delivery.pk,
                                          request=request)
        delivery = _delivery(request, delivery.pk)
    if is_recipient:
        services.read_notices_of(request.user, delivery)
    report = hooks.Report.from_dict(delivery.verification)
    may_receive = (is_recipient and delivery.is_pending and not delivery.paper
                   and can(request.user, Perm.RECEIVE, delivery))
    return render(request, "exchange/delivery.html", {
        "title": delivery.dispatch.document.title, "d": delivery, "doc": delivery.dispatch.document,
        "report": report, "is_recipient": is_recipient,
        "may_sign": may_receive and report is not None and report.ok,
        "may_return": may_receive,
        "has_disk": services.receipt_key_disk(request.user) is not None,
        "receipt": getattr(delivery, "receipt", None) if delivery.state == "signed" else None,
        "key": uuid.uuid4(),
        "follow_ups": delivery.follow_ups.select_related("by")
        if not is_recipient else [],
        "copies": delivery.copies.select_related("printed_by") if is_recipient else [],
        "may_print": (is_recipient and delivery.state == "signed"
                      and can(request.user, Perm.PRINT, delivery)
                      and not printing.limit_reached(delivery)),
        "may_receive_paper": is_recipient and can(request.user, Perm.RECEIVE, delivery),
        "may_forward": forwardable(request.user, delivery),
        # 答复: the answers this unit started to a received 请示/函, and the button.
        "may_answer": replies.answerable(request.user, delivery),
        "reply_key": uuid.uuid4(),  # its own: a key replayed for 转发 would be refused
        "answers": replies.answers_of(delivery) if is_recipient else [],
        "answer_word": replies.ANSWERED_TYPES.get(delivery.dispatch.document.doc_type,
                                                  (None, ""))[1],
        # The asking unit reading an answer: the request it answers.
        "answered": replies.answered_request(request.user, delivery.dispatch.document),
        "corrected": corrected_document(request.user, delivery.dispatch.document),
    })


@require_POST
@requires(Perm.RECEIVE)
def delivery_sign(request, delivery_id: int):
    delivery = _delivery(request, delivery_id)
    try:
        services.sign_receipt(actor=request.user, delivery_id=delivery.pk,
                              pin=request.POST.get("pin", ""), key=request.POST.get("key"),
                              request=request)
        messages.success(request, "已签收，签收回执已生成并发送给发文单位。")
    except (ValidationError, PKIError) as exc:
        flash_errors(request, exc)
    return redirect("web:delivery", delivery_id=delivery.pk)


@require_POST
@requires(Perm.RECEIVE)
def delivery_return(request, delivery_id: int):
    delivery = _delivery(request, delivery_id)
    try:
        services.return_delivery(actor=request.user, delivery_id=delivery.pk,
                                 reason=request.POST.get("reason", ""),
                                 key=request.POST.get("key"), request=request)
        messages.success(request, "已退回发文单位。")
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("web:delivery", delivery_id=delivery.pk)


@requires(Perm.VIEW_DELIVERY)
def delivery_file(request, delivery_id: int):
    delivery = _delivery(request, delivery_id)
    sent = delivery.dispatch
    if delivery.state == "withdrawn" and delivery.recipient_unit_id == request.user.unit_id:
        raise Http404("该公文已撤回。")
    try:
        data = blobs.read(sent.fingerprint)
    except (blobs.BlobError, OSError):
        raise Http404("文件不存在。") from None
    name = f"{sent.document.doc_number or sent.document.title}.{sent.file_format}"
    ctype = "application/pdf" if sent.file_format == "pdf" else "application/ofd"
    resp = HttpResponse(data, content_type=ctype)
    resp["Content-Disposition"] = content_disposition_header(True, name)
    return resp


@requires(Perm.VIEW_DELIVERY)
def receipt_download(request, delivery_id: int):
    delivery = _delivery(request, delivery_id)
    receipt = getattr(delivery, "receipt", None) if delivery.state == "signed" else None
    if receipt is None:
        raise Http404("尚无签收回执。")
    resp = HttpResponse(bytes(receipt.content), content_type="application/json")
    resp["Content-Disposition"] = content_disposition_header(
        True, f"receipt-{delivery.pk}-{delivery.registration_serial}.json")
    return resp


# -- 发文 --------------------------------------------------------------------------------------
@requires(Perm.VIEW_OUTBOX)
def outbox(request):
    search = search_params(request)
    status = request.GET.get("status", "")
    if status not in selectors.OUTBOX_FILTERS:
        status = ""
    page = paginate(request, selectors.outbox_for(request.user, status, **search))
    ready = list(selectors.sealed_to_dispatch(request.user)[:50]) \
        if can(request.user, Perm.DISPATCH) else []
    for doc in ready:
        # One idempotency key per document and page view: a double click or a retry of the
        # same form reuses it; the service refuses a key already used for another document.
        doc.dispatch_key = uuid.uuid4()
    template = "exchange/_outbox_rows.html" if request.htmx else "exchange/outbox.html"
    return render(request, template, {"page": page, "search": search, "ready": ready,
                                      "status": status,
                                      "statuses": list(selectors.OUTBOX_FILTERS.items()),
                                      "key": uuid.uuid4(), "title": "发文"})


@require_POST
@requires(Perm.DISPATCH)
def dispatch_document(request, doc_id: int):
    try:
        sent = services.dispatch(actor=request.user, doc_id=doc_id, key=request.POST.get("key"),
                                 request=request)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("web:outbox")
    messages.success(request, f"已分发至 {sent.deliveries.count()} 个收文单位。")
    return redirect("web:dispatch", dispatch_id=sent.pk)


@require_POST
@requires(Perm.DISPATCH)
def dispatch_documents(request):
    """批量分发: the ticked documents of 待分发; one message per document."""
    try:
        items = services.dispatch_many(actor=request.user, doc_ids=request.POST.getlist("ids"),
                                       key=request.POST.get("key"), request=request)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("web:outbox")
    # Titles only of the user's own unit's documents (another unit's stay "所选公文").
    titles = dict(OfficialDocument.objects.filter(
        unit_id=request.user.unit_id, pk__in=[i.doc_id for i in items])
        .values_list("pk", "title"))
    counts = dict(Delivery.objects.filter(dispatch_id__in=[i.result.pk for i in items if i.ok])
                  .values("dispatch_id").annotate(n=Count("id"))
                  .values_list("dispatch_id", "n"))
    done = sum(1 for i in items if i.ok and not i.already)
    if done:
        messages.success(request, f"已分发 {done} 件公文。")
    for item in items:
        label = f"《{titles[item.doc_id]}》" if item.doc_id in titles else "所选公文"
        if item.ok:
            n = counts.get(item.result.pk, 0)
            messages.success(request, f"{label}：" + (f"此前已分发（{n} 个收文单位），未重复分发。"
                                                      if item.already
                                                      else f"已分发至 {n} 个收文单位。"))
        else:
            messages.error(request, f"{label}：{item.error_zh}")
    return redirect("web:outbox")


def _dispatch(request, dispatch_id: int) -> Dispatch:
    sent = Dispatch.objects.select_related("document", "sender_unit", "by").filter(
        pk=dispatch_id).first()
    if sent is None:
        raise Http404("未找到该发文。")
    require(request.user, Perm.TRACK, sent, request=request)
    return sent


@requires(Perm.VIEW_OUTBOX)
def dispatch_detail(request, dispatch_id: int):
    sent = _dispatch(request, dispatch_id)
    deliveries = sent.deliveries.select_related("recipient_unit", "via_group", "handled_by") \
        .prefetch_related("follow_ups").annotate(copy_count=Count("copies")).order_by("role", "id")
    is_sender = can(request.user, Perm.DISPATCH, sent)
    return render(request, "exchange/dispatch.html", {
        "title": sent.document.title, "sent": sent, "doc": sent.document,
        "deliveries": deliveries, "key": uuid.uuid4(),
        "withdrawal": selectors.withdrawal_label(sent.document, sent),
        "may_limit": is_sender,
        "today": timezone.localdate(),
        "answers": replies.answers_received(request.user, sent)
        if sent.document.doc_type in replies.ANSWERED_TYPES else [],
        "may_withdraw": sent.withdrawn_at is None and is_sender
        and any(d.is_pending for d in deliveries)})


@require_POST
@requires(Perm.DISPATCH)
def dispatch_withdraw(request, dispatch_id: int):
    sent = _dispatch(request, dispatch_id)
    try:
        services.withdraw(actor=request.user, dispatch_id=sent.pk,
                          reason=request.POST.get("reason", ""), key=request.POST.get("key"),
                          request=request)
        messages.success(request, "已撤回，收文单位将看到撤回原因。")
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("web:dispatch", dispatch_id=sent.pk)


# -- 跟踪 --------------------------------------------------------------------------------------
@requires(Perm.TRACK)
def tracking(request):
    only = request.GET.get("only", "open")
    search = search_params(request)
    page = paginate(request, selectors.tracking_for(request.user, only, **search))
    template = "exchange/_tracking_rows.html" if request.htmx else "exchange/tracking.html"
    return render(request, template, {"page": page, "only": only, "search": search,
                                      "title": "跟踪", "now": timezone.localtime(),
                                      **_follow_up_form()})


def _follow_up_form() -> dict:
    return {"hows": FollowUp.How.choices,
            "contact_max": FollowUp._meta.get_field("contact").max_length,
            "note_max": FollowUp._meta.get_field("note").max_length}


def _next(request) -> str:
    """Where to go after a form: a local path only (no open redirect), else the board."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse("web:tracking")


@require_POST
@requires(Perm.TRACK)
def follow_up(request, delivery_id: int):
    """登记催办 from the 跟踪 board (HTMX: the row's cell comes back with the record added,
    or with the refusal above the form and the input kept; a 200 either way, as htmx swaps
    only those) or from a plain form (a message and back to the page)."""
    delivery = _delivery(request, delivery_id)
    key = request.POST.get("key") or str(uuid.uuid4())
    try:
        services.record_follow_up(actor=request.user, delivery_id=delivery.pk,
                                  how=request.POST.get("how", ""),
                                  contact=request.POST.get("contact", ""),
                                  at=_follow_up_time(request.POST.get("at", "")),
                                  note=request.POST.get("note", ""), key=key, request=request)
    except ValidationError as exc:
        if not request.htmx:
            flash_errors(request, exc)
            return redirect(_next(request))
        delivery.refresh_from_db()  # signed since the board was loaded: no form any more
        return _follow_up_cell(request, delivery, errors=error_messages(exc), key=key,
                               entered=request.POST)
    if request.htmx:
        return _follow_up_cell(request, delivery, recorded=True)
    messages.success(request, "催办情况已登记。")
    return redirect(_next(request))


def _follow_up_time(raw: str) -> dt.datetime | None:
    raw = raw.strip()
    if not raw:
        return None  # now
    try:
        at = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationError("催办时间格式不正确，请按“年-月-日 时:分”填写。") from None
    return timezone.make_aware(at) if timezone.is_naive(at) else at


def _follow_up_cell(request, delivery, **context):
    return render(request, "exchange/_follow_up_cell.html", {
        "d": delivery, "follow_ups": delivery.follow_ups.select_related("by"),
        **_follow_up_form(), **context})


# -- 通知 --------------------------------------------------------------------------------------
@login_required
def notifications(request):
    qs = Notification.objects.filter(user=request.user)
    page = paginate(request, qs)
    return render(request, "exchange/notifications.html", {"page": page, "title": "通知"})


@require_POST
@login_required
def notifications_read(request):
    nid = request.POST.get("id")
    services.mark_read(user=request.user, notification_id=int(nid) if nid else None)
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Refresh": "true"})
    return redirect("web:notifications")
