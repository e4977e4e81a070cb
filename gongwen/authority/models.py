"""Records of the platform's PKI (R-PKI-3..5): CAs, certificates, CRLs and key disks.

The cryptography itself is the Django-free core :mod:`gongwen.pki`; these models keep what
it produces. No column ever holds a usable plaintext private key: CA keys are encrypted
PKCS#8 under the configured passphrase (``GONGWEN["CA_PASSPHRASE"]``), key disks are
encrypted PKCS#8 under the holder's PIN (R-PKI-5).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class CARole(models.TextChoices):
    ROOT = "root", "部署根CA"
    PROVINCIAL = "provincial", "省级CA"
    CITY = "city", "市级CA"


class Profile(models.TextChoices):
    """End-entity certificate profiles of the core (gongwen.pki.x509)."""

    UNIT_SEAL = "unit-seal", "单位印章证书"
    UNIT_RECEIPT = "unit-receipt", "单位签收证书"
    SEAL_MAKER = "seal-maker", "制章单位证书"
    WORKSTATION = "workstation", "专用计算机证书"


class CertStatus(models.TextChoices):
    VALID = "valid", "有效"
    REVOKED = "revoked", "已吊销"


class CertificateAuthority(models.Model):
    """One CA of the deployment: the root above both issuing CAs, the provincial CA (issues
    to county/district governments) and the city CA (issues to city units), attachment art. 4.
    """

    slug = models.SlugField("标识", max_length=40, unique=True,
                            help_text="用于 /pki/crl/<标识>.crl 与 /pki/ca/<标识>.crt")
    name = models.CharField("名称", max_length=100)
    role = models.CharField("层级", max_length=16, choices=CARole.choices)
    suite = models.CharField("算法套件", max_length=8)
    parent = models.ForeignKey("self", verbose_name="上级CA", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    unit = models.ForeignKey("units.Unit", verbose_name="运营单位", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    certificate_der = models.BinaryField("CA证书（DER）")
    # Encrypted PKCS#8 PEM (PBES2) under GONGWEN["CA_PASSPHRASE"]; never plaintext.
    key_encrypted_pem = models.TextField("CA私钥（加密PKCS#8）")
    subject = models.CharField("主体", max_length=300)
    serial = models.CharField("序列号", max_length=64)
    not_before = models.DateTimeField("生效时间")
    not_after = models.DateTimeField("失效时间")
    fingerprint_sha256 = models.CharField("SHA-256指纹", max_length=64)
    crl_number = models.PositiveBigIntegerField("CRL编号", default=0)
    crl_der = models.BinaryField("当前CRL（DER）", null=True, blank=True)
    crl_this_update = models.DateTimeField("CRL本次更新", null=True, blank=True)
    crl_next_update = models.DateTimeField("CRL下次更新", null=True, blank=True)
    retired_at = models.DateTimeField("停用时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "证书认证机构"
        verbose_name_plural = "证书认证机构"
        ordering = ["id"]
        constraints = [
            # One active CA per role: init_pki may run twice (or in parallel) safely.
            models.UniqueConstraint(fields=["role"], condition=Q(retired_at__isnull=True),
                                    name="uniq_active_ca_role"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def crl_is_stale(self) -> bool:
        return self.crl_next_update is None or self.crl_next_update <= timezone.now()


class Certificate(models.Model):
    """An end-entity certificate issued by one of our CAs."""

    issuer = models.ForeignKey(CertificateAuthority, verbose_name="签发CA",
                               on_delete=models.PROTECT, related_name="certificates")
    unit = models.ForeignKey("units.Unit", verbose_name="单位", on_delete=models.PROTECT,
                             related_name="certificates")
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="持有人", null=True,
                               blank=True, on_delete=models.PROTECT, related_name="+")
    profile = models.CharField("证书类型", max_length=16, choices=Profile.choices)
    serial = models.CharField("序列号（十六进制）", max_length=64)
    subject = models.CharField("主体", max_length=300)
    not_before = models.DateTimeField("生效时间")
    not_after = models.DateTimeField("失效时间")
    der = models.BinaryField("证书（DER）")
    fingerprint_sha256 = models.CharField("SHA-256指纹", max_length=64, unique=True)
    key_algorithm = models.CharField("密钥算法", max_length=16)
    status = models.CharField("状态", max_length=16, choices=CertStatus.choices,
                              default=CertStatus.VALID)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="签发人", null=True,
                                  blank=True, on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField("签发时间", auto_now_add=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    revocation_reason = models.CharField("吊销原因", max_length=32, blank=True)
    revocation_note = models.CharField("吊销说明", max_length=300, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="吊销人", null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "证书"
        verbose_name_plural = "证书"
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "serial"], name="uniq_cert_serial"),
        ]

    def __str__(self) -> str:
        return f"{self.get_profile_display()} {self.subject_cn} ({self.serial[:12]}…)"

    @property
    def subject_cn(self) -> str:
        for part in self.subject.split(", "):
            if part.startswith("CN="):
                return part[3:]
        return self.subject

    @property
    def is_revoked(self) -> bool:
        return self.status == CertStatus.REVOKED

    @property
    def revocation_reason_label(self) -> str:
        from gongwen.pki.crl import REASONS

        return REASONS.get(self.revocation_reason, self.revocation_reason)


class PublishedCRL(models.Model):
    """Every CRL a CA has published (the CA row holds the current one)."""

    ca = models.ForeignKey(CertificateAuthority, on_delete=models.PROTECT,
                           related_name="published_crls")
    number = models.PositiveBigIntegerField("CRL编号")
    this_update = models.DateTimeField("本次更新")
    next_update = models.DateTimeField("下次更新")
    revoked_count = models.PositiveIntegerField("吊销条目数", default=0)
    der = models.BinaryField("CRL（DER）")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "证书吊销列表"
        verbose_name_plural = "证书吊销列表"
        ordering = ["ca_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["ca", "number"], name="uniq_crl_number"),
        ]

    def __str__(self) -> str:
        return f"{self.ca} CRL #{self.number}"


class KeyDisk(models.Model):
    """密钥盘: the holder's private key as an encrypted PKCS#8 PEM under a 6-8 digit PIN.

    Wrong PINs are counted here, on the server, under a row lock; after
    ``MAX_PIN_ATTEMPTS`` the disk locks and only an operator unlocks it (R-PKI-5).
    """

    certificate = models.OneToOneField(Certificate, verbose_name="证书", on_delete=models.PROTECT,
                                       related_name="key_disk")
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="持有人",
                               on_delete=models.PROTECT, related_name="key_disks")
    unit = models.ForeignKey("units.Unit", verbose_name="单位", on_delete=models.PROTECT,
                             related_name="key_disks")
    # Encrypted PKCS#8 PEM ("BEGIN ENCRYPTED PRIVATE KEY"); emptied when the key is destroyed.
    encrypted_pem = models.TextField("加密私钥（PKCS#8）", blank=True)
    public_key_der = models.BinaryField("公钥（DER）")
    failed_attempts = models.PositiveSmallIntegerField("连续口令错误次数", default=0)
    locked = models.BooleanField("已锁定", default=False)
    locked_at = models.DateTimeField("锁定时间", null=True, blank=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    destroyed_at = models.DateTimeField("销毁时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "密钥盘"
        verbose_name_plural = "密钥盘"
        ordering = ["unit_id", "id"]

    def __str__(self) -> str:
        return f"密钥盘 #{self.pk}（{self.certificate.get_profile_display()}）"

    @property
    def is_destroyed(self) -> bool:
        return self.destroyed_at is not None
