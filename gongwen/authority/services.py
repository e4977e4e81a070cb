"""Verbs of the platform PKI (R-PKI-3..5, attachment art. 3-4, 9).

Every verb is one transaction with its audit rows (``gongwen.audit.services.record``) and
asks the permission layer first. ``actor=None`` means the operator's shell (the ``gongwen``
CLI): whoever runs it already controls the machine and the CA passphrase; it is audited as
``actor_name="gongwen cli"``.

Trust anchors: one deployment root CA (self-signed, pathLen 1) above the two issuing CAs
(江苏省 provincial CA and 连云港市 city CA, pathLen 0). Relying parties configure the
root only; both chains are ``leaf → issuing CA → root``. Each CA publishes a CRL at
``<PUBLIC_URL>/pki/crl/<slug>.crl`` and every certificate it issues points there.

Private keys: a CA key exists in plaintext only in memory while it signs; at rest it is an
encrypted PKCS#8 (PBES2) under ``GONGWEN["CA_PASSPHRASE"]``. A holder's key is generated
straight into a key disk (encrypted PKCS#8 under the PIN) by the core and never leaves it
in plaintext.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.dispatch import Signal
from django.utils import timezone

from gongwen.accounts.models import User
from gongwen.audit.services import audited, record
from gongwen.authority import opensslcheck
from gongwen.pki import crl as pki_crl
from gongwen.pki import keystore, x509
from gongwen.pki.errors import (
    CRLMissing,
    InvalidCertificate,
    KeyDiskLocked,
    MalformedInput,
    PINFormatError,
    PKIError,
    UnsupportedAlgorithm,
    WrongPIN,
)
from gongwen.pki.suites import get_suite
from gongwen.policy.errors import object_id
from gongwen.policy.permissions import PLATFORM, Perm, require
from gongwen.units.models import Level, Unit, UnitState

from .models import (
    CARole,
    Certificate,
    CertificateAuthority,
    CertStatus,
    KeyDisk,
    Profile,
    PublishedCRL,
)

log = logging.getLogger("gongwen.authority")

CLI_ACTOR = "gongwen cli"

#: Revocation reasons an operator may choose for an end-entity certificate (RFC 5280 5.3.1).
LEAF_REASONS: tuple[str, ...] = (
    "unspecified",
    "key_compromise",
    "affiliation_changed",
    "superseded",
    "cessation_of_operation",
    "privilege_withdrawn",
)


@dataclass(frozen=True)
class CASpec:
    role: str
    slug: str
    name: str
    organization: str
    locality: str | None
    unit_level: str | None  # the unit that operates it (looked up, may be absent)


# The deployment root above both issuing CAs; the provincial CA issues to the province and
# county/district governments, the city CA to city units (attachment art. 4).
CA_SPECS: tuple[CASpec, ...] = (
    CASpec(CARole.ROOT, "root", "公文交换平台根CA", "连云港市人民政府办公室", "连云港市", None),
    CASpec(CARole.PROVINCIAL, "jiangsu", "江苏省电子印章CA", "江苏省人民政府办公厅", None,
           Level.PROVINCE),
    CASpec(CARole.CITY, "lianyungang", "连云港市电子政务CA", "连云港市人民政府办公室",
           "连云港市", Level.CITY),
)
_SPEC_BY_ROLE = {spec.role: spec for spec in CA_SPECS}
_ROOT_VALIDITY_DAYS = 20 * 365
LEAF_VALIDITY_DAYS = {Profile.UNIT_SEAL: 3 * 365, Profile.UNIT_RECEIPT: 3 * 365,
                      Profile.SEAL_MAKER: 5 * 365, Profile.WORKSTATION: 2 * 365}
_ISSUING_CA_VALIDITY_DAYS = 10 * 365


# ----------------------------------------------------------------------- configuration


def _conf(name: str, default: Any = None) -> Any:
    return settings.GONGWEN.get(name, default)


def configured_suite() -> str:
    return get_suite(_conf("SUITE", "GM")).name


def _passphrase() -> str:
    value = _conf("CA_PASSPHRASE")
    if not value:
        raise ImproperPKIConfig("GONGWEN_CA_PASSPHRASE is empty",
                                message_zh="未配置CA私钥保护口令（GONGWEN_CA_PASSPHRASE）")
    return value


def _iterations() -> int:
    # The product always uses the core's default (slow on purpose). Only the test settings
    # lower it, through GONGWEN["PBKDF2_ITERATIONS"], so that the suite stays fast.
    return int(_conf("PBKDF2_ITERATIONS") or keystore.DEFAULT_ITERATIONS)


def crl_validity_days() -> int:
    return int(_conf("CRL_VALIDITY_DAYS") or 7)


def max_pin_attempts() -> int:
    return int(_conf("KEYDISK_MAX_PIN_ATTEMPTS") or keystore.MAX_PIN_ATTEMPTS)


def crl_url(ca: CertificateAuthority | str) -> str:
    slug = ca if isinstance(ca, str) else ca.slug
    return f"{_conf('PUBLIC_URL', 'http://127.0.0.1:8000').rstrip('/')}/pki/crl/{slug}.crl"


def ca_cert_url(ca: CertificateAuthority) -> str:
    return f"{_conf('PUBLIC_URL', 'http://127.0.0.1:8000').rstrip('/')}/pki/ca/{ca.slug}.crt"


class ImproperPKIConfig(PKIError):
    default_message = "PKI is not configured"
    default_message_zh = "证书系统配置错误"


class PKINotInitialised(PKIError):
    default_message = "the PKI has not been initialised (run `gongwen pki init`)"
    default_message_zh = "证书系统尚未初始化，请先执行“初始化CA”（gongwen pki init）"


# ----------------------------------------------------------------------------- helpers


def _require(actor, request=None, scope=None) -> None:
    """Operators only, and within their scope (``scope``: the CA, certificate or key disk
    acted on, or ``PLATFORM``); ``None`` is the CLI (see the module docstring)."""
    if actor is not None:
        require(actor, Perm.MANAGE_PKI, request=request)
        if scope is not None:
            require(actor, Perm.MANAGE_PKI, scope, request=request)


def _operator_verb(scope: Callable[[dict], Any] | None = None):
    """Permission check first, outside the transaction (a denial's audit row must survive
    the PermissionDenied), then the verb in one transaction. ``scope`` maps the verb's
    arguments to the object whose CA the actor must manage (None: not found, the verb
    says so itself): the pages check it too, the API and ``gongwen --as`` rely on this."""

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*, actor=None, request=None, **kwargs):
            if actor is not None:
                _require(actor, request, scope(kwargs) if scope else None)
            with audited():
                return func(actor=actor, request=request, **kwargs)

        return wrapper

    return decorate


def _ca_named(kwargs: dict) -> CertificateAuthority | None:
    ca = kwargs.get("ca")
    if isinstance(ca, CertificateAuthority):
        return ca
    return (CertificateAuthority.objects.filter(slug=ca).first()
            or CertificateAuthority.objects.filter(name=ca).first())


def _issuing_ca_of(kwargs: dict) -> CertificateAuthority | None:
    try:
        return issuing_ca_for(kwargs["unit"])
    except PKIError:
        return None  # not initialised: the verb says so


def _platform(_kwargs: dict):
    return PLATFORM


def _audit(actor, action: str, target=None, *, unit=None, detail=None, request=None) -> None:
    record(actor, action, target, unit=unit, detail=detail, request=request,
           actor_name="" if actor is not None else CLI_ACTOR)


def _now() -> datetime:
    return timezone.now()


def _ca_key(ca: CertificateAuthority) -> Any:
    """The CA's private key, decrypted in memory for one signing operation."""
    try:
        return keystore.decrypt_private_key(ca.key_encrypted_pem, _passphrase())
    except WrongPIN as exc:
        raise ImproperPKIConfig(
            f"CA passphrase does not open the key of {ca.slug}",
            message_zh=f"CA私钥保护口令与“{ca.name}”的私钥不符，请检查 GONGWEN_CA_PASSPHRASE",
        ) from exc


