"""Official documents (公文) with the elements of GB/T 9704-2012 (R-DOC-1).

The state machine is one dict beside the model, ``TRANSITIONS[(state, action)] -> state``;
only the services move a document (``doc.apply(action)``), views never set ``.state``.
Later issues (sealing, dispatch, receipt) extend the dict.

密级 (``secrecy``) and 保密期限 exist only so that a classified document can be named and
refused (R-DOC-5, seed notice §3(8)): the services never store a non-empty value.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class DocType(models.TextChoices):
    """The 15 kinds of 公文 (《党政机关公文处理工作条例》 art. 8)."""

    RESOLUTION = "resolution", "决议"
    DECISION = "decision", "决定"
    ORDER = "order", "命令"
    COMMUNIQUE = "communique", "公报"
    ANNOUNCEMENT = "announcement", "公告"
    PUBLIC_NOTICE = "public_notice", "通告"
    OPINION = "opinion", "意见"
    NOTICE = "notice", "通知"
    CIRCULAR = "circular", "通报"
    REPORT = "report", "报告"
    REQUEST = "request", "请示"
    REPLY = "reply", "批复"
    MOTION = "motion", "议案"
    LETTER = "letter", "函"
    MINUTES = "minutes", "纪要"


# 上行文: 请示 and 报告 carry 签发人 (GB/T 9704-2012 7.2.4).
UPWARD_TYPES = frozenset({DocType.REQUEST, DocType.REPORT})


class Variant(models.TextChoices):
    """文件格式 (GB/T 9704 7), 信函格式 (10.1), 纪要格式 (10.3)."""

    FILE = "file", "文件格式"
    LETTER = "letter", "信函格式"
    MINUTES = "minutes", "纪要格式"


class Secrecy(models.TextChoices):
    """密级 — stored only to be refused (R-DOC-5)."""

    NONE = "", "无"
    SECRET = "秘密", "秘密"
    CONFIDENTIAL = "机密", "机密"
    TOP_SECRET = "绝密", "绝密"


class Urgency(models.TextChoices):
    """紧急程度 (GB/T 9704 7.2.3)."""

    NONE = "", "无"
    URGENT = "加急", "加急"
    EXTRA_URGENT = "特急", "特急"


class NumberSeries(models.TextChoices):
    """发文字号 series after the unit's 机关代字: 连政办 + 发 → 连政办发〔2006〕107号."""

    FA = "发", "发（普发文件）"
    HAN = "函", "函（函件）"
    DIAN = "电", "电（明传电报）"
    QING = "请", "请（请示）"
    BAO = "报", "报（报告）"
    PI = "复", "复（批复）"
    JI = "纪", "纪（纪要）"


