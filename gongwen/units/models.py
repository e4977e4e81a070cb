"""Unit registry (R-UNIT-1..3): hierarchy, networking, state with history, recipient groups."""

from __future__ import annotations

from django.db import models


class Level(models.TextChoices):
    """Administrative level; drives who issues the unit's seal and its size (R-SEAL-2/3)."""

    PROVINCE = "province", "省级"
    CITY = "city", "市级"
    COUNTY = "county", "县（区）级"
    DEPARTMENT = "department", "市直部门"
    AFFILIATED = "affiliated", "直属单位"


class Kind(models.TextChoices):
    """Whether the unit is a people's government (国徽 on the seal) or another organ (★)."""

    GOVERNMENT = "government", "人民政府"
    GOVERNMENT_OFFICE = "office", "政府办公厅（室）"
    DEPARTMENT = "department", "工作部门"
    INSTITUTION = "institution", "事业单位"


class UnitState(models.TextChoices):
    ACTIVE = "active", "正常"
    MERGED = "merged", "已合并"
    RENAMED = "renamed", "已更名"
    REVOKED = "revoked", "已撤销"


class UnitQuerySet(models.QuerySet):
    def in_directory_order(self) -> UnitQuerySet:
        """省级, 市级, 县（区）级, 市直部门, 直属单位 (the order of ``Level``), then by code:
        how a directory or a unit list reads, not the alphabet of the level codes."""
        rank = models.Case(*(models.When(level=value, then=models.Value(n))
                             for n, value in enumerate(Level.values)),
                           default=models.Value(len(Level.values)),
                           output_field=models.IntegerField())
        return self.alias(level_rank=rank).order_by("level_rank", "code")


class Unit(models.Model):
    code = models.CharField("单位代码", max_length=32, unique=True,
                            help_text="统一社会信用代码或组织机构代码")
    name = models.CharField("单位全称", max_length=100)
    short_name = models.CharField("发文字号简称", max_length=20,
                                  help_text="用于发文字号，如“连政办”")
    level = models.CharField("级别", max_length=16, choices=Level.choices)
    kind = models.CharField("类别", max_length=16, choices=Kind.choices, default=Kind.DEPARTMENT)
    parent = models.ForeignKey("self", verbose_name="上级单位", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    networked = models.BooleanField("已联网", default=False)
    networked_since = models.DateField("联网日期", null=True, blank=True)
    state = models.CharField("状态", max_length=16, choices=UnitState.choices,
                             default=UnitState.ACTIVE)
    successor = models.ForeignKey("self", verbose_name="承继单位", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="predecessors")
    # Platform roles of a unit (attachment art. 4): the city office runs the platform and
    # issues city units' seals; the provincial office issues county/district seals.
    is_platform_operator = models.BooleanField("平台运营单位", default=False)
    is_seal_authority = models.BooleanField("制章单位", default=False)
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("电话", max_length=40, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["level", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.state == UnitState.ACTIVE

    def current_successor(self) -> Unit | None:
        """Follows the successor chain to the unit that carries on today (merge of a merge)."""
        seen = {self.pk}
        unit = self.successor
        while unit is not None and unit.successor_id and unit.successor_id not in seen:
            seen.add(unit.pk)
            unit = unit.successor
        return unit


class UnitEvent(models.Model):
    """History of a unit: nothing is overwritten without a trace (R-UNIT-2)."""

    class Kind(models.TextChoices):
        CREATED = "created", "创建"
        EDITED = "edited", "修改"
        RENAMED = "renamed", "更名"
        MERGED = "merged", "合并"
        REVOKED = "revoked", "撤销"
        NETWORKED = "networked", "联网状态变更"

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("事项", max_length=16, choices=Kind.choices)
    at = models.DateTimeField("时间", auto_now_add=True)
    by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL)
    old_name = models.CharField("原名称", max_length=100, blank=True)
    new_name = models.CharField("新名称", max_length=100, blank=True)
    successor = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    changes = models.JSONField("变更内容", default=dict, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "单位变更记录"
        verbose_name_plural = "单位变更记录"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.unit} {self.get_kind_display()}"


class RecipientGroup(models.Model):
    """A named set of units for one-click distribution, e.g. 各县区人民政府 (R-UNIT-3).

    ``owner`` is empty for platform-wide groups kept by the operator; a unit may keep its own.
    """

    name = models.CharField("分组名称", max_length=60)
    owner = models.ForeignKey(Unit, verbose_name="所属单位", null=True, blank=True,
                              on_delete=models.CASCADE, related_name="owned_groups")
    members = models.ManyToManyField(Unit, verbose_name="成员单位", related_name="groups",
                                     blank=True)
    description = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "收文分组"
        verbose_name_plural = "收文分组"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="uniq_group_name_per_owner"),
        ]

    def __str__(self) -> str:
        return self.name