def _seal_ca_key(key: Any) -> str:
    pem = keystore.encrypt_private_key(key, _passphrase(), iterations=_iterations())
    return pem.decode("ascii")


def active_cas() -> list[CertificateAuthority]:
    return list(CertificateAuthority.objects.filter(retired_at__isnull=True).order_by("id"))


def ca_for_role(role: str) -> CertificateAuthority:
    ca = CertificateAuthority.objects.filter(role=role, retired_at__isnull=True).first()
    if ca is None:
        raise PKINotInitialised()
    return ca


def issuing_ca_for(unit: Unit) -> CertificateAuthority:
    """Attachment art. 4: the province and county/district governments are served by the
    provincial authority, city units (the city government, its office, departments and
    affiliated units) by the city office."""
    if unit.level in (Level.PROVINCE, Level.COUNTY):
        return ca_for_role(CARole.PROVINCIAL)
    return ca_for_role(CARole.CITY)


def _ca_subject(spec: CASpec) -> dict[str, str]:
    name = {"common_name": spec.name, "organization": spec.organization, "state": "江苏省"}
    if spec.locality:
        name["locality"] = spec.locality
    return name


def _operating_unit(spec: CASpec) -> Unit | None:
    if spec.unit_level is None:
        return Unit.objects.filter(is_platform_operator=True).order_by("id").first()
    qs = Unit.objects.filter(is_seal_authority=True, level=spec.unit_level)
    if spec.role == CARole.CITY:
        qs = Unit.objects.filter(is_platform_operator=True)
    return qs.order_by("id").first()


def _store_ca(spec: CASpec, suite_name: str, der: bytes, key: Any,
              parent: CertificateAuthority | None) -> CertificateAuthority:
    info = x509.certificate_info(der)
    return CertificateAuthority.objects.create(
        slug=spec.slug, name=spec.name, role=spec.role, suite=suite_name, parent=parent,
        unit=_operating_unit(spec), certificate_der=der, key_encrypted_pem=_seal_ca_key(key),
        subject=info.subject[:300], serial=info.serial_hex, not_before=info.not_before,
        not_after=info.not_after, fingerprint_sha256=info.fingerprint_sha256)


