"""X.509 v3 certificates for the platform's CA hierarchy (RFC 5280; GM/T 0015 for SM2).

tongsuopy has no certificate builder, so the TBSCertificate is assembled with asn1crypto
and its DER is signed with the issuer's key through :mod:`gongwen.pki.suites` (SM3withSM2
1.2.156.10197.1.501 with signer ID 1234567812345678 for GM; ECDSA-SHA256 or
sha256WithRSAEncryption for INTL). One code path serves both suites.

Profiles (see docs/pki.md):

============== ======================================== ===================================
profile        keyUsage (critical)                      other
============== ======================================== ===================================
root-ca        keyCertSign, cRLSign                     basicConstraints cA, pathLen 1
intermediate-ca keyCertSign, cRLSign                    basicConstraints cA, pathLen 0
unit-seal      digitalSignature, nonRepudiation         policy <arc>.1.3
unit-receipt   digitalSignature, nonRepudiation         policy <arc>.1.4
seal-maker     digitalSignature, nonRepudiation         policy <arc>.1.5
workstation    digitalSignature (+keyEncipherment RSA)  EKU clientAuth, policy <arc>.1.6
============== ======================================== ===================================

Every certificate has SKI and (except when self-signed without one) AKI; non-root
certificates carry the CRL distribution point URL the caller gives (the platform serves
``/pki/crl/<ca>.crl``). Names are UTF8String except countryName (PrintableString).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asn1crypto import core
from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as ax

from .errors import InvalidCertificate, MalformedInput, PKIError, UnsupportedAlgorithm
from .suites import (
    OID,
    key_algorithm,
    load_public_key,
    public_key_der,
    sign_data,
    signature_algorithm_for_key,
    sm3,
    verify_signature,
)

__all__ = [
    "GONGWEN_OID_ARC",
    "PROFILES",
    "PROFILE_POLICY_OIDS",
    "CertificateInfo",
    "certificate_info",
    "certificate_pem",
    "create_root_ca",
    "fingerprint",
    "issue_certificate",
    "key_identifier",
    "load_certificate",
    "load_certificates",
    "make_name",
    "name_to_string",
    "verify_certificate_signature",
]

#: A UUID-based OID arc (ITU-T X.667, 2.25.<uuid>) that needs no registration; gongwen
#: allocates its private identifiers below it. ``.1.<n>`` are certificate profile policies.
GONGWEN_OID_ARC = "2.25.130215615621641838965534384819257399566"

PROFILES: tuple[str, ...] = (
    "root-ca",
    "intermediate-ca",
    "unit-seal",
    "unit-receipt",
    "seal-maker",
    "workstation",
)

PROFILE_POLICY_OIDS: dict[str, str] = {
    "unit-seal": f"{GONGWEN_OID_ARC}.1.3",
    "unit-receipt": f"{GONGWEN_OID_ARC}.1.4",
    "seal-maker": f"{GONGWEN_OID_ARC}.1.5",
    "workstation": f"{GONGWEN_OID_ARC}.1.6",
}
_POLICY_PROFILES = {v: k for k, v in PROFILE_POLICY_OIDS.items()}

_PROFILE_KEY_USAGE: dict[str, frozenset[str]] = {
    "root-ca": frozenset({"key_cert_sign", "crl_sign"}),
    "intermediate-ca": frozenset({"key_cert_sign", "crl_sign"}),
    "unit-seal": frozenset({"digital_signature", "non_repudiation"}),
    "unit-receipt": frozenset({"digital_signature", "non_repudiation"}),
    "seal-maker": frozenset({"digital_signature", "non_repudiation"}),
    "workstation": frozenset({"digital_signature"}),
}
_DEFAULT_VALIDITY_DAYS = {
    "root-ca": 20 * 365,
    "intermediate-ca": 10 * 365,
    "unit-seal": 3 * 365,
    "unit-receipt": 3 * 365,
    "seal-maker": 5 * 365,
    "workstation": 2 * 365,
}
_DEFAULT_PATH_LENGTH = {"root-ca": 1, "intermediate-ca": 0}

_SIGNATURE_NAMES = {
    OID.SM3_WITH_SM2: "SM3withSM2",
    OID.ECDSA_SHA256: "ECDSA-SHA256",
    OID.ECDSA_SHA384: "ECDSA-SHA384",
    OID.ECDSA_SHA512: "ECDSA-SHA512",
    OID.RSA_SHA256: "RSA-SHA256",
    OID.RSA_SHA384: "RSA-SHA384",
    OID.RSA_SHA512: "RSA-SHA512",
}

_NAME_LABELS = {
    "country_name": "C",
    "state_or_province_name": "ST",
    "locality_name": "L",
    "organization_name": "O",
    "organizational_unit_name": "OU",
    "common_name": "CN",
    "serial_number": "serialNumber",
    "email_address": "emailAddress",
}

CertificateLike = bytes | bytearray | str | ax.Certificate


# ------------------------------------------------------------------------------ loading


def _bytes(data: Any) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8", "replace")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise MalformedInput(
        f"expected certificate bytes, got {type(data).__name__}", message_zh="证书格式错误"
    )


def _force_parse(cert: ax.Certificate) -> None:
    """asn1crypto parses lazily; touch every field we rely on so that damage shows now."""
    tbs = cert["tbs_certificate"]
    tbs["version"].native  # noqa: B018
    tbs["serial_number"].native  # noqa: B018
    tbs["signature"]["algorithm"].dotted  # noqa: B018
    tbs["issuer"].native  # noqa: B018
    tbs["subject"].native  # noqa: B018
    tbs["validity"]["not_before"].native  # noqa: B018
    tbs["validity"]["not_after"].native  # noqa: B018
    spki = tbs["subject_public_key_info"]
    spki["algorithm"]["algorithm"].dotted  # noqa: B018
    spki["public_key"].contents  # noqa: B018
    for ext in tbs["extensions"]:
        ext["extn_id"].dotted  # noqa: B018
        ext["critical"].native  # noqa: B018
        ext["extn_value"].parsed  # noqa: B018
    cert["signature_algorithm"]["algorithm"].dotted  # noqa: B018
    cert["signature_value"].native  # noqa: B018


def load_certificate(data: CertificateLike) -> ax.Certificate:
    """Parse one certificate from PEM or DER (or pass a loaded one through).

    Raises :class:`MalformedInput` (with ``message_zh``) for anything that is not a
    well-formed X.509 certificate.
    """
    if isinstance(data, ax.Certificate):
        return data
    raw = _bytes(data)
    if len(raw) <= _CACHED_CERTIFICATE_MAX:
        return _load_certificate_cached(raw)
    return _load_certificate_bytes(raw)


# The same few certificates (a unit's seal, its receipt key, the CAs) are parsed thousands of
# times (sealing, verification, receipts): a parse is a pure function of the bytes, so it is
# kept per process. Callers must treat the returned object as read-only (all do: they read
# fields and dump). A malformed input raises every time (exceptions are not cached).
_CACHED_CERTIFICATE_MAX = 16 * 1024


def _load_certificate_bytes(raw: bytes) -> ax.Certificate:
    try:
        if asn1_pem.detect(raw):
            label, _headers, der = asn1_pem.unarmor(raw)
            if label not in ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"):
                raise MalformedInput(f"PEM block is {label!r}, not a CERTIFICATE")
        else:
            der = raw
        cert = ax.Certificate.load(der, strict=True)
        _force_parse(cert)
    except MalformedInput as exc:
        exc.message_zh = "证书格式错误"
        raise
    except Exception as exc:
        raise MalformedInput(
            f"not a valid X.509 certificate: {exc}", message_zh="证书格式错误，无法解析"
        ) from exc
    return cert


_load_certificate_cached = functools.lru_cache(maxsize=512)(_load_certificate_bytes)


def load_certificates(data: bytes | str) -> list[ax.Certificate]:
    """All certificates of a PEM bundle (or the single certificate of a DER blob)."""
    raw = _bytes(data)
    if not asn1_pem.detect(raw):
        return [load_certificate(raw)]
    certs = []
    try:
        blocks = list(asn1_pem.unarmor(raw, multiple=True))
    except Exception as exc:
        raise MalformedInput(f"bad PEM bundle: {exc}", message_zh="证书格式错误") from exc
    for label, _headers, der in blocks:
        if label in ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"):
            certs.append(load_certificate(der))
    if not certs:
        raise MalformedInput("no CERTIFICATE block in PEM", message_zh="未找到证书")
    return certs


def certificate_pem(cert: CertificateLike) -> str:
    """PEM text of a certificate."""
    der = load_certificate(cert).dump()
    return asn1_pem.armor("CERTIFICATE", der).decode("ascii")


def fingerprint(cert: CertificateLike, algorithm: str = "sha256") -> str:
    """Lower-case hex digest of the certificate DER (``"sha256"`` or ``"sm3"``)."""
    der = load_certificate(cert).dump()
    if algorithm.lower() == "sm3":
        return sm3(der).hex()
    if algorithm.lower() in ("sha256", "sha-256"):
        return hashlib.sha256(der).hexdigest()
    raise UnsupportedAlgorithm(f"fingerprint algorithm {algorithm!r} not supported")


# -------------------------------------------------------------------------------- names


def make_name(
    common_name: str,
    organization: str | None = None,
    organizational_unit: str | None = None,
    locality: str | None = None,
    state: str | None = None,
    country: str | None = "CN",
) -> ax.Name:
    """An X.501 name; Chinese text is encoded as UTF8String, ``C`` as PrintableString."""
    values: dict[str, str] = {}
    if country:
        values["country_name"] = country
    if state:
        values["state_or_province_name"] = state
    if locality:
        values["locality_name"] = locality
    if organization:
        values["organization_name"] = organization
    if organizational_unit:
        values["organizational_unit_name"] = organizational_unit
    if not common_name:
        raise MalformedInput("common name is required", message_zh="证书主体名称不能为空")
    values["common_name"] = common_name
    return ax.Name.build(values)


def _as_name(subject: Any) -> ax.Name:
    if isinstance(subject, ax.Name):
        return subject
    if isinstance(subject, str):
        return make_name(subject)
    if isinstance(subject, Mapping):
        allowed = {
            "common_name",
            "organization",
            "organizational_unit",
            "locality",
            "state",
            "country",
        }
        unknown = set(subject) - allowed
        if unknown:
            raise MalformedInput(f"unknown name fields {sorted(unknown)}")
        return make_name(**subject)
    raise MalformedInput(f"cannot make a name from {type(subject).__name__}")


def name_to_string(name: ax.Name) -> str:
    """RFC 4514-style text (most significant first as written), e.g. ``C=CN, O=…, CN=…``."""
    parts = []
    for rdn in name.chosen:
        for atv in rdn:
            label = _NAME_LABELS.get(atv["type"].native, atv["type"].dotted)
            value = atv["value"].native
            parts.append(f"{label}={value}")
    return ", ".join(parts)


def _name_attr(name: ax.Name, attr: str) -> str | None:
    try:
        value = name.native.get(attr)
    except Exception:
        return None
    if isinstance(value, list):
        value = value[-1] if value else None
    return value


# ------------------------------------------------------------------------------- issuing


def _time(dt: datetime) -> ax.Time:
    if dt.tzinfo is None:
        raise MalformedInput("certificate and CRL times must be timezone-aware")
    dt = dt.astimezone(UTC).replace(microsecond=0)
    # RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    if dt.year < 2050:
        return ax.Time({"utc_time": dt})
    return ax.Time({"general_time": dt})


def key_identifier(spki_der: bytes) -> bytes:
    """Key identifier per RFC 7093 §2 method 1: leftmost 160 bits of SHA-256 over the
    subjectPublicKey BIT STRING value (an identifier, not a security function)."""
    spki = asn1_keys.PublicKeyInfo.load(spki_der)
    bits = spki["public_key"].contents[1:]  # drop the unused-bits octet
    return hashlib.sha256(bits).digest()[:20]


def _signature_algorithm(oid: str) -> dict[str, Any]:
    if oid in (OID.RSA_SHA256, OID.RSA_SHA384, OID.RSA_SHA512):
        return {"algorithm": oid, "parameters": core.Null()}
    return {"algorithm": oid}


def _extension(name: str, value: Any, critical: bool = False) -> ax.Extension:
    return ax.Extension({"extn_id": name, "critical": critical, "extn_value": value})


def _ski_of(cert: ax.Certificate) -> bytes:
    for ext in cert["tbs_certificate"]["extensions"]:
        if ext["extn_id"].native == "key_identifier":
            return ext["extn_value"].parsed.native
    return key_identifier(cert["tbs_certificate"]["subject_public_key_info"].dump())


def _spki_der(public_key: Any) -> bytes:
    if isinstance(public_key, (bytes, bytearray, str)):
        return public_key_der(load_public_key(public_key))
    return public_key_der(public_key)


def issue_certificate(
    *,
    profile: str,
    subject: Any,
    public_key: Any,
    issuer_key: Any,
    issuer_cert: CertificateLike | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    validity_days: int | None = None,
    serial_number: int | None = None,
    crl_urls: str | Sequence[str] | None = None,
    path_length: int | None = None,
) -> bytes:
    """Issue an X.509 v3 certificate of ``profile`` and return its DER.

    ``subject``: an asn1crypto ``Name``, a dict of :func:`make_name` arguments or a common
    name. ``public_key``: the holder's key (public or private object, or SPKI DER/PEM).
    ``issuer_key``: the issuing CA's private key or an external signer; for ``root-ca``
    it is the root's own key and ``issuer_cert`` is ``None``. ``crl_urls``: CRL
    distribution point(s) to embed, e.g. ``http://127.0.0.1:8000/pki/crl/city.crl``.
    Times must be timezone-aware; the default validity starts now.
    """
    if profile not in PROFILES:
        raise MalformedInput(
            f"unknown certificate profile {profile!r}", message_zh=f"未知的证书类型 {profile}"
        )
    subject_name = _as_name(subject)
    spki_der = _spki_der(public_key)
    spki = asn1_keys.PublicKeyInfo.load(spki_der)
    holder_key_alg = key_algorithm(load_public_key(spki_der))
    ski = key_identifier(spki_der)

    if profile == "root-ca":
        if issuer_cert is not None:
            raise MalformedInput("a root CA certificate is self-signed; give no issuer_cert")
        if public_key_der(issuer_key) != spki_der:
            raise MalformedInput("root CA: issuer_key must be the key being certified")
        issuer_name = subject_name
        aki = ski
    else:
        if issuer_cert is None:
            raise MalformedInput(f"profile {profile} needs issuer_cert")
        issuer = load_certificate(issuer_cert)
        issuer_spki = issuer["tbs_certificate"]["subject_public_key_info"].dump()
        if public_key_der(issuer_key) != issuer_spki:
            raise MalformedInput(
                "issuer_key does not match issuer_cert", message_zh="签发者私钥与证书不匹配"
            )
        if not _is_ca(issuer):
            raise InvalidCertificate(
                "issuer certificate is not a CA", message_zh="签发者证书不是 CA 证书"
            )
        issuer_name = issuer.subject
        aki = _ski_of(issuer)

    now = datetime.now(UTC)
    not_before = not_before or (now - timedelta(minutes=1))
    if not_after is None:
        days = validity_days or _DEFAULT_VALIDITY_DAYS[profile]
        not_after = not_before + timedelta(days=days)
    if not_after <= not_before:
        raise MalformedInput("not_after must be later than not_before")
    if serial_number is None:
        # 159 random bits: positive, unpredictable, 20 octets at most (RFC 5280 4.1.2.2).
        serial_number = secrets.randbits(158) | (1 << 158)
    if serial_number <= 0:
        raise MalformedInput("serial number must be positive")

    key_usage = set(_PROFILE_KEY_USAGE[profile])
    if profile == "workstation" and holder_key_alg.startswith("RSA-"):
        key_usage.add("key_encipherment")

    extensions = []
    if profile in ("root-ca", "intermediate-ca"):
        plen = _DEFAULT_PATH_LENGTH[profile] if path_length is None else path_length
        bc: dict[str, Any] = {"ca": True}
        if plen is not None and plen >= 0:
            bc["path_len_constraint"] = plen
        extensions.append(_extension("basic_constraints", bc, critical=True))
    else:
        extensions.append(_extension("basic_constraints", {"ca": False}, critical=True))
    extensions.append(_extension("key_usage", key_usage, critical=True))
    extensions.append(_extension("key_identifier", ski))
    extensions.append(_extension("authority_key_identifier", {"key_identifier": aki}))
    if profile == "workstation":
        extensions.append(_extension("extended_key_usage", ["client_auth"]))
    if profile in PROFILE_POLICY_OIDS:
        extensions.append(
            _extension(
                "certificate_policies", [{"policy_identifier": PROFILE_POLICY_OIDS[profile]}]
            )
        )
    if crl_urls:
        urls = [crl_urls] if isinstance(crl_urls, str) else list(crl_urls)
        extensions.append(
            _extension(
                "crl_distribution_points",
                [
                    {
                        "distribution_point": {
                            "full_name": [
                                ax.GeneralName(name="uniform_resource_identifier", value=u)
                                for u in urls
                            ]
                        }
                    }
                ],
            )
        )

    sig_oid = signature_algorithm_for_key(issuer_key)
    tbs = ax.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial_number,
            "signature": _signature_algorithm(sig_oid),
            "issuer": issuer_name,
            "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
            "subject": subject_name,
            "subject_public_key_info": spki,
            "extensions": extensions,
        }
    )
    tbs_der = tbs.dump()
    signature = sign_data(issuer_key, tbs_der)
    cert = ax.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": _signature_algorithm(sig_oid),
            "signature_value": signature,
        }
    )
    return cert.dump()


def create_root_ca(
    *,
    key: Any,
    subject: Any,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    validity_days: int | None = None,
    path_length: int | None = 1,
    serial_number: int | None = None,
) -> bytes:
    """Self-signed deployment root (profile ``root-ca``); DER."""
    return issue_certificate(
        profile="root-ca",
        subject=subject,
        public_key=key,
        issuer_key=key,
        not_before=not_before,
        not_after=not_after,
        validity_days=validity_days,
        path_length=path_length,
        serial_number=serial_number,
    )


# ------------------------------------------------------------------------ inspection


def _extensions(cert: ax.Certificate) -> dict[str, ax.Extension]:
    return {ext["extn_id"].dotted: ext for ext in cert["tbs_certificate"]["extensions"]}


def _is_ca(cert: ax.Certificate) -> bool:
    bc = cert.basic_constraints_value
    return bool(bc is not None and bc["ca"].native)


def _profile_of(cert: ax.Certificate) -> str | None:
    if _is_ca(cert):
        return "root-ca" if cert.self_issued else "intermediate-ca"
    policies = cert.certificate_policies_value
    if policies is not None:
        for policy in policies:
            found = _POLICY_PROFILES.get(policy["policy_identifier"].dotted)
            if found:
                return found
    return None  # an end-entity certificate not issued under one of our profiles


@dataclass(frozen=True)
class CertificateInfo:
    """What the UI and the Django layer show about a certificate."""

    subject: str
    subject_cn: str | None
    subject_o: str | None
    issuer: str
    issuer_cn: str | None
    serial: int
    serial_hex: str
    not_before: datetime
    not_after: datetime
    key_algorithm: str
    signature_algorithm: str
    profile: str | None
    is_ca: bool
    path_length: int | None
    key_usage: frozenset[str]
    extended_key_usage: tuple[str, ...]
    crl_urls: tuple[str, ...]
    subject_key_id: str | None
    authority_key_id: str | None
    fingerprint_sha256: str
    fingerprint_sm3: str


def certificate_info(cert: CertificateLike) -> CertificateInfo:
    """Summarise a certificate (any issuer; profile ``None`` if it is not one of ours)."""
    c = load_certificate(cert)
    try:
        tbs = c["tbs_certificate"]
        spki_der = tbs["subject_public_key_info"].dump()
        try:
            key_alg = key_algorithm(load_public_key(spki_der))
        except PKIError:
            key_alg = tbs["subject_public_key_info"]["algorithm"]["algorithm"].dotted
        bc = c.basic_constraints_value
        path_len = None
        if bc is not None and bc["ca"].native:
            path_len = bc["path_len_constraint"].native
        ku = c.key_usage_value
        eku = c.extended_key_usage_value
        crl_urls: list[str] = []
        cdp = c.crl_distribution_points_value
        if cdp is not None:
            for dp in cdp:
                point = dp["distribution_point"]
                if point.name == "full_name":
                    for gn in point.chosen:
                        if gn.name == "uniform_resource_identifier":
                            crl_urls.append(gn.native)
        aki = c.authority_key_identifier_value
        aki_hex = None
        if aki is not None and aki["key_identifier"].native is not None:
            aki_hex = aki["key_identifier"].native.hex()
        ski = c.key_identifier_value
        sig_oid = c["signature_algorithm"]["algorithm"].dotted
        der = c.dump()
        serial = tbs["serial_number"].native
        return CertificateInfo(
            subject=name_to_string(c.subject),
            subject_cn=_name_attr(c.subject, "common_name"),
            subject_o=_name_attr(c.subject, "organization_name"),
            issuer=name_to_string(c.issuer),
            issuer_cn=_name_attr(c.issuer, "common_name"),
            serial=serial,
            serial_hex=format(serial, "x") if serial >= 0 else "-" + format(-serial, "x"),
            not_before=tbs["validity"]["not_before"].native,
            not_after=tbs["validity"]["not_after"].native,
            key_algorithm=key_alg,
            signature_algorithm=_SIGNATURE_NAMES.get(sig_oid, sig_oid),
            profile=_profile_of(c),
            is_ca=_is_ca(c),
            path_length=path_len,
            key_usage=frozenset(ku.native) if ku is not None else frozenset(),
            extended_key_usage=tuple(eku.native) if eku is not None else (),
            crl_urls=tuple(crl_urls),
            subject_key_id=ski.native.hex() if ski is not None else None,
            authority_key_id=aki_hex,
            fingerprint_sha256=hashlib.sha256(der).hexdigest(),
            fingerprint_sm3=sm3(der).hex(),
        )
    except PKIError:
        raise
    except Exception as exc:
        raise MalformedInput(
            f"cannot read certificate fields: {exc}", message_zh="证书内容无法解析"
        ) from exc


def verify_certificate_signature(cert: CertificateLike, issuer: Any) -> None:
    """Check that ``issuer`` (a certificate, or a public key) signed ``cert``.

    Raises :class:`~gongwen.pki.errors.InvalidSignature` (or ``UnsupportedAlgorithm``).
    """
    c = load_certificate(cert)
    if isinstance(issuer, (ax.Certificate, bytes, bytearray, str)):
        try:
            issuer_cert = load_certificate(issuer)
            pub = load_public_key(issuer_cert["tbs_certificate"]["subject_public_key_info"].dump())
        except MalformedInput:
            if isinstance(issuer, ax.Certificate):
                raise
            pub = load_public_key(issuer)
    else:
        pub = issuer
    outer = c["signature_algorithm"]["algorithm"].dotted
    inner = c["tbs_certificate"]["signature"]["algorithm"].dotted
    if outer != inner:
        raise InvalidCertificate(
            "signatureAlgorithm differs from tbsCertificate.signature",
            message_zh="证书签名算法字段不一致",
        )
    verify_signature(pub, c["tbs_certificate"].dump(), c["signature_value"].native, outer)