class State(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待核批"
    RETURNED = "returned", "已退回修改"
    APPROVED = "approved", "已核批"
    SEALED = "sealed", "已用印"
    DISPATCHED = "dispatched", "已分发"
    WITHDRAWN = "withdrawn", "已撤回"


class Action(models.TextChoices):
    SUBMIT = "submit", "提交核批"
    WITHDRAW = "withdraw", "撤回"
    APPROVE = "approve", "核批签发"
    RETURN = "return", "退回修改"
    SEAL = "seal", "用印"
    DISPATCH = "dispatch", "分发"
    # 撤回 of a dispatch (exchange.services.withdraw); not the drafter's WITHDRAW from approval.
    RECALL = "recall", "撤回分发"


# (state, action) -> new state. R-FLOW-1: draft → submit → approve or return → seal → dispatch.
TRANSITIONS: dict[tuple[str, str], str] = {
    (State.DRAFT, Action.SUBMIT): State.SUBMITTED,
    (State.RETURNED, Action.SUBMIT): State.SUBMITTED,
    (State.SUBMITTED, Action.WITHDRAW): State.DRAFT,
    (State.SUBMITTED, Action.APPROVE): State.APPROVED,
    (State.SUBMITTED, Action.RETURN): State.RETURNED,
    (State.APPROVED, Action.SEAL): State.SEALED,
    (State.SEALED, Action.DISPATCH): State.DISPATCHED,
    # 撤回 of a dispatch before anyone signed for it (exchange.services.withdraw): the document
    # stays sealed and immutable; a correction is a new document (``corrects``).
    (State.DISPATCHED, Action.RECALL): State.WITHDRAWN,
}

# Only these states may be edited; from approval on the content is fixed (R-FLOW-1).
EDITABLE_STATES = frozenset({State.DRAFT, State.RETURNED})
# A recipient unit sees a document only once it has been sent to it (R-SEC-1).
# A 已撤回 document is not: its recipients see only their withdrawn delivery and the reason.
RECIPIENT_VISIBLE_STATES = frozenset({State.DISPATCHED})
# A sealed file exists: the document is immutable and may be the basis of a correction.
CORRECTABLE_STATES = frozenset({State.SEALED, State.DISPATCHED, State.WITHDRAWN})


class InvalidTransition(ValidationError):
    pass


class BodySource(models.TextChoices):
    TEXT = "text", "在线编辑"
    FILE = "file", "上传文件（PDF/OFD）"


class FileFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    OFD = "ofd", "OFD"


class OfficialDocument(models.Model):
    # -- who and where ------------------------------------------------------------------------
    unit = models.ForeignKey("units.Unit", verbose_name="主办单位", on_delete=models.PROTECT,
                             related_name="documents")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="拟稿人",
                                   on_delete=models.PROTECT, related_name="drafted_documents")
    idempotency_key = models.UUIDField("幂等键", null=True, blank=True, unique=True,
                                       editable=False)
    # What the request that made the draft asked for (services.request_fingerprint): a key
    # sent again with other content is refused, not answered with the first draft.
    idempotency_fingerprint = models.CharField("幂等请求指纹", max_length=64, blank=True,
                                               editable=False)
    # -- 版头 (GB/T 9704 7.2) ------------------------------------------------------------------
    doc_type = models.CharField("文种", max_length=16, choices=DocType.choices,
                                default=DocType.NOTICE)
    variant = models.CharField("格式", max_length=8, choices=Variant.choices,
                               default=Variant.FILE)
    copy_number = models.CharField("份号", max_length=6, blank=True)
    secrecy = models.CharField("密级", max_length=4, choices=Secrecy.choices, blank=True,
                               default=Secrecy.NONE)
    secrecy_period = models.CharField("保密期限", max_length=20, blank=True)
    urgency = models.CharField("紧急程度", max_length=4, choices=Urgency.choices, blank=True,
                               default=Urgency.NONE)
    mark_text = models.CharField("发文机关标志", max_length=100, blank=True,
                                 help_text="留空则用发文机关全称；联合行文时主办机关在前")
    number_series = models.CharField("发文字号类别", max_length=4, choices=NumberSeries.choices,
                                     default=NumberSeries.FA)
    number_code = models.CharField("机关代字", max_length=30, blank=True,
                                   help_text="核批时按单位简称和类别确定，如“连政办发”")
    number_year = models.PositiveIntegerField("发文字号年份", null=True, blank=True)
    number_serial = models.PositiveIntegerField("发文字号序号", null=True, blank=True)
    signers = models.JSONField("签发人", default=list, blank=True)
    # -- 主体 (7.3) ------------------------------------------------------------------------
    title = models.CharField("标题", max_length=200)
    main_recipients_text = models.CharField(
        "主送机关（文字）", max_length=500, blank=True,
        help_text="非联网单位或统称，如“各县、区人民政府，市各委、办、局”")
    body_source = models.CharField("正文来源", max_length=8, choices=BodySource.choices,
                                   default=BodySource.TEXT)
    # [{"heading": "一、目标任务", "text": "…", "level": 1}, …] (7.3.3, levels 0..4)
    body = models.JSONField("正文", default=list, blank=True)
    body_blob = models.CharField("正文文件摘要", max_length=80, blank=True)
    body_filename = models.CharField("正文文件名", max_length=200, blank=True)
    body_format = models.CharField("正文文件格式", max_length=4, choices=FileFormat.choices,
                                   blank=True)
    body_size = models.PositiveBigIntegerField("正文文件大小", null=True, blank=True)
    signature_text = models.CharField("发文机关署名", max_length=200, blank=True,
                                      help_text="留空则用发文机关全称")
    date = models.DateField("成文日期", null=True, blank=True,
                            help_text="留空则以核批签发日期为准")
    note = models.CharField("附注", max_length=300, blank=True)
    # -- 版记 (7.4) ------------------------------------------------------------------------
    copy_to_text = models.CharField("抄送机关（文字）", max_length=500, blank=True)
    printer = models.CharField("印发机关", max_length=100, blank=True)
    print_date = models.DateField("印发日期", null=True, blank=True)
    # -- workflow ---------------------------------------------------------------------------
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.DRAFT)
    revision = models.PositiveIntegerField("修订次数", default=1)
    review_comment = models.TextField("核批意见", blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    approved_at = models.DateTimeField("核批时间", null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="核批人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    # A correction is a new document referencing the sealed one it corrects (R-FLOW-1).
    corrects = models.ForeignKey("self", verbose_name="更正的原公文", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="corrections")
    # 转发 (R-FLOW-5): the received delivery this document forwards; its sealed file is the
    # first attachment, byte for byte (documents.forwarding).
    forwards = models.ForeignKey("exchange.Delivery", verbose_name="转发的来文", null=True,
                                 blank=True, on_delete=models.PROTECT,
                                 related_name="forwarded_as")
    # 答复: the received 请示 (or 函) this 批复 (or 复函) answers (documents.replies); the
    # asking unit sees its request answered and the receiving unit what is still open.
    answers = models.ForeignKey("exchange.Delivery", verbose_name="答复的来文", null=True,
                                blank=True, on_delete=models.PROTECT,
                                related_name="answered_by")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "公文"
        verbose_name_plural = "公文"
        ordering = ["-updated_at", "-id"]
        constraints = [
            # Backstop of the counter (services.assign_number): never two documents with one
            # 发文字号 of a unit.
            models.UniqueConstraint(
                fields=["unit", "number_series", "number_year", "number_serial"],
                condition=Q(number_serial__isnull=False), name="uniq_doc_number_per_unit"),
            models.CheckConstraint(condition=Q(secrecy=""), name="doc_never_classified"),
        ]
        indexes = [models.Index(fields=["unit", "state"])]

    def __str__(self) -> str:
        return self.title

    # -- the state machine -----------------------------------------------------------------
    def apply(self, action: str) -> str:
        """Move along ``TRANSITIONS`` or raise ``InvalidTransition`` (a Chinese message)."""
        new = TRANSITIONS.get((self.state, action))
        if new is None:
            raise InvalidTransition(
                f"公文当前状态为“{self.get_state_display()}”，不能{Action(action).label}。")
        self.state = new
        return new

    def can_apply(self, action: str) -> bool:
        return (self.state, action) in TRANSITIONS

    @property
    def editable(self) -> bool:
        return self.state in EDITABLE_STATES

    # -- derived elements ------------------------------------------------------------------
    @property
    def is_upward(self) -> bool:
        return self.doc_type in UPWARD_TYPES

    @property
    def doc_number(self) -> str:
        """发文字号, e.g. 连政办发〔2006〕107号; "" until approval."""
        if not self.number_serial or not self.number_year:
            return ""
        return format_doc_number(self.number_code, self.number_year, self.number_serial)

    @property
    def body_text(self) -> str:
        """The body as editable text, one paragraph per line."""
        return "\n".join((p.get("heading", "") + p.get("text", "")) for p in self.body or [])

    def _prefetched(self, name: str):
        """The rows of relation ``name`` loaded by ``prefetch_related`` (see
        ``PARTS_PREFETCH``), or None: a stack of documents is read in a fixed number of
        queries instead of several per document."""
        return getattr(self, "_prefetched_objects_cache", {}).get(name)

    def ordered_issuers(self):
        rows = self._prefetched("issuers")
        if rows is not None:
            return sorted(rows, key=lambda i: i.position)
        return self.issuers.select_related("unit").order_by("position")

    def issuer_names(self) -> list[str]:
        return [i.unit.name for i in self.ordered_issuers()]

    def recipients_of(self, role: str):
        rows = self._prefetched("recipients")
        if rows is not None:
            return sorted((r for r in rows if r.role == role), key=lambda r: r.position)
        return self.recipients.filter(role=role).select_related("unit", "group") \
            .order_by("position")

    def ordered_attachments(self):
        rows = self._prefetched("attachments")
        if rows is not None:
            return sorted(rows, key=lambda a: a.position)
        return self.attachments.order_by("position")

    def main_recipients_display(self) -> str:
        return _recipients_display(self.recipients_of(Recipient.Role.MAIN),
                                   self.main_recipients_text)

    def copy_to_display(self) -> str:
        return _recipients_display(self.recipients_of(Recipient.Role.COPY), self.copy_to_text)

    def attachment_note_lines(self) -> list[str]:
        """附件说明 (7.3.4): "附件：1. 标题" lines from the attachments in order."""
        titles = [a.title for a in self.ordered_attachments()]
        if not titles:
            return []
        if len(titles) == 1:
            return [f"附件：{titles[0]}"]
        return [f"{'附件：' if i == 1 else '　　　'}{i}.{t}" for i, t in enumerate(titles, 1)]


# What ``ordered_issuers``/``recipients_of``/``ordered_attachments`` (and so rendering's
# ``parts_of``) read, for ``prefetch_related`` on a stack of documents.
PARTS_PREFETCH = ("issuers__unit", "recipients__unit", "recipients__group", "attachments")


def format_doc_number(code: str, year: int, serial: int) -> str:
    """发文字号 per GB/T 9704-2012 7.2.4: 机关代字 + 〔年份〕 + 序号 + 号, no leading zeros."""
    return f"{code}〔{year}〕{serial}号"


def _recipients_display(rows, text: str) -> str:
    names = [r.display_name for r in rows]
    if text:
        names.append(text)
    return "，".join(n for n in names if n)


class Issuer(models.Model):
    """发文机关, ordered: position 0 is the lead unit (主办机关); more rows = 联合行文."""

    document = models.ForeignKey(OfficialDocument, on_delete=models.CASCADE,
                                 related_name="issuers")
    unit = models.ForeignKey("units.Unit", verbose_name="发文机关", on_delete=models.PROTECT,
                             related_name="+")
    position = models.PositiveSmallIntegerField("顺序")
    sealed = models.BooleanField("加盖印章", default=True)

    class Meta:
        verbose_name = "发文机关"
        verbose_name_plural = "发文机关"
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "unit"], name="uniq_issuer_unit"),
            models.UniqueConstraint(fields=["document", "position"], name="uniq_issuer_pos"),
        ]

    def __str__(self) -> str:
        return str(self.unit)