# ---------------------------------------------------------------------------- init_pki


@dataclass
class InitResult:
    created: list[str] = field(default_factory=list)
    cas: list[CertificateAuthority] = field(default_factory=list)


@_operator_verb(_platform)
def init_pki(*, actor=None, suite: str | None = None, request=None) -> InitResult:
    """Create what is missing of root → provincial CA → city CA, each with a first CRL.

    Idempotent: an existing CA is kept (a second run creates nothing). The suite is the
    deployment's (``GONGWEN["SUITE"]``) unless given; it must match existing CAs.
    """
    suite_name = get_suite(suite or configured_suite()).name
    algorithms = get_suite(suite_name)
    existing = {ca.role: ca for ca in CertificateAuthority.objects.select_for_update()
                .filter(retired_at__isnull=True)}
    for ca in existing.values():
        if ca.suite != suite_name:
            raise UnsupportedAlgorithm(
                f"existing CA {ca.slug} uses the {ca.suite} suite, not {suite_name}",
                message_zh=f"已有CA“{ca.name}”使用 {ca.suite} 算法套件，与配置的 {suite_name} 不符")
    result = InitResult()

    root = existing.get(CARole.ROOT)
    root_key = None
    if root is None:
        spec = _SPEC_BY_ROLE[CARole.ROOT]
        root_key = algorithms.generate_key()
        der = x509.create_root_ca(key=root_key, subject=_ca_subject(spec),
                                  validity_days=_ROOT_VALIDITY_DAYS, path_length=1)
        root = _store_ca(spec, suite_name, der, root_key, None)
        result.created.append(root.slug)
    for role in (CARole.PROVINCIAL, CARole.CITY):
        if role in existing:
            continue
        spec = _SPEC_BY_ROLE[role]
        root_key = root_key or _ca_key(root)
        key = algorithms.generate_key()
        der = x509.issue_certificate(
            profile="intermediate-ca", subject=_ca_subject(spec), public_key=key,
            issuer_key=root_key, issuer_cert=bytes(root.certificate_der),
            crl_urls=crl_url(root), validity_days=_ISSUING_CA_VALIDITY_DAYS, path_length=0)
        ca = _store_ca(spec, suite_name, der, key, root)
        result.created.append(ca.slug)
    result.cas = active_cas()
    for ca in result.cas:
        if ca.slug in result.created or ca.crl_der is None:
            _publish_crl(ca, actor=actor, request=request)
    if result.created:
        _audit(actor, "pki.initialised", detail={"suite": suite_name, "created": result.created},
               request=request)
        log.info("PKI initialised (%s): created %s", suite_name, ", ".join(result.created))
    return result


# ------------------------------------------------------------------------------ CRLs


def _publish_crl(ca: CertificateAuthority, *, actor=None, request=None,
                 validity_days: int | None = None) -> PublishedCRL:
    ca = CertificateAuthority.objects.select_for_update().get(pk=ca.pk)
    number = ca.crl_number + 1
    revoked = [
        pki_crl.RevokedEntry(int(c.serial, 16), c.revoked_at, c.revocation_reason or "unspecified")
        for c in Certificate.objects.filter(issuer=ca, status=CertStatus.REVOKED).order_by("id")
    ]
    this_update = _now().replace(microsecond=0)
    days = validity_days or crl_validity_days()
    if days <= 0:
        raise MalformedInput("CRL validity must be positive", message_zh="CRL有效期必须大于0天")
    next_update = this_update + timedelta(days=days)
    der = pki_crl.build_crl(issuer_cert=bytes(ca.certificate_der), issuer_key=_ca_key(ca),
                            revoked=revoked, this_update=this_update, next_update=next_update,
                            crl_number=number)
    ca.crl_number = number
    ca.crl_der = der
    ca.crl_this_update = this_update
    ca.crl_next_update = next_update
    ca.save(update_fields=["crl_number", "crl_der", "crl_this_update", "crl_next_update"])
    published = PublishedCRL.objects.create(
        ca=ca, number=number, this_update=this_update, next_update=next_update,
        revoked_count=len(revoked), der=der,
        published_by=actor if getattr(actor, "pk", None) else None)
    _audit(actor, "pki.crl.published", ca, unit=ca.unit,
           detail={"ca": ca.slug, "number": number, "revoked": len(revoked),
                   "next_update": next_update.isoformat()}, request=request)
    return published


@_operator_verb(_ca_named)
def publish_crl(*, actor=None, ca: CertificateAuthority | str, validity_days: int | None = None,
                request=None) -> PublishedCRL:
    """Sign and publish a new CRL of ``ca`` (an object or its slug); nextUpdate is
    ``validity_days`` (default ``GONGWEN["CRL_VALIDITY_DAYS"]``, 7) after now."""
    if isinstance(ca, str):
        ca = get_ca(ca)
    return _publish_crl(ca, actor=actor, request=request, validity_days=validity_days)


