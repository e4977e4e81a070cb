"""Certificate revocation lists (RFC 5280 §5, v2) and chain validation at a given time.

:func:`build_crl` makes a CRL signed by the CA (same signature algorithms as
:mod:`gongwen.pki.x509`), with thisUpdate/nextUpdate, cRLNumber, AKI and a reason code
per entry. :func:`validate_chain` builds the path from a certificate to one of the trust
anchors and checks it at time ``at``; it *fails hard*: any doubt raises, there is no
"unknown" status. In particular a certificate whose issuer has no CRL among ``crls``
raises :class:`~gongwen.pki.errors.CRLMissing`, and a CRL whose nextUpdate is before
``at`` raises :class:`~gongwen.pki.errors.CRLStale`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asn1crypto import crl as acrl
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as ax

from .errors import (
    CertificateExpired,
    CertificateRevoked,
    CRLMissing,
    CRLStale,
    InvalidCertificate,
    InvalidSignature,
    MalformedInput,
    PKIError,
    UnsupportedAlgorithm,
)
from .suites import load_public_key, public_key_der, sign_data, signature_algorithm_for_key
from .suites import verify_signature as _verify_signature
from .x509 import (
    _signature_algorithm,
    _ski_of,
    _time,
    load_certificate,
    name_to_string,
)

__all__ = [
    "REASONS",
    "CRLInfo",
    "RevokedEntry",
    "build_crl",
    "crl_info",
    "crl_pem",
    "load_crl",
    "validate_chain",
    "verify_crl_signature",
]

#: RFC 5280 5.3.1 CRLReason names (asn1crypto spelling) → Chinese labels for the UI.
REASONS: dict[str, str] = {
    "unspecified": "未指明",
    "key_compromise": "密钥泄露",
    "ca_compromise": "CA 密钥泄露",
    "affiliation_changed": "隶属关系变更",
    "superseded": "证书已被替换",
    "cessation_of_operation": "停止使用",
    "certificate_hold": "证书冻结",
    "privilege_withdrawn": "权限撤销",
    "aa_compromise": "属性机构密钥泄露",
}

# Extensions we understand; a critical one outside these sets makes the object unusable.
_KNOWN_CERT_EXTENSIONS = {
    "2.5.29.19",  # basicConstraints
    "2.5.29.15",  # keyUsage
    "2.5.29.37",  # extKeyUsage
    "2.5.29.14",  # subjectKeyIdentifier
    "2.5.29.35",  # authorityKeyIdentifier
    "2.5.29.31",  # cRLDistributionPoints
    "2.5.29.32",  # certificatePolicies
    "2.5.29.17",  # subjectAltName
    "2.5.29.18",  # issuerAltName
    "1.3.6.1.5.5.7.1.1",  # authorityInfoAccess
}
_KNOWN_CRL_EXTENSIONS = {"2.5.29.20", "2.5.29.35", "2.5.29.18"}  # cRLNumber, AKI, IAN
_KNOWN_ENTRY_EXTENSIONS = {"2.5.29.21", "2.5.29.24"}  # reasonCode, invalidityDate

_MAX_PATH = 8

CRLLike = bytes | bytearray | str | acrl.CertificateList


@dataclass(frozen=True)
class RevokedEntry:
    """One revoked certificate: its serial number, revocation time and reason name."""

    serial: int
    revoked_at: datetime
    reason: str = "unspecified"


@dataclass(frozen=True)
class CRLInfo:
    issuer: str
    issuer_cn: str | None
    this_update: datetime
    next_update: datetime | None
    crl_number: int | None
    signature_algorithm: str
    revoked: tuple[RevokedEntry, ...]


# -------------------------------------------------------------------------------- build


def _normalise_reason(reason: str | None) -> str:
    if reason is None:
        return "unspecified"
    r = reason.strip().lower().replace("-", "_").replace(" ", "_")
    aliases = {
        "keycompromise": "key_compromise",
        "cacompromise": "ca_compromise",
        "affiliationchanged": "affiliation_changed",
        "cessationofoperation": "cessation_of_operation",
        "certificatehold": "certificate_hold",
        "privilegewithdrawn": "privilege_withdrawn",
        "aacompromise": "aa_compromise",
    }
    r = aliases.get(r, r)
    if r not in REASONS:
        raise MalformedInput(f"unknown revocation reason {reason!r}", message_zh="未知的吊销原因")
    return r


def build_crl(
    *,
    issuer_cert: Any,
    issuer_key: Any,
    revoked: Iterable[RevokedEntry | tuple[int, datetime] | tuple[int, datetime, str]] = (),
    this_update: datetime | None = None,
    next_update: datetime | None = None,
    crl_number: int,
    validity: timedelta = timedelta(days=1),
) -> bytes:
    """A v2 CRL signed by ``issuer_key`` for the CA ``issuer_cert``; DER.

    ``next_update`` defaults to ``this_update + validity``. A reason of ``unspecified``
    is written as no reasonCode extension (RFC 5280 5.3.1).
    """
    ca = load_certificate(issuer_cert)
    if public_key_der(issuer_key) != ca["tbs_certificate"]["subject_public_key_info"].dump():
        raise MalformedInput(
            "issuer_key does not match issuer_cert", message_zh="CA 私钥与证书不匹配"
        )
    this_update = this_update or datetime.now(UTC)
    next_update = next_update or (this_update + validity)
    if next_update <= this_update:
        raise MalformedInput("nextUpdate must be later than thisUpdate")
    if crl_number < 0:
        raise MalformedInput("CRL number must not be negative")

    entries = []
    for item in revoked:
        entry = item if isinstance(item, RevokedEntry) else RevokedEntry(*item)
        reason = _normalise_reason(entry.reason)
        value: dict[str, Any] = {
            "user_certificate": entry.serial,
            "revocation_date": _time(entry.revoked_at),
        }
        if reason != "unspecified":
            value["crl_entry_extensions"] = [
                {"extn_id": "crl_reason", "critical": False, "extn_value": reason}
            ]
        entries.append(value)

    sig_oid = signature_algorithm_for_key(issuer_key)
    tbs_value: dict[str, Any] = {
        "version": "v2",
        "signature": _signature_algorithm(sig_oid),
        "issuer": ca.subject,
        "this_update": _time(this_update),
        "next_update": _time(next_update),
        "crl_extensions": [
            {"extn_id": "crl_number", "critical": False, "extn_value": crl_number},
            {
                "extn_id": "authority_key_identifier",
                "critical": False,
                "extn_value": {"key_identifier": _ski_of(ca)},
            },
        ],
    }
    if entries:
        tbs_value["revoked_certificates"] = entries
    tbs = acrl.TbsCertList(tbs_value)
    signature = sign_data(issuer_key, tbs.dump())
    crl = acrl.CertificateList(
        {
            "tbs_cert_list": tbs,
            "signature_algorithm": _signature_algorithm(sig_oid),
            "signature": signature,
        }
    )
    return crl.dump()


# --------------------------------------------------------------------------------- read


def _force_parse(crl: acrl.CertificateList) -> None:
    tbs = crl["tbs_cert_list"]
    tbs["signature"]["algorithm"].dotted  # noqa: B018
    tbs["issuer"].native  # noqa: B018
    tbs["this_update"].native  # noqa: B018
    tbs["next_update"].native  # noqa: B018
    for entry in tbs["revoked_certificates"]:
        entry["user_certificate"].native  # noqa: B018
        entry["revocation_date"].native  # noqa: B018
        for ext in entry["crl_entry_extensions"]:
            ext["extn_id"].dotted  # noqa: B018
            ext["extn_value"].parsed  # noqa: B018
    for ext in tbs["crl_extensions"]:
        ext["extn_id"].dotted  # noqa: B018
        ext["critical"].native  # noqa: B018
        ext["extn_value"].parsed  # noqa: B018
    crl["signature_algorithm"]["algorithm"].dotted  # noqa: B018
    crl["signature"].native  # noqa: B018


def load_crl(data: CRLLike) -> acrl.CertificateList:
    """Parse a CRL from PEM or DER; :class:`MalformedInput` for anything else."""
    if isinstance(data, acrl.CertificateList):
        return data
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MalformedInput(
            f"expected CRL bytes, got {type(data).__name__}", message_zh="证书吊销列表格式错误"
        )
    raw = bytes(data)
    try:
        if asn1_pem.detect(raw):
            label, _h, der = asn1_pem.unarmor(raw)
            if label != "X509 CRL":
                raise ValueError(f"PEM block is {label!r}, not an X509 CRL")
        else:
            der = raw
        crl = acrl.CertificateList.load(der, strict=True)
        _force_parse(crl)
    except Exception as exc:
        raise MalformedInput(
            f"not a valid CRL: {exc}", message_zh="证书吊销列表格式错误，无法解析"
        ) from exc
    return crl


def crl_pem(crl: CRLLike) -> str:
    return asn1_pem.armor("X509 CRL", load_crl(crl).dump()).decode("ascii")


def _entry_reason(entry: Any) -> str:
    for ext in entry["crl_entry_extensions"]:
        if ext["extn_id"].native == "crl_reason":
            return ext["extn_value"].native
    return "unspecified"


def _crl_number(crl: acrl.CertificateList) -> int | None:
    value = crl.crl_number_value
    return None if value is None else value.native


def crl_info(crl: CRLLike) -> CRLInfo:
    c = load_crl(crl)
    tbs = c["tbs_cert_list"]
    from .x509 import _SIGNATURE_NAMES, _name_attr

    sig_oid = c["signature_algorithm"]["algorithm"].dotted
    return CRLInfo(
        issuer=name_to_string(c.issuer),
        issuer_cn=_name_attr(c.issuer, "common_name"),
        this_update=tbs["this_update"].native,
        next_update=tbs["next_update"].native,
        crl_number=_crl_number(c),
        signature_algorithm=_SIGNATURE_NAMES.get(sig_oid, sig_oid),
        revoked=tuple(
            RevokedEntry(
                serial=e["user_certificate"].native,
                revoked_at=e["revocation_date"].native,
                reason=_entry_reason(e),
            )
            for e in tbs["revoked_certificates"]
        ),
    )


def _public_key_of(cert: ax.Certificate) -> Any:
    return load_public_key(cert["tbs_certificate"]["subject_public_key_info"].dump())


def verify_crl_signature(crl: CRLLike, issuer_cert: Any) -> None:
    """Raise :class:`InvalidSignature` unless ``issuer_cert``'s key signed ``crl``."""
    c = load_crl(crl)
    ca = load_certificate(issuer_cert)
    outer = c["signature_algorithm"]["algorithm"].dotted
    if outer != c["tbs_cert_list"]["signature"]["algorithm"].dotted:
        raise InvalidSignature("CRL signature algorithm fields differ")
    _verify_signature(_public_key_of(ca), c["tbs_cert_list"].dump(), c["signature"].native, outer)


