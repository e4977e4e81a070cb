"""Document exchange (R-FLOW-1..3, R-FLOW-7): a dispatch of a sealed document, one delivery
per recipient unit, signed receipts (签收回执), follow-ups (催办) and notifications.

A delivery moves only through ``DELIVERY_TRANSITIONS`` (one dict beside the model, as the
documents app does); the services call ``delivery.apply(action)``, views never set ``.state``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone


def receipt_hours() -> int:
    """Hours after dispatch after which an unsigned recipient is overdue (notice §3(7))."""
    return int(getattr(settings, "GONGWEN", {}).get("RECEIPT_HOURS", 24))


def overdue_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(hours=receipt_hours())


class Dispatch(models.Model):
    """One sending of a sealed document to its 主送/抄送 units. A document is dispatched once
    (``document`` is one-to-one): a correction is a new document (R-FLOW-1)."""

    document = models.OneToOneField("documents.OfficialDocument", verbose_name="公文",
                                    on_delete=models.PROTECT, related_name="dispatch")
    sender_unit = models.ForeignKey("units.Unit", verbose_name="发文单位",
                                    on_delete=models.PROTECT, related_name="dispatches")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="分发人",
                           on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("分发时间")
    idempotency_key = models.UUIDField("幂等键", unique=True, editable=False)
    # Digest of the dispatched file as the blob store names it: "sm3:<hex>" (GM suite).
    fingerprint = models.CharField("文件指纹", max_length=80)
    file_format = models.CharField("文件格式", max_length=4)
    size = models.PositiveBigIntegerField("文件大小", default=0)
    # 撤回 (R-FLOW-1): every delivery not yet signed for becomes withdrawn.
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="撤回人", null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    withdraw_reason = models.CharField("撤回原因", max_length=300, blank=True)
    withdraw_key = models.UUIDField("撤回幂等键", null=True, blank=True, unique=True,
                                    editable=False)
    print_limit = models.PositiveSmallIntegerField(
        "每单位打印份数上限", null=True, blank=True,
        help_text="收文单位通过平台打印的份数上限；空为不限（《电子印章管理暂行办法》第二条）")
    # Dispatched while a 纸电并行 phase was in force (R-POLICY-2): paper copies go out too.
    parallel_run = models.BooleanField("纸电并行期分发", default=False)

    class Meta:
        verbose_name = "分发"
        verbose_name_plural = "分发"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["sender_unit", "at"])]

    def __str__(self) -> str:
        return f"{self.document} · 分发"

    @property
    def overdue_at(self) -> dt.datetime:
        return self.at + dt.timedelta(hours=receipt_hours())


class DeliveryState(models.TextChoices):
    DELIVERED = "delivered", "待签收"
    OPENED = "opened", "已打开"
    SIGNED = "signed", "已签收"
    RETURNED = "returned", "已退回"
    WITHDRAWN = "withdrawn", "已撤回"
    REJECTED_INVALID = "rejected_invalid", "核验未通过已退回"


class DeliveryAction(models.TextChoices):
    OPEN = "open", "打开"
    SIGN = "sign", "签收"
    RETURN = "return", "退回"
    REJECT = "reject", "核验未通过退回"
    WITHDRAW = "withdraw", "撤回"


DELIVERY_TRANSITIONS: dict[tuple[str, str], str] = {
    (DeliveryState.DELIVERED, DeliveryAction.OPEN): DeliveryState.OPENED,
    (DeliveryState.DELIVERED, DeliveryAction.SIGN): DeliveryState.SIGNED,
    (DeliveryState.OPENED, DeliveryAction.SIGN): DeliveryState.SIGNED,
    (DeliveryState.DELIVERED, DeliveryAction.RETURN): DeliveryState.RETURNED,
    (DeliveryState.OPENED, DeliveryAction.RETURN): DeliveryState.RETURNED,
    (DeliveryState.DELIVERED, DeliveryAction.REJECT): DeliveryState.REJECTED_INVALID,
    (DeliveryState.OPENED, DeliveryAction.REJECT): DeliveryState.REJECTED_INVALID,
    (DeliveryState.DELIVERED, DeliveryAction.WITHDRAW): DeliveryState.WITHDRAWN,
    (DeliveryState.OPENED, DeliveryAction.WITHDRAW): DeliveryState.WITHDRAWN,
}
PENDING_STATES = frozenset({DeliveryState.DELIVERED, DeliveryState.OPENED})
RETURNED_STATES = frozenset({DeliveryState.RETURNED, DeliveryState.REJECTED_INVALID})


class InvalidDeliveryTransition(ValidationError):
    pass


class Delivery(models.Model):
    """The document as one recipient unit receives it (R-FLOW-2, R-FLOW-3)."""

    class Role(models.TextChoices):
        MAIN = "main", "主送"
        COPY = "copy", "抄送"

    dispatch = models.ForeignKey(Dispatch, on_delete=models.CASCADE, related_name="deliveries")
    recipient_unit = models.ForeignKey("units.Unit", verbose_name="收文单位",
                                       on_delete=models.PROTECT, related_name="deliveries")
    role = models.CharField("类别", max_length=8, choices=Role.choices)
    via_group = models.ForeignKey("units.RecipientGroup", verbose_name="来自分组", null=True,
                                  blank=True, on_delete=models.SET_NULL, related_name="+")
    # 非联网单位: the platform records the delivery but the unit receives paper (R-POLICY-2).
    paper = models.BooleanField("纸质送达", default=False)
    state = models.CharField("状态", max_length=20, choices=DeliveryState.choices,
                             default=DeliveryState.DELIVERED)
    dispatched_at = models.DateTimeField("送达时间")
    opened_at = models.DateTimeField("打开时间", null=True, blank=True)
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    returned_at = models.DateTimeField("退回时间", null=True, blank=True)
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    return_reason = models.CharField("退回原因", max_length=500, blank=True)
    return_key = models.UUIDField("退回幂等键", null=True, blank=True, unique=True,
                                  editable=False)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="经办人", null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    # 收文登记号: assigned on 签收, per recipient unit and year, without gaps.
    registration_year = models.PositiveIntegerField("收文登记年份", null=True, blank=True)
    registration_serial = models.PositiveIntegerField("收文登记序号", null=True, blank=True)
    # The last verification report (hooks.Report.as_dict()).
    verification = models.JSONField("核验报告", default=dict, blank=True)
    verified_at = models.DateTimeField("核验时间", null=True, blank=True)
    reminded_at = models.DateTimeField("超时提醒时间", null=True, blank=True)
    # Paper copies that went out beside the electronic one (R-POLICY-2, R-FLOW-4): recorded
    # by the sender; the recipient records the day they arrived.
    paper_copies = models.PositiveSmallIntegerField("纸质件份数", default=0)
    paper_sent_on = models.DateField("纸质件发出日期", null=True, blank=True)
    paper_note = models.CharField("纸质件说明", max_length=300, blank=True)
    paper_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="纸质件登记人",
                                          null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="+")
    paper_received_on = models.DateField("纸质件收到日期", null=True, blank=True)
    paper_received_by = models.ForeignKey(settings.AUTH_USER_MODEL,
                                          verbose_name="纸质件收到登记人", null=True,
                                          blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "送达"
        verbose_name_plural = "送达"
        ordering = ["dispatch_id", "role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dispatch", "recipient_unit"],
                                    name="uniq_delivery_per_unit"),
            models.UniqueConstraint(
                fields=["recipient_unit", "registration_year", "registration_serial"],
                condition=Q(registration_serial__isnull=False), name="uniq_registration_no"),
        ]
        indexes = [models.Index(fields=["recipient_unit", "state"]),
                   models.Index(fields=["state", "dispatched_at"])]

    def __str__(self) -> str:
        return f"{self.dispatch.document} → {self.recipient_unit}"

    def apply(self, action: str) -> str:
        new = DELIVERY_TRANSITIONS.get((self.state, action))
        if new is None:
            raise InvalidDeliveryTransition(
                f"该来文当前状态为“{self.get_state_display()}”，不能{DeliveryAction(action).label}。")
        self.state = new
        return new

    def can_apply(self, action: str) -> bool:
        return (self.state, action) in DELIVERY_TRANSITIONS

    @property
    def is_pending(self) -> bool:
        return self.state in PENDING_STATES

    @property
    def overdue(self) -> bool:
        """Unsigned 24 hours (GONGWEN["RECEIPT_HOURS"]) after dispatch (R-FLOW-3)."""
        return (self.is_pending and not self.paper
                and self.dispatched_at <= overdue_cutoff())

    @property
    def registration_number(self) -> str:
        """收文登记号, e.g. 东海县收〔2006〕15号."""
        if not self.registration_serial:
            return ""
        short = (self.recipient_unit.short_name or "").strip()
        return f"{short}收〔{self.registration_year}〕{self.registration_serial}号"


class RegistrationCounter(models.Model):
    """Last 收文登记号 serial per (unit, year), locked inside ``sign_receipt``."""

    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveIntegerField("年份")
    last = models.PositiveIntegerField("已用序号", default=0)

    class Meta:
        verbose_name = "收文登记号计数器"
        verbose_name_plural = "收文登记号计数器"
        constraints = [models.UniqueConstraint(fields=["unit", "year"],
                                               name="uniq_registration_counter")]

    def __str__(self) -> str:
        return f"{self.unit_id}/{self.year}: {self.last}"


class Receipt(models.Model):
    """签收回执: a file signed with the receiving clerk's unit-receipt key (receipts.py)."""

    delivery = models.OneToOneField(Delivery, on_delete=models.PROTECT, related_name="receipt")
    idempotency_key = models.UUIDField("幂等键", unique=True, editable=False)
    certificate = models.ForeignKey("authority.Certificate", verbose_name="签收证书",
                                    on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="签收人",
                                  on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField("签收时间")
    content = models.BinaryField("回执文件")
    digest = models.CharField("回执摘要", max_length=80)

    class Meta:
        verbose_name = "签收回执"
        verbose_name_plural = "签收回执"

    def __str__(self) -> str:
        return f"回执 {self.delivery}"


class PrintedCopy(models.Model):
    """One paper copy a recipient printed through the platform (R-FLOW-6): its copy number
    within the delivery and a verification code that anyone can check on the public page
    (/v/<code>/) without logging in and without seeing the content."""

    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="copies")
    number = models.PositiveIntegerField("份号")
    code = models.CharField("核验码", max_length=32, unique=True)
    fingerprint = models.CharField("文件指纹", max_length=80,
                                   help_text="打印所用已用印 PDF 的 SM3 摘要")
    printed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="打印人",
                                   on_delete=models.PROTECT, related_name="+")
    printed_at = models.DateTimeField("打印时间")
    idempotency_key = models.UUIDField("幂等键", unique=True, editable=False)

    class Meta:
        verbose_name = "打印件"
        verbose_name_plural = "打印件"
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"],
                                               name="one_copy_number_per_delivery")]

    def __str__(self) -> str:
        return f"第{self.number}份 {self.display_code}"

    @property
    def display_code(self) -> str:
        """The code as printed: groups of four (XXXX-XXXX-XXXX-XXXX)."""
        return "-".join(self.code[i:i + 4] for i in range(0, len(self.code), 4))