@_operator_verb(_platform)
def publish_all_crls(*, actor=None, validity_days: int | None = None,
                     request=None) -> list[PublishedCRL]:
    """A fresh CRL for every active CA: what ``gongwen pki crl`` runs from cron (daily)."""
    cas = active_cas()
    if not cas:
        raise PKINotInitialised()
    return [_publish_crl(ca, actor=actor, request=request, validity_days=validity_days)
            for ca in cas]


@_operator_verb(_platform)
def refresh_due_crls(*, actor=None, margin: timedelta = timedelta(days=1),
                     request=None) -> list[PublishedCRL]:
    """Publish a fresh CRL for every active CA whose CRL is missing or expires within
    ``margin``; the others are left alone (``gongwen pki crl --if-due``, safe hourly)."""
    due_before = _now() + margin
    return [_publish_crl(ca, actor=actor, request=request) for ca in active_cas()
            if ca.crl_der is None or ca.crl_next_update is None
            or ca.crl_next_update <= due_before]


def health() -> list[tuple[bool, str]]:
    """(ok, text) lines for ``gongwen check``: CAs present, CRLs current, passphrase works."""
    cas = active_cas()
    if not cas:
        return [(False, "PKI not initialised: run `gongwen pki init`")]
    lines = []
    now = _now()
    for ca in cas:
        if ca.crl_next_update is None or ca.crl_next_update <= now:
            lines.append((False, f"CRL of {ca.slug} is missing or stale: run `gongwen pki crl`"))
        else:
            lines.append((True, f"CRL of {ca.slug} #{ca.crl_number} valid until "
                                f"{ca.crl_next_update:%Y-%m-%d %H:%M} UTC"))
    try:
        _ca_key(cas[0])
        lines.append((True, f"CA passphrase opens the CA keys ({cas[0].suite} suite)"))
    except PKIError as exc:
        lines.append((False, str(exc)))
    return lines


def get_ca(slug_or_name: str) -> CertificateAuthority:
    ca = (CertificateAuthority.objects.filter(slug=slug_or_name).first()
          or CertificateAuthority.objects.filter(name=slug_or_name).first())
    if ca is None:
        raise MalformedInput(f"no CA named {slug_or_name!r}",
                             message_zh=f"没有名为“{slug_or_name}”的CA")
    return ca


# ------------------------------------------------------------------------ issuing


def _subject_for(unit: Unit, profile: str, label: str = "") -> dict[str, str]:
    cn = unit.name
    if label:
        cn = f"{unit.name} {label}"
    return {"common_name": cn[:64], "organization": unit.name[:64],
            "organizational_unit": Profile(profile).label, "state": "江苏省"}


def _check_issue(unit: Unit, profile: str, holder: User) -> None:
    if profile not in Profile.values:
        raise ValidationError(f"未知的证书类型“{profile}”。")
    if unit.state != UnitState.ACTIVE:
        raise ValidationError(f"单位“{unit.name}”已{unit.get_state_display()}，不能再签发证书。")
    if profile == Profile.SEAL_MAKER and not unit.is_seal_authority:
        raise ValidationError(f"“{unit.name}”不是制章单位，不能签发制章单位证书。")
    if holder is None:
        raise ValidationError("请指定密钥盘持有人。")
    if holder.unit_id != unit.pk:
        raise ValidationError(f"持有人“{holder.display_name}”不属于“{unit.name}”。")
    if not holder.is_active:
        raise ValidationError(f"持有人“{holder.display_name}”已停用。")


@_operator_verb(_issuing_ca_of)
def issue_certificate(*, actor=None, unit: Unit, profile: str, holder: User, pin: str,
                      label: str = "", validity_days: int | None = None,
                      request=None) -> Certificate:
    """Generate a key pair straight into a new PIN-protected key disk for ``holder`` and
    certify it with the CA that serves ``unit`` (attachment art. 4)."""
    _check_issue(unit, profile, holder)
    keystore.check_pin_format(pin)
    ca = issuing_ca_for(unit)
    now = _now()
    if ca.not_after <= now:
        raise InvalidCertificate(f"CA {ca.slug} has expired",
                                 message_zh=f"“{ca.name}”的CA证书已过期，不能签发")
    if validity_days is not None and validity_days <= 0:
        raise ValidationError("有效期必须大于0天。")
    # A certificate must not outlive the CA that vouches for it: clamp to the CA's notAfter.
    not_before = now.replace(microsecond=0) - timedelta(minutes=1)
    not_after = min(not_before + timedelta(days=validity_days or LEAF_VALIDITY_DAYS[profile]),
                    ca.not_after)
    encrypted_pem, public_der = keystore.create_key_disk(ca.suite, pin, _iterations())
    der = x509.issue_certificate(
        profile=profile, subject=_subject_for(unit, profile, label), public_key=public_der,
        issuer_key=_ca_key(ca), issuer_cert=bytes(ca.certificate_der), crl_urls=crl_url(ca),
        not_before=not_before, not_after=not_after)
    info = x509.certificate_info(der)
    cert = Certificate.objects.create(
        issuer=ca, unit=unit, holder=holder, profile=profile, serial=info.serial_hex,
        subject=info.subject[:300], not_before=info.not_before, not_after=info.not_after,
        der=der, fingerprint_sha256=info.fingerprint_sha256, key_algorithm=info.key_algorithm,
        issued_by=actor if getattr(actor, "pk", None) else None)
    disk = KeyDisk.objects.create(certificate=cert, holder=holder, unit=unit,
                                  encrypted_pem=encrypted_pem.decode("ascii"),
                                  public_key_der=public_der)
    _audit(actor, "pki.cert.issued", cert, unit=unit, request=request,
           detail={"serial": cert.serial, "profile": profile, "ca": ca.slug,
                   "holder": holder.username, "subject": cert.subject})
    _audit(actor, "keydisk.created", disk, unit=unit, request=request,
           detail={"serial": cert.serial, "holder": holder.username,
                   "iterations": keystore.key_disk_info(encrypted_pem).iterations})
    log.info("issued %s certificate %s for %s (holder %s)", profile, cert.serial, unit.code,
             holder.username)
    return cert


