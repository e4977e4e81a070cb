"""Append-only, hash-chained audit trail (R-AUDIT-1)."""

from __future__ import annotations

from django.db import models


class AuditEntry(models.Model):
    seq = models.PositiveBigIntegerField("序号", unique=True)
    at = models.DateTimeField("时间", db_index=True)
    # No database constraint on the two references: a foreign-key check takes a key-share
    # lock on the referenced row, and an append (which holds the chain head) must never
    # wait for a row another transaction has locked (see ``services.audited``).
    actor = models.ForeignKey("accounts.User", verbose_name="操作人", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+",
                              db_constraint=False)
    actor_name = models.CharField("操作人", max_length=150, blank=True)
    unit = models.ForeignKey("units.Unit", verbose_name="单位", null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+", db_constraint=False)
    action = models.CharField("事项", max_length=64, db_index=True)
    target_type = models.CharField("对象类型", max_length=64, blank=True)
    target_id = models.CharField("对象编号", max_length=64, blank=True)
    target_repr = models.CharField("对象", max_length=200, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    ip = models.CharField("来源地址", max_length=64, blank=True)
    algorithm = models.CharField("哈希算法", max_length=16)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        # Append-only: the ORM never updates an entry (the hash chain catches raw SQL edits).
        if not self._state.adding:
            raise PermissionError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit entries are append-only")


class AuditHead(models.Model):
    """Single row locked by every append so concurrent writers never fork the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "审计链头"
        verbose_name_plural = "审计链头"

    def __str__(self) -> str:
        return f"head #{self.seq}"


class AuditCheckpoint(models.Model):
    """A signed checkpoint of the chain head (R-AUDIT-1): the head's ``seq`` and ``hash``
    at ``at``, MACed with a key kept outside the database (``GONGWEN["AUDIT_KEY_FILE"]``).
    Each one is also appended to a file outside the database, which an operator keeps or
    publishes; ``gongwen audit verify`` checks the chain against both."""

    seq = models.PositiveBigIntegerField("记录序号", unique=True)
    hash = models.CharField("链头哈希", max_length=64)
    at = models.DateTimeField("时间")
    algorithm = models.CharField("哈希算法", max_length=16)
    key_id = models.CharField("密钥标识", max_length=16)
    mac = models.CharField("签名", max_length=64)

    class Meta:
        verbose_name = "审计检查点"
        verbose_name_plural = "审计检查点"
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("audit checkpoints are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit checkpoints are append-only")