class PaperArrival(models.Model):
    """纸质来文登记 (R-FLOW-4): a paper document that reached a unit's mail room, matched to
    its electronic delivery by sender and 发文字号. A request (请示) that came on paper only
    during the roll-out is not accepted: the sender is told to report it electronically."""

    class Outcome(models.TextChoices):
        MATCHED = "matched", "已与电子件对应"
        REFUSED = "refused", "仅纸质件，不予受理"
        RECORDED = "recorded", "已登记（无对应电子件）"

    unit = models.ForeignKey("units.Unit", verbose_name="收文单位", on_delete=models.PROTECT,
                             related_name="paper_arrivals")
    sender_unit = models.ForeignKey("units.Unit", verbose_name="来文单位",
                                    on_delete=models.PROTECT, related_name="+")
    title = models.CharField("标题", max_length=200)
    doc_number = models.CharField("发文字号", max_length=60, blank=True)
    is_request = models.BooleanField("请示", default=False)
    received_on = models.DateField("收到日期")
    outcome = models.CharField("结果", max_length=12, choices=Outcome.choices)
    delivery = models.ForeignKey(Delivery, verbose_name="对应电子件", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="paper_arrivals")
    note = models.CharField("说明", max_length=300, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人",
                           on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("登记时间")
    idempotency_key = models.UUIDField("幂等键", unique=True, editable=False)

    class Meta:
        verbose_name = "纸质来文登记"
        verbose_name_plural = "纸质来文登记"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.sender_unit} {self.title}"


