"""The seal register (R-SEAL-3..6, attachment 电子印章管理暂行办法 art. 3-9).

The seal bytes (SES_Seal v4, images) come from the Django-free core :mod:`gongwen.seals.ses`;
certificates and key disks live in the authority app. These models keep who holds which seal,
the application forms (电子印章申请表) that create and end seals, every use of a seal, the
enrolled workstations (专用计算机, art. 3) and the city office's approvals of units' own seal
systems (art. 4).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class SealStatus(models.TextChoices):
    ACTIVE = "active", "有效"
    SUSPENDED = "suspended", "暂停使用"
    REVOKED = "revoked", "已注销"
    LOST = "lost", "已挂失注销"
    DESTROYED = "destroyed", "已销毁"
    RETURNED = "returned", "已交回"


class Seal(models.Model):
    """One electronic seal of a unit, as made by its issuing authority (art. 4)."""

    unit = models.ForeignKey("units.Unit", verbose_name="用章单位", on_delete=models.PROTECT,
                             related_name="seals")
    name = models.CharField("印章名称（单位全称）", max_length=100)
    es_id = models.CharField("印章编码（esID）", max_length=40, unique=True)
    authority = models.ForeignKey("units.Unit", verbose_name="制发单位", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="issued_seals")
    keeper = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="印章管理员（保管人）",
                               on_delete=models.PROTECT, related_name="kept_seals")
    certificate = models.OneToOneField("authority.Certificate", verbose_name="印章证书",
                                       on_delete=models.PROTECT, related_name="seal")
    cert_serial = models.CharField("证书序列号", max_length=64, db_index=True)
    maker_certificate = models.ForeignKey("authority.Certificate", verbose_name="制章者证书",
                                          null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="made_seals")
    der = models.BinaryField("电子印章数据（SES_Seal DER）")
    image_png = models.BinaryField("印模（PNG）")
    image_svg = models.TextField("印模（SVG）", blank=True)
    diameter_mm = models.PositiveSmallIntegerField("直径（毫米）")
    emblem = models.CharField("中心图案", max_length=20)
    status = models.CharField("状态", max_length=16, choices=SealStatus.choices,
                              default=SealStatus.ACTIVE)
    valid_from = models.DateTimeField("有效期起")
    valid_to = models.DateTimeField("有效期止")
    status_changed_at = models.DateTimeField("状态变更时间", null=True, blank=True)
    replaces = models.ForeignKey("self", verbose_name="替换的原印章", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="replaced_by")
    created_at = models.DateTimeField("制发时间", auto_now_add=True)

    class Meta:
        verbose_name = "电子印章"
        verbose_name_plural = "电子印章"
        ordering = ["unit_id", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.es_id}）"

    @property
    def is_active(self) -> bool:
        return self.status == SealStatus.ACTIVE


class ApplicationKind(models.TextChoices):
    MAKE = "make", "制作"
    CHANGE = "change", "变更"
    REVOKE = "revoke", "注销"
    REPLACE_DAMAGED = "replace_damaged", "损坏换领"
    REISSUE_LOST = "reissue_lost", "遗失补发"
    RETURN = "return", "交回"


class ApplicationState(models.TextChoices):
    FILLED = "filled", "已填报"
    HEAD_SIGNED = "head_signed", "单位负责人已签字"
    APPROVED = "approved", "市政府办公室已批准"
    EXECUTED = "executed", "已办理"
    REJECTED = "rejected", "已退回"


class Action(models.TextChoices):
    SIGN = "sign", "单位负责人签字"
    APPROVE = "approve", "市政府办公室审批"
    REJECT = "reject", "退回"
    EXECUTE = "execute", "办理"


# The one table of allowed moves (art. 7: unit head signs, then the city office approves,
# then the authority executes). Views never set ``state``.
TRANSITIONS: dict[tuple[str, str], str] = {
    (ApplicationState.FILLED, Action.SIGN): ApplicationState.HEAD_SIGNED,
    (ApplicationState.FILLED, Action.REJECT): ApplicationState.REJECTED,
    (ApplicationState.HEAD_SIGNED, Action.APPROVE): ApplicationState.APPROVED,
    (ApplicationState.HEAD_SIGNED, Action.REJECT): ApplicationState.REJECTED,
    (ApplicationState.APPROVED, Action.EXECUTE): ApplicationState.EXECUTED,
}

# Kinds that end with a new seal, and kinds that need an existing seal.
ISSUING_KINDS = frozenset({ApplicationKind.MAKE, ApplicationKind.CHANGE,
                           ApplicationKind.REPLACE_DAMAGED, ApplicationKind.REISSUE_LOST})
NEEDS_SEAL = frozenset({ApplicationKind.CHANGE, ApplicationKind.REVOKE,
                        ApplicationKind.REPLACE_DAMAGED, ApplicationKind.REISSUE_LOST,
                        ApplicationKind.RETURN})
OPEN_STATES = (ApplicationState.FILLED, ApplicationState.HEAD_SIGNED, ApplicationState.APPROVED)


class SealApplication(models.Model):
    """电子印章申请表: the unified form of art. 7-9, one per request."""

    unit = models.ForeignKey("units.Unit", verbose_name="申请单位", on_delete=models.PROTECT,
                             related_name="seal_applications")
    kind = models.CharField("申请事项", max_length=20, choices=ApplicationKind.choices)
    seal = models.ForeignKey(Seal, verbose_name="原印章", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="applications")
    keeper = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="印章管理员",
                               null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    seal_name = models.CharField("印章名称", max_length=100, blank=True)
    reason = models.TextField("申请理由")
    state = models.CharField("状态", max_length=16, choices=ApplicationState.choices,
                             default=ApplicationState.FILLED)
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="填表人", null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="+")
    auto_opened = models.CharField("自动发起原因", max_length=20, blank=True,
                                   help_text="单位合并、更名或撤销时自动发起（第九条）")
    filled_at = models.DateTimeField("填表时间", auto_now_add=True)
    head_signer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="单位负责人",
                                    null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    head_signed_at = models.DateTimeField("负责人签字时间", null=True, blank=True)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="市政府办公室审批人",
                                 null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    approved_at = models.DateTimeField("审批时间", null=True, blank=True)
    rejected_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="退回人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    rejected_at = models.DateTimeField("退回时间", null=True, blank=True)
    rejection_reason = models.TextField("退回理由", blank=True)
    executor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="办理人", null=True,
                                 blank=True, on_delete=models.PROTECT, related_name="+")
    executed_at = models.DateTimeField("办理时间", null=True, blank=True)
    result_seal = models.ForeignKey(Seal, verbose_name="新印章", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.UUIDField("幂等键", null=True, blank=True, unique=True,
                                       editable=False)

    class Meta:
        verbose_name = "电子印章申请表"
        verbose_name_plural = "电子印章申请表"
        ordering = ["-filled_at", "-id"]
        constraints = [
            # One open form per seal, whatever its kind: two would both be carried out (a
            # revoked seal destroyed, a lost seal reissued twice). A loss report or a unit's
            # retirement closes the others first (services).
            models.UniqueConstraint(
                fields=["seal"], condition=Q(state__in=["filled", "head_signed", "approved"]),
                name="uniq_open_application_per_seal"),
            # A 制作 form makes the unit's seal (its full name): one open at a time.
            models.UniqueConstraint(
                fields=["unit"], condition=Q(kind="make", state__in=["filled", "head_signed",
                                                                    "approved"]),
                name="uniq_open_make_per_unit"),
        ]

    def __str__(self) -> str:
        return f"电子印章申请表 #{self.pk}（{self.get_kind_display()}）"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def next_state(self, action: str) -> str | None:
        return TRANSITIONS.get((self.state, action))


class SealEvent(models.Model):
    """The seal's history: issue, status changes and every use (R-SEAL-6)."""

    class Kind(models.TextChoices):
        ISSUED = "issued", "制发"
        USED = "used", "用印"
        REVOKED = "revoked", "注销"
        LOST = "lost", "挂失注销"
        DESTROYED = "destroyed", "销毁"
        RETURNED = "returned", "交回"

    seal = models.ForeignKey(Seal, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField("事项", max_length=16, choices=Kind.choices)
    at = models.DateTimeField("时间", auto_now_add=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", null=True,
                             blank=True, on_delete=models.PROTECT, related_name="+")
    workstation = models.ForeignKey("Workstation", verbose_name="专用计算机", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="uses")
    application = models.ForeignKey(SealApplication, verbose_name="申请表", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="events")
    # The document the seal was applied to; a plain reference until sealing is built.
    document_id_ref = models.PositiveBigIntegerField("公文编号", null=True, blank=True)
    document_ref = models.CharField("公文", max_length=200, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "印章使用登记"
        verbose_name_plural = "印章使用登记"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.seal} {self.get_kind_display()}"


class Workstation(models.Model):
    """专用计算机 (art. 3): enrolled by the operator; a device credential is stored on the
    computer, only its SHA-256 here. Seals are usable only on workstations bound to them."""

    name = models.CharField("名称", max_length=60)
    unit = models.ForeignKey("units.Unit", verbose_name="所属单位", on_delete=models.PROTECT,
                             related_name="workstations")
    credential_sha256 = models.CharField("设备凭据指纹（SHA-256）", max_length=64, unique=True)
    seals = models.ManyToManyField(Seal, verbose_name="绑定印章", blank=True,
                                   related_name="workstations")
    active = models.BooleanField("启用", default=True)
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    enrolled_at = models.DateTimeField("登记时间", auto_now_add=True)
    retired_at = models.DateTimeField("停用时间", null=True, blank=True)

    class Meta:
        verbose_name = "专用计算机"
        verbose_name_plural = "专用计算机"
        ordering = ["unit_id", "name"]
        constraints = [
            # The keeper picks the workstation by name: two active ones of a name (a double
            # click on 登记) could not be told apart.
            models.UniqueConstraint(fields=["unit", "name"], condition=Q(active=True),
                                    name="uniq_active_workstation_name"),
        ]

    def __str__(self) -> str:
        return self.name


class SelfSealSystemApproval(models.Model):
    """Art. 4 para. 2: a unit's own seal system runs only with the city office's consent."""

    unit = models.ForeignKey("units.Unit", verbose_name="单位", on_delete=models.PROTECT,
                             related_name="seal_system_approvals")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="批准人",
                                    on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField("批准时间", auto_now_add=True)
    reference = models.CharField("批准文号", max_length=100, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "自建印章系统批准"
        verbose_name_plural = "自建印章系统批准"
        ordering = ["-approved_at"]

    def __str__(self) -> str:
        return f"{self.unit} 自建印章系统批准"
