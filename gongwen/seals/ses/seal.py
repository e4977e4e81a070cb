"""Electronic seal (电子印章, ``SESeal``): build, parse, verify.

GB/T 38540-2020 (v4) is written; GM/T 0031-2014 (v1) and GM/T 0031-2025 (v5 shape) are read.
The seal maker (制章者, the issuing authority) signs with SM3withSM2:

* v4: ``signedValue = SM2sign(maker key, DER(SES_SealInfo))``;
* v1: ``signData = SM2sign(maker key, DER(SEQUENCE { SES_SealInfo, cert, signatureAlgorithm }))``
  (STANDARDS.md §1.5; checked against ofdrw's and dms360's seals).

Signatures are verified over the raw DER as received, never over a re-encoding. A v4 maker
signature does not cover ``SESeal.cert`` itself, so a standalone seal is only as good as the
check of its maker certificate against the issuing CA: pass ``maker_check`` to
:func:`verify_seal` (see :func:`issued_by`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from asn1crypto import core
from asn1crypto import x509 as ax

from gongwen.pki.errors import InvalidSignature, MalformedInput, PKIError, UnsupportedAlgorithm
from gongwen.pki.suites import load_public_key, sm3, verify_signature, verify_with_certificate
from gongwen.pki.x509 import load_certificate, verify_certificate_signature

from . import asn1
from .errors import (
    HolderCertificateMissing,
    MakerCertificateInvalid,
    MalformedSES,
    SealExpired,
    SealNotYetValid,
    SealSignatureInvalid,
    SESError,
    UnsupportedSESAlgorithm,
    UnsupportedSESVersion,
)

__all__ = [
    "DEFAULT_VID",
    "PICTURE_TYPES",
    "CertDigest",
    "ExtDataValue",
    "MakerCheck",
    "MatchedSigner",
    "SealInfo",
    "SealPicture",
    "SealType",
    "Signer",
    "build_seal",
    "chain_check",
    "check_holder_certificates",
    "check_validity",
    "issued_by",
    "matched_signer",
    "parse_seal",
    "run_maker_check",
    "seal_version",
    "signer_from_key",
    "verify_seal",
    "verify_seal_signature",
    "verify_sm2_signature",
    "verify_with_cert_key",
]

DEFAULT_VID = "GONGWEN"
PICTURE_TYPES = ("png", "jpg", "gif", "bmp", "svg", "ofd")

#: ``maker_check(maker_cert_der, at)`` raises a PKIError when the maker certificate is not
#: trusted at ``at`` (chain to the issuing CA, validity, revocation).
MakerCheck = Callable[[bytes, datetime], None]

Signer = Callable[[bytes], bytes]


class SealType(IntEnum):
    """``SES_ESPropertyInfo.type``: business-defined; GM/T 0031 usage."""

    OFFICIAL = 1  # 单位印章 (公章)
    PERSONAL = 2  # 个人印章


@dataclass(frozen=True)
class ExtDataValue:
    oid: str
    value: bytes
    critical: bool = False


@dataclass(frozen=True)
class CertDigest:
    """``CertDigestObj`` (certListType 2)."""

    type: str  # digest algorithm name as written, e.g. "SM3"
    value: bytes


@dataclass(frozen=True)
class SealPicture:
    type: str  # as written ("png", "PNG", "ofd" …)
    data: bytes
    width_mm: int
    height_mm: int


@dataclass(frozen=True)
class SealInfo:
    """A parsed seal. ``version`` is the structure version (4, 1 or 5) found in the DER."""

    version: int
    header_version: int
    vid: str
    es_id: str
    type: int
    name: str
    cert_list_type: int
    cert_entries: tuple[bytes, ...]  # certListType 1: the entries as written
    certs: tuple[bytes, ...]  # the entries that are DER X.509 certificates
    cert_digests: tuple[CertDigest, ...]  # certListType 2
    create_date: datetime
    valid_start: datetime
    valid_end: datetime
    picture: SealPicture
    ext_datas: tuple[ExtDataValue, ...]
    maker_cert: bytes
    algorithm: str  # dotted OID
    signature: bytes  # maker signature value (BIT STRING content without the unused-bits byte)
    signed_bytes: bytes = field(repr=False)  # exactly what the maker signed
    der: bytes = field(repr=False)
    warnings: tuple[str, ...] = ()  # deviations from the standard met while reading

    def holds_certificate(self, cert_der: bytes) -> bool:
        """True if ``cert_der`` is in the certificate list (DER-identical) or, for
        certListType 2, its digest is."""
        if self.cert_list_type == 1:
            return any(bytes(c) == bytes(cert_der) for c in self.cert_entries)
        for d in self.cert_digests:
            h = _digest_by_name(d.type, cert_der)
            if h is not None and h == d.value:
                return True
        return False

    def describe(self) -> dict[str, Any]:
        """Every field, JSON-friendly (for ``gongwen seal show`` and the register)."""
        return {
            "version": self.version,
            "header": {"ID": "ES", "version": self.header_version, "Vid": self.vid},
            "esID": self.es_id,
            "type": self.type,
            "name": self.name,
            "certListType": self.cert_list_type,
            "certs": [_cert_summary(c) for c in self.cert_entries],
            "certDigests": [{"type": d.type, "value": d.value.hex()} for d in self.cert_digests],
            "createDate": self.create_date.isoformat(),
            "validStart": self.valid_start.isoformat(),
            "validEnd": self.valid_end.isoformat(),
            "picture": {
                "type": self.picture.type,
                "bytes": len(self.picture.data),
                "sm3": sm3(self.picture.data).hex(),
                "width_mm": self.picture.width_mm,
                "height_mm": self.picture.height_mm,
            },
            "extDatas": [
                {"extnID": e.oid, "critical": e.critical, "extnValue": e.value.hex()}
                for e in self.ext_datas
            ],
            "maker": _cert_summary(self.maker_cert),
            "signAlgID": self.algorithm,
            "signedValue": self.signature.hex(),
            "sm3": sm3(self.der).hex(),
            "warnings": list(self.warnings),
        }


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _cert_summary(der: bytes) -> dict[str, Any]:
    try:
        c = ax.Certificate.load(der, strict=True)
        tbs = c["tbs_certificate"]
        return {
            "subject": c.subject.human_friendly,
            "issuer": c.issuer.human_friendly,
            "serial": format(tbs["serial_number"].native, "x"),
            "not_before": tbs["validity"]["not_before"].native.isoformat(),
            "not_after": tbs["validity"]["not_after"].native.isoformat(),
            "sm3": sm3(der).hex(),
        }
    except Exception:
        return {"raw": der.hex() if len(der) <= 64 else der[:64].hex() + "…", "certificate": False}


def _digest_by_name(name: str, data: bytes) -> bytes | None:
    n = name.strip().upper().replace("-", "")
    if n in ("SM3", asn1.OID_SM3):
        return sm3(data)
    if n in ("SHA1", "1.3.14.3.2.26"):
        return hashlib.sha1(data, usedforsecurity=False).digest()
    if n in ("SHA256", "2.16.840.1.101.3.4.2.1"):
        return hashlib.sha256(data).digest()
    return None


def _to_der_cert(cert: bytes | str | ax.Certificate, what: str) -> bytes:
    try:
        c = load_certificate(cert)
    except PKIError as exc:
        raise MalformedSES(
            f"{what} is not an X.509 certificate: {exc}", message_zh=f"{what}证书格式错误"
        ) from exc
    return c.dump()


def _utc_seconds(dt: datetime, what: str) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise MalformedSES(f"{what} must be timezone-aware", message_zh=f"{what}缺少时区")
    return dt.astimezone(UTC).replace(microsecond=0)


def _ia5(value: str, what: str) -> str:
    if not value or not value.isascii():
        raise MalformedSES(
            f"{what} must be non-empty ASCII (IA5String)",
            message_zh=f"{what}必须为非空 ASCII 字符串",
        )
    return value


def _bits_value(choice: core.Choice, what: str, warnings: list[str]) -> bytes:
    """Content of a BIT STRING (0 unused bits required) or, leniently, an OCTET STRING."""
    if choice.name == "bit_string":
        contents = choice.chosen.contents or b""
        if not contents or contents[0] != 0:
            raise MalformedSES(
                f"{what}: BIT STRING must have 0 unused bits", message_zh="签名值格式错误"
            )
        return contents[1:]
    warnings.append(f"{what} is an OCTET STRING, the standard says BIT STRING")
    return choice.chosen.native


def _octets_value(choice: core.Choice, what: str, warnings: list[str]) -> bytes:
    if choice.name == "octet_string":
        return choice.chosen.native
    warnings.append(f"{what} is a BIT STRING, the standard says OCTET STRING")
    return _bits_value(choice, what, [])


def _string(choice: core.Choice) -> str:
    return str(choice.chosen.native)


def _time(choice: core.Choice, expected: str, what: str, warnings: list[str]) -> datetime:
    value = choice.chosen.native
    if choice.name != expected:
        warnings.append(f"{what} is {choice.name.replace('_', '')} time, expected {expected}")
    if not isinstance(value, datetime):
        raise MalformedSES(f"{what} is not a usable date", message_zh="印章日期格式错误")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def verify_with_cert_key(cert_der: bytes, data: bytes, signature: bytes) -> None:
    """Verify an SM2 signature with the public key of ``cert_der``.

    Uses :func:`gongwen.pki.suites.verify_with_certificate`; a certificate that the PKI
    core refuses to load (other vendors write e.g. malformed extensions) is read leniently
    for its SubjectPublicKeyInfo alone: only the key matters for this signature, and the
    certificate's trustworthiness is a separate check.
    """
    try:
        verify_with_certificate(cert_der, data, signature)
        return
    except MalformedInput as exc:
        refused = exc
    try:
        cert = ax.Certificate.load(bytes(cert_der), strict=True)
        spki = cert["tbs_certificate"]["subject_public_key_info"].dump()
    except Exception:
        raise refused from None
    verify_signature(load_public_key(spki), data, signature, asn1.OID_SM3_WITH_SM2)


def verify_sm2_signature(algorithm: str, cert_der: bytes, data: bytes, signature: bytes, *,
                         invalid: type[SESError], whose: tuple[str, str],
                         what: tuple[str, str]) -> None:
    """Check an SM3withSM2 signature of a seal (the maker's) or of a signature (the
    signer's) with the key of ``cert_der`` (:func:`verify_with_cert_key`): a wrong value or
    an unreadable certificate raises ``invalid``, another algorithm or key
    :class:`UnsupportedSESAlgorithm`. ``whose`` and ``what`` name the signer ("maker",
    "制章者") and the signature ("seal signature", "印章签名") in the messages."""
    whose_en, whose_zh = whose
    what_en, what_zh = what
    if algorithm != asn1.OID_SM3_WITH_SM2:
        raise UnsupportedSESAlgorithm(
            f"{what_en} algorithm {algorithm} is not SM3withSM2",
            message_zh=f"{what_zh}算法 {algorithm} 不是 SM3withSM2",
        )
    try:
        verify_with_cert_key(cert_der, data, signature)
    except InvalidSignature as exc:
        raise invalid() from exc
    except MalformedInput as exc:
        raise invalid(
            f"the {whose_en} certificate cannot be read: {exc}",
            message_zh=f"{whose_zh}证书格式错误，无法验证{what_zh}",
        ) from exc
    except UnsupportedAlgorithm as exc:
        raise UnsupportedSESAlgorithm(
            f"{whose_en} key: {exc}", message_zh=f"{whose_zh}证书的密钥算法不是 SM2"
        ) from exc


def _is_certificate(der: bytes) -> bool:
    try:
        load_certificate(der)
    except PKIError:
        return False
    return True


def _ext_datas(seq: Any, warnings: list[str]) -> tuple[ExtDataValue, ...]:
    if seq is None or isinstance(seq, core.Void):
        return ()
    out = []
    for e in seq:
        out.append(
            ExtDataValue(
                oid=e["extnID"].dotted,
                value=_octets_value(e["extnValue"], "extnValue", warnings),
                critical=bool(e["critical"].native),
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------------------------
# parse
# --------------------------------------------------------------------------------------------


def seal_version(der: bytes) -> int:
    """Structure version of a seal: 1 (2 elements), 4 (4 elements) or 5 (5 elements or
    header version 5). Raises :class:`MalformedSES`."""
    try:
        parts = asn1.split_sequence(bytes(der))
    except asn1.DERError as exc:
        raise MalformedSES(f"not a DER SEQUENCE: {exc}", message_zh="电子印章数据格式错误") from exc
    if len(parts) == 2:
        return 1
    if len(parts) in (4, 5):
        try:
            header_der = asn1.split_sequence(parts[0])[0]
            hv = asn1._ReaderHeader.load(header_der, strict=True)["version"].native
        except (asn1.DERError, ValueError, IndexError, TypeError) as exc:
            raise MalformedSES(
                f"bad SES_SealInfo: {exc}", message_zh="电子印章数据格式错误"
            ) from exc
        return 5 if (len(parts) == 5 or hv == 5) else 4
    raise UnsupportedSESVersion(
        f"SESeal has {len(parts)} elements (v1: 2, v4: 4, v5: 5)",
        message_zh="不支持的电子印章结构",
    )


def parse_seal(der: bytes) -> SealInfo:
    """Parse a v4 (GB/T 38540-2020), v5 or v1 (GM/T 0031-2014) ``SESeal``.

    Reading is lenient (see :mod:`.asn1`); every deviation is listed in ``warnings``.
    Raises :class:`MalformedSES` for anything that is not a seal.
    """
    der = bytes(der)
    version = seal_version(der)
    try:
        return _parse_v1(der) if version == 1 else _parse_v4(der, version)
    except PKIError:
        raise
    except Exception as exc:  # asn1crypto parses lazily: damage shows up on access
        raise MalformedSES(
            f"cannot parse the seal: {exc}", message_zh="电子印章数据格式错误，无法解析"
        ) from exc


def _common(info: Any, warnings: list[str], time_type: str) -> dict[str, Any]:
    header = info["header"]
    if _string(header["ID"]) != "ES":
        raise MalformedSES('SES_Header.ID is not "ES"', message_zh="电子印章头标识错误")
    prop = info["property"]
    pic = info["picture"]
    width, height = pic["width"].native, pic["height"].native
    return {
        "header_version": header["version"].native,
        "vid": _string(header["Vid"]),
        "es_id": _string(info["esID"]),
        "type": prop["type"].native,
        "name": _string(prop["name"]),
        "create_date": _time(prop["createDate"], time_type, "createDate", warnings),
        "valid_start": _time(prop["validStart"], time_type, "validStart", warnings),
        "valid_end": _time(prop["validEnd"], time_type, "validEnd", warnings),
        "picture": SealPicture(
            type=_string(pic["type"]), data=pic["data"].native, width_mm=width, height_mm=height
        ),
        "ext_datas": _ext_datas(info["extDatas"], warnings),
    }


def _cert_entries(
    cert_list: Any, warnings: list[str]
) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    entries: list[bytes] = []
    for e in cert_list:
        if e.name == "octet_string":
            entries.append(e.chosen.native)
        else:
            warnings.append(f"certList holds a {e.name.replace('_', ' ')}, not a certificate")
            entries.append(e.chosen.contents or b"")
    certs = tuple(c for c in entries if _is_certificate(c))
    return tuple(entries), certs


def _parse_v4(der: bytes, version: int) -> SealInfo:
    warnings: list[str] = []
    parts = asn1.split_sequence(der)
    seal = asn1._ReaderSESealV4.load(der, strict=True)
    info = seal["eSealInfo"]
    common = _common(info, warnings, "generalized")
    prop = info["property"]
    clt = prop["certListType"].native
    entries: tuple[bytes, ...] = ()
    certs: tuple[bytes, ...] = ()
    digests: tuple[CertDigest, ...] = ()
    if clt == 1:
        entries, certs = _cert_entries(prop["certList"], warnings)
    elif clt == 2:
        digests = tuple(
            CertDigest(
                _string(d["type"]), _octets_value(d["value"], "CertDigestObj.value", warnings)
            )
            for d in prop["certList"]
        )
    else:
        raise MalformedSES(
            f"certListType {clt} is neither 1 nor 2", message_zh="印章证书列表类型错误"
        )
    if common["header_version"] not in (4, 5):
        warnings.append(f"header version {common['header_version']} in a v4-shaped seal")
    maker = _octets_value(seal["cert"], "cert", warnings)
    sig = _bits_value(seal["signedValue"], "signedValue", warnings)
    return SealInfo(
        version=version,
        cert_list_type=clt,
        cert_entries=entries,
        certs=certs,
        cert_digests=digests,
        maker_cert=maker,
        algorithm=seal["signAlgID"].dotted,
        signature=sig,
        signed_bytes=parts[0],  # raw DER(SES_SealInfo)
        der=der,
        warnings=tuple(warnings),
        **common,
    )


def _parse_v1(der: bytes) -> SealInfo:
    warnings: list[str] = []
    parts = asn1.split_sequence(der)
    sign_info_parts = asn1.split_sequence(parts[1])
    if len(sign_info_parts) != 3:
        raise MalformedSES("SES_SignInfo must have 3 elements", message_zh="电子印章数据格式错误")
    seal = asn1._ReaderSESealV1.load(der, strict=True)
    info = seal["esealInfo"]
    common = _common(info, warnings, "utc")
    entries, certs = _cert_entries(info["property"]["certList"], warnings)
    sign_info = seal["signInfo"]
    return SealInfo(
        version=1,
        cert_list_type=1,
        cert_entries=entries,
        certs=certs,
        cert_digests=(),
        maker_cert=_octets_value(sign_info["cert"], "cert", warnings),
        algorithm=sign_info["signatureAlgorithm"].dotted,
        signature=_bits_value(sign_info["signData"], "signData", warnings),
        # v1 scope: SEQUENCE { SES_SealInfo, cert, signatureAlgorithm }, from the raw slices
        signed_bytes=asn1.encode_sequence(parts[0], sign_info_parts[0], sign_info_parts[1]),
        der=der,
        warnings=tuple(warnings),
        **common,
    )


# --------------------------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------------------------


def verify_seal_signature(seal: SealInfo) -> None:
    """Check the maker's SM3withSM2 signature; raise :class:`SealSignatureInvalid` etc."""
    verify_sm2_signature(seal.algorithm, seal.maker_cert, seal.signed_bytes, seal.signature,
                         invalid=SealSignatureInvalid, whose=("maker", "制章者"),
                         what=("seal signature", "印章签名"))


def check_validity(seal: SealInfo, at: datetime) -> None:
    """``validStart ≤ at ≤ validEnd``, else :class:`SealNotYetValid` / :class:`SealExpired`."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    if at < seal.valid_start:
        raise SealNotYetValid(
            f"the seal is valid from {seal.valid_start:%Y-%m-%d %H:%M:%S}Z",
            message_zh=f"电子印章尚未生效（生效时间 {_cn_time(seal.valid_start)}）",
        )
    if at > seal.valid_end:
        raise SealExpired(
            f"the seal expired at {seal.valid_end:%Y-%m-%d %H:%M:%S}Z",
            message_zh=f"电子印章已过有效期（截止 {_cn_time(seal.valid_end)}）",
        )


def _cn_time(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def check_holder_certificates(seal: SealInfo, holder_cert: bytes | None = None) -> None:
    """The seal must name at least one holder (签章者) certificate; when ``holder_cert`` is
    given it must be one of them."""
    if seal.cert_list_type == 1 and not seal.certs:
        raise HolderCertificateMissing()
    if seal.cert_list_type == 2 and not seal.cert_digests:
        raise HolderCertificateMissing()
    if holder_cert is not None and not seal.holds_certificate(_to_der_cert(holder_cert, "签章者")):
        raise HolderCertificateMissing(
            "the given certificate is not in the seal's certificate list",
            message_zh="该证书不在电子印章的证书列表中",
        )


def run_maker_check(seal: SealInfo, at: datetime, maker_check: MakerCheck) -> None:
    try:
        maker_check(seal.maker_cert, at)
    except MakerCertificateInvalid:
        raise
    except PKIError as exc:
        raise MakerCertificateInvalid(
            f"maker certificate: {exc}", message_zh=f"制章者证书不可信：{exc.message_zh}"
        ) from exc
    except (ValueError, TypeError, KeyError) as exc:
        # A check that trips over a damaged certificate fails closed.
        raise MakerCertificateInvalid(
            f"maker certificate cannot be checked: {exc}", message_zh="制章者证书无法校验"
        ) from exc


def verify_seal(
    der: bytes | SealInfo,
    at: datetime,
    *,
    maker_check: MakerCheck | None = None,
    holder_cert: bytes | None = None,
) -> SealInfo:
    """Verify a seal at time ``at`` (GB/T 38540-2020 §7.3 step "verify the seal").

    Checks, in order: structure; signature algorithm; the maker's signature; the holder
    certificate list (and ``holder_cert`` membership); ``validStart ≤ at ≤ validEnd``; the
    maker certificate through ``maker_check(cert_der, at)`` (chain to the issuing CA,
    revocation) when given. Raises the specific :class:`~.errors.SESError`; returns the
    parsed seal.
    """
    seal = der if isinstance(der, SealInfo) else parse_seal(der)
    verify_seal_signature(seal)
    check_holder_certificates(seal, holder_cert)
    check_validity(seal, at)
    if maker_check is not None:
        run_maker_check(seal, at, maker_check)
    return seal


def issued_by(*ca_certs: bytes | str | ax.Certificate, check_period: bool = True) -> MakerCheck:
    """A ``maker_check`` that accepts a maker certificate signed by one of ``ca_certs`` and,
    with ``check_period``, within its validity period at the time checked.

    This is the minimal check (no revocation); the Django layer passes a check that also
    consults the CRL (``gongwen.pki.crl``).
    """
    cas = [load_certificate(c) for c in ca_certs]
    if not cas:
        raise ValueError("issued_by needs at least one CA certificate")

    def check(cert_der: bytes, at: datetime) -> None:
        cert = _load_maker(cert_der)
        last: PKIError | None = None
        for ca in cas:
            try:
                same_name = cert.issuer == ca.subject
            except ValueError:  # unassigned code points etc. in a damaged name
                same_name = False
            if not same_name:
                continue
            try:
                verify_certificate_signature(cert, ca)
            except PKIError as exc:
                last = exc
                continue
            break
        else:
            raise MakerCertificateInvalid(
                f"maker certificate {cert.subject.human_friendly} is not issued by a trusted CA"
                + (f" ({last})" if last else ""),
                message_zh="制章者证书不是由受信任的签发机构签发",
            )
        if check_period:
            validity = cert["tbs_certificate"]["validity"]
            nb, na = validity["not_before"].native, validity["not_after"].native
            if not nb <= at <= na:
                raise MakerCertificateInvalid(
                    f"maker certificate is valid {nb:%Y-%m-%d}..{na:%Y-%m-%d}, "
                    f"not at {at:%Y-%m-%d}",
                    message_zh="制章者证书不在有效期内",
                )

    return check


def chain_check(
    trust_anchors: Iterable[bytes | str | ax.Certificate],
    intermediates: Iterable[bytes | str | ax.Certificate] = (),
    crls: Iterable[bytes | str] = (),
    *,
    key_usage: Iterable[str] | None = ("digital_signature",),
) -> MakerCheck:
    """A ``maker_check`` / ``signer_check`` that runs
    :func:`gongwen.pki.crl.validate_chain` (path to a trust anchor, validity of every
    certificate, CA constraints, revocation by CRL) at the time checked."""
    from gongwen.pki.crl import validate_chain

    anchors, pool, crl_list = list(trust_anchors), list(intermediates), list(crls)
    usage = None if key_usage is None else list(key_usage)

    def check(cert_der: bytes, at: datetime) -> None:
        validate_chain(cert_der, anchors, pool, crl_list, at=at, key_usage=usage)

    return check


def _load_maker(cert_der: bytes) -> ax.Certificate:
    try:
        return load_certificate(cert_der)
    except PKIError as exc:
        raise MakerCertificateInvalid(
            f"maker certificate cannot be read: {exc}", message_zh="制章者证书格式错误"
        ) from exc


# --------------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------------


def build_seal(
    *,
    es_id: str,
    name: str,
    holder_certs: Sequence[bytes | str | ax.Certificate],
    valid_start: datetime,
    valid_end: datetime,
    picture_type: str,
    picture_data: bytes,
    picture_width_mm: int,
    picture_height_mm: int,
    maker_cert: bytes | str | ax.Certificate,
    sign: Signer,
    seal_type: int = SealType.OFFICIAL,
    vid: str = DEFAULT_VID,
    create_date: datetime | None = None,
    ext_datas: Iterable[ExtDataValue] = (),
) -> bytes:
    """Build and sign a GB/T 38540-2020 v4 ``SESeal``; return its DER.

    ``sign(message) -> DER SM2 signature`` is the seal maker's signing operation (its key
    stays where it is: key disk, token); it is called once with DER(SES_SealInfo). The
    signature is checked against ``maker_cert`` before the seal is returned, so a key that
    does not belong to the certificate is caught here. certListType is 1 (certificates).
    Dates are written as GeneralizedTime ``YYYYMMDDHHMMSSZ``.
    """
    _ia5(es_id, "esID")
    _ia5(vid, "Vid")
    if not name or not name.strip():
        raise MalformedSES("the seal needs a name", message_zh="印章名称不能为空")
    ptype = picture_type.lower()
    if ptype not in PICTURE_TYPES:
        raise MalformedSES(
            f"picture type {picture_type!r} is not one of {PICTURE_TYPES}",
            message_zh=f"印章图像类型 {picture_type} 不受支持",
        )
    if not picture_data:
        raise MalformedSES("the seal needs a picture", message_zh="印章图像不能为空")
    if picture_width_mm <= 0 or picture_height_mm <= 0:
        raise MalformedSES("picture size must be positive mm", message_zh="印章图像尺寸错误")
    holders = [_to_der_cert(c, "签章者") for c in holder_certs]
    if not holders:
        raise HolderCertificateMissing(
            "a seal needs at least one holder certificate", message_zh="印章至少需要一张签章者证书"
        )
    maker = _to_der_cert(maker_cert, "制章者")
    start = _utc_seconds(valid_start, "validStart")
    end = _utc_seconds(valid_end, "validEnd")
    created = _utc_seconds(create_date or datetime.now(UTC), "createDate")
    if end <= start:
        raise MalformedSES(
            "validEnd must be after validStart", message_zh="印章有效期终止时间须晚于起始时间"
        )

    prop = asn1.SES_ESPropertyInfo(
        {
            "type": int(seal_type),
            "name": name,
            "certListType": 1,
            "certList": asn1.CertInfoList(holders),
            "createDate": created,
            "validStart": start,
            "validEnd": end,
        }
    )
    info_fields: dict[str, Any] = {
        "header": {"ID": "ES", "version": 4, "Vid": vid},
        "esID": es_id,
        "property": prop,
        "picture": {
            "type": ptype,
            "data": bytes(picture_data),
            "width": int(picture_width_mm),
            "height": int(picture_height_mm),
        },
    }
    exts = list(ext_datas)
    if exts:
        info_fields["extDatas"] = [
            {"extnID": e.oid, "critical": e.critical, "extnValue": e.value} for e in exts
        ]
    info = asn1.SES_SealInfo(info_fields)
    info_der = info.dump()
    signature = sign(info_der)
    try:
        verify_with_certificate(maker, info_der, signature)
    except PKIError as exc:
        raise SealSignatureInvalid(
            "the signing key does not match the maker certificate",
            message_zh="制章私钥与制章者证书不匹配",
        ) from exc
    seal = asn1.SESeal(
        {
            "eSealInfo": asn1.SES_SealInfo.load(info_der),
            "cert": maker,
            "signAlgID": asn1.OID_SM3_WITH_SM2,
            "signedValue": asn1.bit_string(signature),
        }
    )
    return seal.dump()


def signer_from_key(private_key: Any) -> Signer:
    """Wrap a private key (or external signer) of the GM suite as a ``sign`` callable."""
    from gongwen.pki.suites import get_suite

    suite = get_suite("GM")
    return lambda message: suite.sign(private_key, message)


# Only matched_signer makes a MatchedSigner: the skipped verification rests on its check.
_MATCHED = object()


@dataclass(frozen=True)
class MatchedSigner:
    """A ``sign`` callable over a private key of this process that was found to be the key
    of ``certificate_der`` when it was made (only by :func:`matched_signer`).
    ``build_signature`` checks its signature against the signer certificate unless the
    signer is one of these for that very certificate: a stack sealed with one opened seal
    compares the keys once instead of verifying every signature (what is given up: catching
    a signature computed wrongly by the library itself)."""

    sign: Signer = field(repr=False)
    certificate_der: bytes = field(repr=False)
    _made_by: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._made_by is not _MATCHED:
            raise TypeError("a MatchedSigner is made by matched_signer() only")

    def __call__(self, message: bytes) -> bytes:
        return self.sign(message)


def matched_signer(private_key: Any, certificate_der: bytes) -> Signer:
    """:func:`signer_from_key` for a key that must be the key of ``certificate_der``;
    raises :class:`~gongwen.pki.errors.KeyMismatch` when it is not. A private key of this
    process gives a :class:`MatchedSigner`; an external signer (a token: its public key is
    only what it reports) a plain signer, whose signatures stay verified one by one."""
    from gongwen.pki.errors import KeyMismatch
    from gongwen.pki.suites import is_private_key, key_matches_certificate

    if not key_matches_certificate(private_key, certificate_der):
        raise KeyMismatch("the signing key does not match the signer certificate",
                          message_zh="签章私钥与签章者证书不匹配")
    if not is_private_key(private_key):
        return signer_from_key(private_key)
    return MatchedSigner(signer_from_key(private_key), bytes(certificate_der), _MATCHED)