def find_certificate(serial: str) -> Certificate:
    """A certificate by its hexadecimal serial number (``0x``, colons and case ignored)."""
    text = (serial or "").strip().lower().removeprefix("0x").replace(":", "")
    try:
        value = int(text, 16)
    except ValueError:
        raise MalformedInput(f"bad serial number {serial!r}",
                             message_zh=f"证书序列号“{serial}”格式错误（应为十六进制）") from None
    cert = Certificate.objects.filter(serial=format(value, "x")).first()
    if cert is None:
        raise MalformedInput(f"no certificate with serial {serial}",
                             message_zh=f"未找到序列号为 {serial} 的证书")
    return cert


@_operator_verb(lambda kw: Certificate.objects.filter(pk=object_id(kw["cert_id"])).first())
def revoke_certificate(*, actor=None, cert_id: int, reason: str, note: str = "",
                       destroy_key: bool = False, request=None) -> Certificate:
    """Revoke with an RFC 5280 reason and publish the issuer's next CRL in the same
    transaction. ``destroy_key`` (always for key_compromise) empties the key disk:
    attachment art. 9, a damaged or compromised seal's key is destroyed."""
    return _revoke(actor=actor, cert_id=cert_id, reason=reason, note=note,
                   destroy_key=destroy_key, request=request)


#: Business processes that may revoke a certificate without the actor holding MANAGE_PKI,
#: each gated by its own service's permission check (see :func:`revoke_for_process`).
REVOKING_PROCESSES: dict[str, str] = {
    "seal.lost": "电子印章挂失（第八条）",
    "seal.revoke": "电子印章注销申请",
    "seal.change": "电子印章变更申请",
    "seal.replace_damaged": "电子印章损坏换领（第八条）",
    "seal.return": "电子印章交回（第九条）",
}


def revoke_for_process(*, process: str, actor: User, cert_id: int, reason: str,
                       note: str = "", destroy_key: bool = False,
                       request=None) -> Certificate:
    """Internal entry point: revoke on behalf of a business process that has already
    authorised ``actor`` by its own rules (e.g. a unit's clerk reporting a lost seal, who
    holds no CA rights). Does **not** ask for ``Perm.MANAGE_PKI``: never call it from a
    view or the CLI directly. The real ``actor`` is recorded as ``revoked_by`` and in the
    audit rows, with ``process`` in the detail. Joins the caller's transaction."""
    if process not in REVOKING_PROCESSES:
        raise ValueError(f"unknown revoking process {process!r}")
    if not getattr(actor, "pk", None):
        raise ValueError("revoke_for_process needs the real actor")
    with audited():
        return _revoke(actor=actor, cert_id=cert_id, reason=reason, note=note,
                       destroy_key=destroy_key, request=request, process=process)


#: Sent inside the revoking transaction, after the certificate is revoked:
#: ``cert``, ``actor``, ``process`` ("" outside a business process), ``request``. The seal
#: register ends a seal whose certificate an operator revoked in 证书管理.
certificate_revoked = Signal()


def _revoke(*, actor, cert_id: int, reason: str, note: str, destroy_key: bool, request,
            process: str = "") -> Certificate:
    given = reason
    # Accept RFC spellings too: keyCompromise, key-compromise, key_compromise.
    squashed = (reason or "").strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    reason = {r.replace("_", ""): r for r in LEAF_REASONS}.get(squashed, "")
    if not reason:
        raise ValidationError(f"未知的吊销原因“{given}”，可选：{'、'.join(LEAF_REASONS)}。")
    # The certificate's row only (its issuer's is locked by the CRL publication below, the
    # unit's not at all): certificate → key disk → CA, the one order revocation takes.
    cert = (Certificate.objects.select_for_update(of=("self",)).select_related("issuer", "unit")
            .get(pk=cert_id))
    if cert.status == CertStatus.REVOKED:
        raise ValidationError("该证书已被吊销。")
    cert.status = CertStatus.REVOKED
    cert.revoked_at = _now().replace(microsecond=0)
    cert.revocation_reason = reason
    cert.revocation_note = (note or "")[:300]
    cert.revoked_by = actor if getattr(actor, "pk", None) else None
    cert.save(update_fields=["status", "revoked_at", "revocation_reason", "revocation_note",
                             "revoked_by"])
    detail = {"serial": cert.serial, "reason": reason, "note": cert.revocation_note}
    if process:
        detail["process"] = process
    _audit(actor, "pki.cert.revoked", cert, unit=cert.unit, request=request, detail=detail)
    disk = KeyDisk.objects.select_for_update().filter(certificate=cert).first()
    if disk is not None and (destroy_key or reason == "key_compromise") and not disk.is_destroyed:
        disk.encrypted_pem = ""
        disk.destroyed_at = cert.revoked_at
        disk.save(update_fields=["encrypted_pem", "destroyed_at"])
        _audit(actor, "keydisk.destroyed", disk, unit=cert.unit, request=request,
               detail={"serial": cert.serial})
    certificate_revoked.send(sender=Certificate, cert=cert, actor=actor, process=process,
                             request=request)
    _publish_crl(cert.issuer, actor=actor, request=request)
    return cert