class Recipient(models.Model):
    """主送 or 抄送 entry: a unit of the directory, a recipient group, or a name typed in
    for a unit outside the platform (非联网单位)."""

    class Role(models.TextChoices):
        MAIN = "main", "主送"
        COPY = "copy", "抄送"

    document = models.ForeignKey(OfficialDocument, on_delete=models.CASCADE,
                                 related_name="recipients")
    role = models.CharField("类别", max_length=8, choices=Role.choices)
    position = models.PositiveSmallIntegerField("顺序")
    unit = models.ForeignKey("units.Unit", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    group = models.ForeignKey("units.RecipientGroup", null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    name = models.CharField("名称", max_length=200, blank=True)

    class Meta:
        verbose_name = "收文机关"
        verbose_name_plural = "收文机关"
        ordering = ["document", "role", "position"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=False, group__isnull=True)
                           | Q(unit__isnull=True, group__isnull=False)
                           | (Q(unit__isnull=True, group__isnull=True) & ~Q(name=""))),
                name="recipient_one_kind"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.unit_id:
            return self.unit.name
        if self.group_id:
            return self.group.name
        return self.name


class Attachment(models.Model):
    """附件 (7.3.7), ordered; each a PDF/OFD file kept as a blob, or text typed in."""

    document = models.ForeignKey(OfficialDocument, on_delete=models.CASCADE,
                                 related_name="attachments")
    position = models.PositiveSmallIntegerField("顺序")
    title = models.CharField("附件名称", max_length=200)
    body = models.JSONField("附件正文", default=list, blank=True)
    blob = models.CharField("文件摘要", max_length=80, blank=True)
    filename = models.CharField("文件名", max_length=200, blank=True)
    file_format = models.CharField("文件格式", max_length=4, choices=FileFormat.choices,
                                   blank=True)
    size = models.PositiveBigIntegerField("文件大小", null=True, blank=True)
    pages = models.PositiveIntegerField("页数", null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position"], name="uniq_attachment_pos"),
        ]

    def __str__(self) -> str:
        return self.title


class Review(models.Model):
    """One decision of the unit head: approved (核批签发) or returned with comments."""

    document = models.ForeignKey(OfficialDocument, on_delete=models.CASCADE,
                                 related_name="reviews")
    action = models.CharField("处理", max_length=16, choices=Action.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField("意见", blank=True)
    revision = models.PositiveIntegerField("所审修订")
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "核批记录"
        verbose_name_plural = "核批记录"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.document} · {self.get_action_display()}"


class NumberCounter(models.Model):
    """Last 发文字号 serial per (unit, series, year). Locked with SELECT … FOR UPDATE inside
    ``services.assign_number`` so that parallel approvals queue on it: no gap (it is part of
    the approval transaction, a rollback takes the number back) and no duplicate."""

    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    series = models.CharField("类别", max_length=4)
    year = models.PositiveIntegerField("年份")
    last = models.PositiveIntegerField("已用序号", default=0)

    class Meta:
        verbose_name = "发文字号计数器"
        verbose_name_plural = "发文字号计数器"
        constraints = [
            models.UniqueConstraint(fields=["unit", "series", "year"], name="uniq_counter"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id}/{self.series}/{self.year}: {self.last}"


class Rendition(models.Model):
    """A rendered PDF or OFD of one revision of a document, kept in the blob store."""

    document = models.ForeignKey(OfficialDocument, on_delete=models.CASCADE,
                                 related_name="renditions")
    file_format = models.CharField("格式", max_length=4, choices=FileFormat.choices)
    revision = models.PositiveIntegerField("修订")
    fingerprint = models.CharField("内容指纹", max_length=64)
    blob = models.CharField("文件摘要", max_length=80)
    size = models.PositiveBigIntegerField("大小")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "版式文件"
        verbose_name_plural = "版式文件"
        constraints = [
            models.UniqueConstraint(fields=["document", "file_format", "fingerprint"],
                                    name="uniq_rendition"),
        ]

    def __str__(self) -> str:
        return f"{self.document} · {self.file_format}"


def local_today() -> dt.date:
    from django.utils import timezone

    return timezone.localdate()