# ----------------------------------------------------------------------------- validate


def _critical_unknown(extensions: Iterable[Any], known: set[str]) -> list[str]:
    return [
        ext["extn_id"].dotted
        for ext in extensions
        if ext["critical"].native and ext["extn_id"].dotted not in known
    ]


def _label(cert: ax.Certificate) -> str:
    try:
        cn = cert.subject.native.get("common_name")
    except Exception:
        cn = None
    return str(cn or name_to_string(cert.subject))


def _is_ca(cert: ax.Certificate) -> bool:
    bc = cert.basic_constraints_value
    return bool(bc is not None and bc["ca"].native)


def _aki(cert: ax.Certificate) -> bytes | None:
    value = cert.authority_key_identifier_value
    if value is None:
        return None
    return value["key_identifier"].native


def _ski(cert: ax.Certificate) -> bytes | None:
    value = cert.key_identifier_value
    return None if value is None else value.native


def _signed_by(cert: ax.Certificate, issuer: ax.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    aki, ski = _aki(cert), _ski(issuer)
    if aki is not None and ski is not None and aki != ski:
        return False
    outer = cert["signature_algorithm"]["algorithm"].dotted
    if outer != cert["tbs_certificate"]["signature"]["algorithm"].dotted:
        return False
    try:
        _verify_signature(
            _public_key_of(issuer),
            cert["tbs_certificate"].dump(),
            cert["signature_value"].native,
            outer,
        )
    except (InvalidSignature, UnsupportedAlgorithm, MalformedInput):
        return False
    return True


def _build_path(
    leaf: ax.Certificate, anchors: Sequence[ax.Certificate], pool: Sequence[ax.Certificate]
) -> list[ax.Certificate]:
    anchor_ders = {a.dump() for a in anchors}
    path = [leaf]
    current = leaf
    while current.dump() not in anchor_ders:
        if len(path) > _MAX_PATH:
            raise InvalidCertificate("certificate path too long", message_zh="证书链过长")
        issuer = next((a for a in anchors if _signed_by(current, a)), None)
        if issuer is None:
            issuer = next(
                (
                    c
                    for c in pool
                    if c.dump() not in {p.dump() for p in path} and _signed_by(current, c)
                ),
                None,
            )
        if issuer is None:
            raise InvalidCertificate(
                f"no trusted issuer found for {_label(current)!r} "
                "(unknown issuer or bad signature)",
                message_zh=f"证书“{_label(current)}”的签发者不受信任或签名无效",
            )
        path.append(issuer)
        current = issuer
    return path


def _check_time(cert: ax.Certificate, at: datetime) -> None:
    validity = cert["tbs_certificate"]["validity"]
    nb, na = validity["not_before"].native, validity["not_after"].native
    if at < nb:
        raise CertificateExpired(
            f"certificate {_label(cert)!r} is not valid before {nb.isoformat()}",
            message_zh=f"证书“{_label(cert)}”尚未生效（生效时间 {nb:%Y-%m-%d %H:%M} UTC）",
        )
    if at > na:
        raise CertificateExpired(
            f"certificate {_label(cert)!r} expired at {na.isoformat()}",
            message_zh=f"证书“{_label(cert)}”已过期（到期时间 {na:%Y-%m-%d %H:%M} UTC）",
        )


def _find_crl(
    cert: ax.Certificate, issuer: ax.Certificate, crls: Sequence[acrl.CertificateList]
) -> acrl.CertificateList:
    candidates = []
    for crl in crls:
        if crl.issuer != issuer.subject:
            continue
        aki = crl.authority_key_identifier
        ski = _ski(issuer)
        if aki is not None and ski is not None and aki != ski:
            continue
        if _critical_unknown(crl["tbs_cert_list"]["crl_extensions"], _KNOWN_CRL_EXTENSIONS):
            continue  # e.g. a delta CRL or a partitioned CRL: not a complete CRL for us
        try:
            verify_crl_signature(crl, issuer)
        except PKIError:
            continue
        candidates.append(crl)
    if not candidates:
        raise CRLMissing(
            f"no valid CRL from {_label(issuer)!r} to check {_label(cert)!r}",
            message_zh=f"缺少“{_label(issuer)}”签发的有效证书吊销列表，无法确认证书“{_label(cert)}”的状态",
        )
    # Prefer the newest: highest cRLNumber, then latest thisUpdate.
    return max(
        candidates,
        key=lambda c: (_crl_number(c) or -1, c["tbs_cert_list"]["this_update"].native),
    )


def _check_revocation(
    cert: ax.Certificate,
    issuer: ax.Certificate,
    crls: Sequence[acrl.CertificateList],
    at: datetime,
) -> None:
    ku = issuer.key_usage_value
    if ku is not None and "crl_sign" not in ku.native:
        raise InvalidCertificate(
            f"issuer {_label(issuer)!r} may not sign CRLs",
            message_zh=f"签发者“{_label(issuer)}”无权签发证书吊销列表",
        )
    crl = _find_crl(cert, issuer, crls)
    next_update = crl["tbs_cert_list"]["next_update"].native
    if next_update is None or at > next_update:
        raise CRLStale(
            f"CRL of {_label(issuer)!r} expired at {next_update}",
            message_zh=f"“{_label(issuer)}”的证书吊销列表已过期，无法确认证书状态",
        )
    serial = cert.serial_number
    for entry in crl["tbs_cert_list"]["revoked_certificates"]:
        if entry["user_certificate"].native != serial:
            continue
        unknown = _critical_unknown(entry["crl_entry_extensions"], _KNOWN_ENTRY_EXTENSIONS)
        if unknown:
            raise CRLMissing(f"CRL entry has unknown critical extensions {unknown}")
        revoked_at = entry["revocation_date"].native
        reason = _entry_reason(entry)
        if reason == "remove_from_crl":
            continue
        if revoked_at <= at:
            raise CertificateRevoked(
                f"certificate {_label(cert)!r} (serial {serial:x}) revoked at "
                f"{revoked_at.isoformat()}, reason {reason}",
                message_zh=(
                    f"证书“{_label(cert)}”已于 {revoked_at:%Y-%m-%d %H:%M} UTC 被吊销"
                    f"（原因：{REASONS.get(reason, reason)}）"
                ),
                reason=reason,
                revoked_at=revoked_at,
            )


def validate_chain(
    cert: Any,
    trust_anchors: Iterable[Any],
    intermediates: Iterable[Any] = (),
    crls: Iterable[Any] = (),
    at: datetime | None = None,
    *,
    key_usage: Iterable[str] | None = None,
    extended_key_usage: Iterable[str] | None = None,
) -> list[ax.Certificate]:
    """Validate ``cert`` at time ``at`` (default: now) and return the path
    ``[cert, …, trust anchor]``; raise on any failure (RFC 5280 §6, simplified):

    * path: each certificate's issuer is an anchor or an intermediate whose name, key
      identifier and signature match (:class:`InvalidCertificate`);
    * every certificate in the path, the anchor included, is valid at ``at``
      (:class:`CertificateExpired`);
    * issuers are CAs with keyCertSign and within their pathLenConstraint; no unknown
      critical extension (:class:`InvalidCertificate`);
    * ``key_usage``/``extended_key_usage``: names (asn1crypto spelling, e.g.
      ``"digital_signature"``, ``"client_auth"``) the end certificate must allow;
    * revocation, for every certificate below the anchor: a CRL from its issuer, signed by
      it, must be present (:class:`CRLMissing`), must not be past nextUpdate at ``at``
      (:class:`CRLStale`), and must not list the certificate with a revocation time ≤ ``at``
      (:class:`CertificateRevoked`).
    """
    at = at or datetime.now(UTC)
    if at.tzinfo is None:
        raise MalformedInput("validate_chain needs a timezone-aware datetime")
    leaf = load_certificate(cert)
    anchors = [load_certificate(a) for a in trust_anchors]
    if not anchors:
        raise InvalidCertificate("no trust anchors given", message_zh="未配置信任根证书")
    pool = [load_certificate(c) for c in intermediates]
    crl_list = [load_crl(c) for c in crls]

    path = _build_path(leaf, anchors, pool)

    for c in path:
        _check_time(c, at)
        unknown = _critical_unknown(c["tbs_certificate"]["extensions"], _KNOWN_CERT_EXTENSIONS)
        if unknown:
            raise InvalidCertificate(
                f"certificate {_label(c)!r} has unsupported critical extensions {unknown}",
                message_zh=f"证书“{_label(c)}”含有无法识别的关键扩展",
            )

    # path[i + 1] issued path[i]; CAs below an issuer (excluding the leaf) count for pathLen.
    for index, issuer in enumerate(path[1:], start=1):
        if not _is_ca(issuer):
            raise InvalidCertificate(
                f"issuer {_label(issuer)!r} is not a CA",
                message_zh=f"签发者“{_label(issuer)}”不是 CA 证书",
            )
        ku = issuer.key_usage_value
        if ku is not None and "key_cert_sign" not in ku.native:
            raise InvalidCertificate(
                f"issuer {_label(issuer)!r} lacks keyCertSign",
                message_zh=f"签发者“{_label(issuer)}”无权签发证书",
            )
        plen = issuer.basic_constraints_value["path_len_constraint"].native
        cas_below = index - 1  # certificates between the leaf and this issuer
        if plen is not None and cas_below > plen:
            raise InvalidCertificate(
                f"path length constraint of {_label(issuer)!r} exceeded",
                message_zh=f"超出“{_label(issuer)}”的证书路径长度限制",
            )

    if key_usage:
        ku = leaf.key_usage_value
        have = set(ku.native) if ku is not None else set()
        missing = set(key_usage) - have
        if ku is not None and missing:
            raise InvalidCertificate(
                f"certificate {_label(leaf)!r} key usage lacks {sorted(missing)}",
                message_zh=f"证书“{_label(leaf)}”的密钥用途不允许此操作",
            )
    if extended_key_usage:
        eku = leaf.extended_key_usage_value
        if eku is not None:
            have_eku = set(eku.native)
            if "any_extended_key_usage" not in have_eku and set(extended_key_usage) - have_eku:
                raise InvalidCertificate(
                    f"certificate {_label(leaf)!r} extended key usage does not allow this",
                    message_zh=f"证书“{_label(leaf)}”的扩展密钥用途不允许此操作",
                )

    for index in range(len(path) - 1):
        _check_revocation(path[index], path[index + 1], crl_list, at)

    return path