class FollowUp(models.Model):
    """催办 record of the sender (R-FLOW-3): how, with whom, when, what was said."""

    class How(models.TextChoices):
        PHONE = "phone", "电话催办"
        SMS = "sms", "短信催办"
        VISIT = "visit", "上门催办"
        OTHER = "other", "其他"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="follow_ups")
    how = models.CharField("方式", max_length=8, choices=How.choices, default=How.PHONE)
    contact = models.CharField("联系人", max_length=60, blank=True)
    at = models.DateTimeField("催办时间")
    note = models.CharField("情况说明", max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人",
                           on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.UUIDField("幂等键", unique=True, editable=False)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "催办记录"
        verbose_name_plural = "催办记录"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_how_display()} {self.delivery}"


class Notification(models.Model):
    """In-app notice (R-FLOW-7), one per user; ``dedup_key`` makes re-runs harmless."""

    class Kind(models.TextChoices):
        INCOMING = "incoming", "新来文"
        SIGNED = "signed", "已签收"
        RETURNED = "returned", "被退回"
        WITHDRAWN = "withdrawn", "已撤回"
        OVERDUE = "overdue", "超时未签收"
        PAPER_ONLY = "paper_only", "仅纸质件未受理"
        PAPER_MATCHED = "paper_ok", "纸质件已与电子件对应"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications")
    unit = models.ForeignKey("units.Unit", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    kind = models.CharField("类别", max_length=12, choices=Kind.choices)
    text = models.CharField("内容", max_length=300)
    link = models.CharField("链接", max_length=200, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    emailed_at = models.DateTimeField("邮件时间", null=True, blank=True)
    dedup_key = models.CharField(max_length=120, unique=True)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.text