# ------------------------------------------------------------------------ validation


def trust_material() -> tuple[list[bytes], list[bytes], list[bytes]]:
    """(trust anchors, intermediates, CRLs) as the database holds them now."""
    anchors, intermediates, crls = [], [], []
    for ca in CertificateAuthority.objects.order_by("id"):
        (anchors if ca.role == CARole.ROOT else intermediates).append(bytes(ca.certificate_der))
        if ca.crl_der:
            crls.append(bytes(ca.crl_der))
    return anchors, intermediates, crls


def validate_certificate(cert: Certificate | bytes | str, at: datetime | None = None, *,
                         key_usage=None, extended_key_usage=None) -> list:
    """The core's hard-failing ``validate_chain`` with our root as the trust anchor, our
    issuing CAs as intermediates and their current CRLs. Returns the path; raises a
    :class:`~gongwen.pki.errors.PKIError` (with ``message_zh``) on any doubt."""
    data = bytes(cert.der) if isinstance(cert, Certificate) else cert
    anchors, intermediates, crls = trust_material()
    if not anchors:
        raise PKINotInitialised()
    return pki_crl.validate_chain(data, anchors, intermediates, crls, at or _now(),
                                  key_usage=key_usage, extended_key_usage=extended_key_usage)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of :func:`check_certificate`: ``status`` is ``valid``, ``invalid`` or
    ``unreadable`` (the CLI's exit codes 0, 1, 2)."""

    status: str
    message_zh: str
    message_en: str
    subject: str = ""
    serial: str = ""
    path: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "valid"


def check_certificate(data: bytes | str, at: datetime | None = None) -> CheckResult:
    """Validate uploaded/loaded certificate bytes without raising (for the CLI and pages)."""
    try:
        info = x509.certificate_info(data)
    except PKIError as exc:
        return CheckResult("unreadable", exc.message_zh, str(exc))
    try:
        path = validate_certificate(data, at)
    except PKIError as exc:
        return CheckResult("invalid", exc.message_zh, str(exc), info.subject, info.serial_hex)
    labels = tuple(str(c.subject.native.get("common_name") or x509.name_to_string(c.subject))
                   for c in path)
    return CheckResult("valid", "证书有效：证书链、有效期和吊销状态均已核验",
                       "certificate is valid (chain, validity period and CRL checked)",
                       info.subject, info.serial_hex, labels)


# ------------------------------------------------------------------------- key disks


class KeyDiskUnavailable(PKIError):
    default_message = "key disk cannot be used"
    default_message_zh = "密钥盘不可用"


@audited(durable=True)
def _attempt(user: User, disk_id: int, pin: str, request) -> tuple[Any, PKIError | None]:
    # Only the disk's row is locked, not its certificate's: a revocation locks the
    # certificate and then the disk (``_revoke``); locking both here could form a cycle.
    disk = (KeyDisk.objects.select_for_update(of=("self",)).select_related("certificate")
            .get(pk=disk_id))
    if not user.is_authenticated or not user.is_active or disk.holder_id != user.pk:
        # Only the holder may use a disk (attachment art. 3: 印章管理专人).
        record(user if getattr(user, "pk", None) else None, "permission.denied", disk,
               detail={"perm": "open_key_disk", "why": "holder"}, request=request)
        return None, None
    base = {"serial": disk.certificate.serial}
    if disk.locked:
        _audit(user, "keydisk.pin_refused", disk, unit=disk.unit, request=request,
               detail={**base, "why": "locked"})
        return None, KeyDiskLocked()
    if disk.is_destroyed or disk.certificate.status == CertStatus.REVOKED:
        _audit(user, "keydisk.pin_refused", disk, unit=disk.unit, request=request,
               detail={**base, "why": "revoked"})
        return None, KeyDiskUnavailable(
            "the key disk's certificate is revoked or its key destroyed",
            message_zh="该密钥盘的证书已吊销或密钥已销毁，不能再使用")
    try:
        key = keystore.open_key_disk(disk.encrypted_pem, pin)
    except WrongPIN:
        disk.failed_attempts += 1
        limit = max_pin_attempts()
        left = max(limit - disk.failed_attempts, 0)
        _audit(user, "keydisk.pin_wrong", disk, unit=disk.unit, request=request,
               detail={**base, "failures": disk.failed_attempts})
        if disk.failed_attempts >= limit:
            disk.locked = True
            disk.locked_at = _now()
            _audit(user, "keydisk.locked", disk, unit=disk.unit, request=request,
                   detail={**base, "failures": disk.failed_attempts})
            error: PKIError = KeyDiskLocked(
                f"wrong PIN; key disk locked after {disk.failed_attempts} failures",
                message_zh=f"口令错误，已连续错误 {disk.failed_attempts} 次，密钥盘已锁定，"
                           "请联系平台管理员解锁")
        else:
            error = WrongPIN(f"wrong PIN, {left} attempts left",
                             message_zh=f"口令错误，还可尝试 {left} 次")
        disk.save(update_fields=["failed_attempts", "locked", "locked_at"])
        return None, error
    except PINFormatError as exc:
        # Not a possible PIN: nothing was tried against the disk, so it does not count.
        _audit(user, "keydisk.pin_malformed", disk, unit=disk.unit, request=request,
               detail=base)
        return None, exc
    except MalformedInput as exc:
        _audit(user, "keydisk.damaged", disk, unit=disk.unit, request=request, detail=base)
        return None, KeyDiskUnavailable(str(exc), message_zh="密钥盘数据已损坏，无法打开")
    disk.failed_attempts = 0
    disk.last_used_at = _now()
    disk.save(update_fields=["failed_attempts", "last_used_at"])
    _audit(user, "keydisk.pin_ok", disk, unit=disk.unit, request=request, detail=base)
    return key, None


def open_key_disk(*, user: User, disk: KeyDisk | int, pin: str, request=None) -> Any:
    """The private key of ``disk`` for its holder, or an error; every attempt is audited.

    Wrong PINs are counted under a row lock; the ``max_pin_attempts()``-th (5) locks the
    disk until an operator unlocks it. This runs in its own *durable* transaction: call it
    before, not inside, your own transaction, so that a failure is counted even when your
    work rolls back. Raises ``WrongPIN``, ``KeyDiskLocked``, ``PINFormatError``,
    :class:`KeyDiskUnavailable` (all ``PKIError``) or ``PermissionDenied``.
    """
    disk_id = disk.pk if isinstance(disk, KeyDisk) else int(disk)
    key, error = _attempt(user, disk_id, pin if isinstance(pin, str) else "", request)
    if error is not None:
        raise error
    if key is None:
        raise PermissionDenied("只有密钥盘持有人可以使用该密钥盘。")
    return key


def change_key_disk_pin(*, user: User, disk: KeyDisk | int, old_pin: str, new_pin: str,
                        request=None) -> KeyDisk:
    """The holder seals their key again under a PIN of their own: the operator who set the
    first one at issue (and handed it over sealed) no longer knows it. The old PIN opens
    the disk exactly as a use does (:func:`open_key_disk`: counted, locks at the limit);
    a new PIN outside the rule is refused before the old one is tried. The trail records
    the change, never a PIN. Raises what :func:`open_key_disk` raises."""
    new_pin = keystore.check_pin_format(new_pin if isinstance(new_pin, str) else "")
    if new_pin == old_pin:
        raise PINFormatError("the new PIN equals the old one",
                             message_zh="新口令不能与原口令相同")
    disk_id = disk.pk if isinstance(disk, KeyDisk) else int(disk)
    opened = KeyDisk.objects.filter(pk=disk_id).values_list("encrypted_pem", flat=True).first()
    key = open_key_disk(user=user, disk=disk_id, pin=old_pin, request=request)
    # Sealed outside the row lock: the key derivation is slow on purpose.
    resealed = keystore.encrypt_private_key(key, new_pin, iterations=_iterations())
    return _store_new_pin(user, disk_id, opened, resealed.decode("ascii"), request)


@audited(durable=True)
def _store_new_pin(user: User, disk_id: int, opened: str | None, resealed: str,
                   request) -> KeyDisk:
    disk = (KeyDisk.objects.select_for_update(of=("self",)).select_related("certificate")
            .get(pk=disk_id))
    # Whatever happened since the old PIN opened it (a lock, a revocation, another change)
    # wins: this change is dropped rather than undo it.
    if (disk.encrypted_pem != opened or disk.locked or disk.is_destroyed
            or disk.certificate.status == CertStatus.REVOKED):
        raise KeyDiskUnavailable("the key disk changed while its PIN was being changed",
                                 message_zh="密钥盘状态刚刚发生变化，口令未修改，请刷新后重试")
    disk.encrypted_pem = resealed
    disk.save(update_fields=["encrypted_pem"])
    _audit(user, "keydisk.pin_changed", disk, unit=disk.unit, request=request,
           detail={"serial": disk.certificate.serial})
    return disk


@_operator_verb(lambda kw: KeyDisk.objects.filter(pk=object_id(kw["disk_id"])).first())
def unlock_key_disk(*, actor=None, disk_id: int, request=None) -> KeyDisk:
    """Operator unlock after the wrong-PIN lock (R-PKI-5)."""
    disk = KeyDisk.objects.select_for_update().get(pk=disk_id)
    if not disk.locked and not disk.failed_attempts:
        raise ValidationError("该密钥盘未锁定。")
    was = disk.failed_attempts
    disk.locked = False
    disk.locked_at = None
    disk.failed_attempts = 0
    disk.save(update_fields=["locked", "locked_at", "failed_attempts"])
    _audit(actor, "keydisk.unlocked", disk, unit=disk.unit, request=request,
           detail={"serial": disk.certificate.serial, "failures_before": was})
    return disk


# ------------------------------------------------------------------------- export


def certificate_pem(der: bytes) -> str:
    return x509.certificate_pem(bytes(der))


def crl_pem(der: bytes) -> str:
    return pki_crl.crl_pem(bytes(der))


def export_trust_bundle(out: Path, *, with_certificates: bool = False) -> list[dict[str, str]]:
    """Write every CA certificate (``<slug>.pem``) and its current CRL (``<slug>.crl.pem``)
    into ``out`` with an ``index.json`` listing file, subject, issuer and role, and the
    executable ``verify-openssl.sh`` that checks them all with the ``openssl`` CLI
    (gongwen.authority.opensslcheck). ``with_certificates`` adds every valid (not revoked)
    end-entity certificate as ``certs/<serial>.pem`` (type ``end-entity``, role = profile),
    checked by the script too. Read-only."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cas = list(CertificateAuthority.objects.order_by("id"))
    if not cas:
        raise PKINotInitialised()
    by_id = {ca.pk: ca for ca in cas}

    def lineage(ca) -> list:
        """CAs from ``ca`` up to (excluding) its root, nearest first."""
        path = []
        while ca.parent_id and ca.parent_id in by_id:
            path.append(ca)
            ca = by_id[ca.parent_id]
        return path

    def root_of(ca):
        while ca.parent_id and ca.parent_id in by_id:
            ca = by_id[ca.parent_id]
        return ca

    index: list[dict[str, str]] = []
    cert_items: list[opensslcheck.CertItem] = []
    crl_items: list[opensslcheck.CRLItem] = []
    for ca in cas:
        info = x509.certificate_info(bytes(ca.certificate_der))
        name = f"{ca.slug}.pem"
        (out / name).write_text(certificate_pem(ca.certificate_der), encoding="ascii")
        index.append({"file": name, "type": "certificate", "subject": info.subject,
                      "issuer": info.issuer, "role": ca.role, "name": ca.name,
                      "suite": ca.suite, "not_after": info.not_after.isoformat(),
                      "sha256": info.fingerprint_sha256})
        parent = by_id.get(ca.parent_id)
        cert_items.append(opensslcheck.CertItem(
            file=name, suite=ca.suite,
            issuer=f"{parent.slug}.pem" if parent else name,
            root=f"{root_of(ca).slug}.pem",
            chain=tuple(f"{c.slug}.pem" for c in reversed(lineage(parent))) if parent else (),
            crl=f"{parent.slug}.crl.pem" if parent else ""))
        if not ca.crl_der:
            raise CRLMissing(f"CA {ca.slug} has no CRL", message_zh=f"“{ca.name}”尚未发布CRL")
        crl_info = pki_crl.crl_info(bytes(ca.crl_der))
        crl_name = f"{ca.slug}.crl.pem"
        (out / crl_name).write_text(crl_pem(ca.crl_der), encoding="ascii")
        index.append({"file": crl_name, "type": "crl", "subject": info.subject,
                      "issuer": crl_info.issuer, "role": ca.role, "name": ca.name,
                      "crl_number": str(crl_info.crl_number),
                      "this_update": crl_info.this_update.isoformat(),
                      "next_update": crl_info.next_update.isoformat()
                      if crl_info.next_update else ""})
        crl_items.append(opensslcheck.CRLItem(file=crl_name, suite=ca.suite, issuer=name))
    if with_certificates:
        certs = (Certificate.objects.filter(status=CertStatus.VALID)
                 .select_related("issuer").order_by("id"))
        if certs:
            (out / "certs").mkdir(exist_ok=True)
        for cert in certs:
            ca = by_id[cert.issuer_id]
            info = x509.certificate_info(bytes(cert.der))
            name = f"certs/{cert.serial.lower()}.pem"
            (out / name).write_text(certificate_pem(cert.der), encoding="ascii")
            index.append({"file": name, "type": "end-entity", "subject": info.subject,
                          "issuer": info.issuer, "role": cert.profile, "name": cert.subject_cn,
                          "suite": ca.suite, "serial": cert.serial,
                          "not_after": info.not_after.isoformat(),
                          "sha256": info.fingerprint_sha256})
            cert_items.append(opensslcheck.CertItem(
                file=name, suite=ca.suite, issuer=f"{ca.slug}.pem",
                root=f"{root_of(ca).slug}.pem",
                chain=tuple(f"{c.slug}.pem" for c in reversed(lineage(ca))),
                crl=f"{ca.slug}.crl.pem"))
    (out / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=2) + "\n",
                                    encoding="utf-8")
    script = out / opensslcheck.SCRIPT_NAME
    script.write_text(opensslcheck.render_script(cert_items, crl_items), encoding="utf-8")
    script.chmod(0o755)
    return index
