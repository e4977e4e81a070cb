"""Seal signature (电子签章, ``SES_Signature``): build, parse, verify.

GB/T 38540-2020 (v4) is written; GM/T 0031-2014 (v1) is read. For an OFD document the signed
data is the exact bytes of ``Sign_N/Signature.xml``: ``TBS_Sign.dataHash`` is its SM3 digest
and ``signature = SM2sign(signer key, DER(TBS_Sign))`` (STANDARDS.md §1.3).

Verification follows GB/T 38540-2020 §7.3 (STANDARDS.md §1.4) and reports every check
separately, because the receiving clerk sees each one:

====================  ==========================================================
check                 meaning
====================  ==========================================================
``format``            SignedValue parses as SES_Signature v4 or v1
``signature``         SM3withSM2 signature over the raw DER(TBS_Sign) with ``cert``
``signer_in_seal``    ``cert`` is DER-identical to a certificate of the seal's certList
``seal_signature``    the embedded seal's maker signature
``maker_certificate`` caller's ``maker_check`` (chain to the issuing CA, CRL)
``seal_validity``     ``validStart ≤ timeInfo ≤ validEnd``
``signer_certificate`` caller's ``signer_check`` (chain, period, CRL) at ``timeInfo``
``timestamp``         present time-stamp token (not evaluated here: reported)
``data_hash``         ``dataHash == SM3(signed bytes)``
``seal_file``         a separate Seal.esl equals ``TBS_Sign.eseal`` byte for byte
====================  ==========================================================

:func:`check_signature` returns the report; :func:`verify_signature` raises the first
failure (primitives raise, never return False).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from asn1crypto import core

from gongwen.pki.errors import PKIError
from gongwen.pki.suites import sm3

from . import asn1
from .errors import (
    DataHashMismatch,
    MalformedSES,
    SealFileMismatch,
    SESError,
    SignatureInvalid,
    SignerCertificateInvalid,
    SignerNotInSeal,
    SigningTimeOutsideSealValidity,
    UnsupportedSESVersion,
)
from .seal import (
    ExtDataValue,
    MakerCheck,
    MatchedSigner,
    SealInfo,
    _bits_value,
    _ext_datas,
    _octets_value,
    _string,
    _to_der_cert,
    _utc_seconds,
    check_holder_certificates,
    parse_seal,
    run_maker_check,
    verify_seal_signature,
    verify_sm2_signature,
    verify_with_cert_key,
)

__all__ = [
    "CHECK_LABELS_ZH",
    "Check",
    "CheckStatus",
    "SignatureInfo",
    "SignatureReport",
    "SignerCheck",
    "build_signature",
    "check_signature",
    "parse_signature",
    "signature_version",
    "verify_signature",
]

#: ``signer_check(signer_cert_der, signing_time)`` raises a PKIError when the signer's
#: certificate is not valid at signing time (chain, period, revocation, key usage).
SignerCheck = Callable[[bytes, datetime], None]
Signer = Callable[[bytes], bytes]

CHECK_LABELS_ZH: dict[str, str] = {
    "format": "签章数据格式",
    "signature": "签章签名值",
    "signer_in_seal": "签章者证书与印章绑定",
    "seal_signature": "印章制章者签名",
    "maker_certificate": "制章者证书",
    "seal_validity": "印章有效期",
    "signer_certificate": "签章者证书",
    "timestamp": "时间戳",
    "data_hash": "原文摘要",
    "seal_file": "印章文件一致性",
    "references": "受保护文件摘要",
}


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"  # not asked for (no callback) or not applicable


@dataclass(frozen=True)
class Check:
    name: str
    status: CheckStatus
    error: PKIError | None = None
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.status is CheckStatus.PASSED

    @property
    def failed(self) -> bool:
        return self.status is CheckStatus.FAILED

    @property
    def label_zh(self) -> str:
        return CHECK_LABELS_ZH.get(self.name, self.name)

    @property
    def code(self) -> str | None:
        if self.error is None:
            return None
        return getattr(self.error, "code", type(self.error).__name__)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "label_zh": self.label_zh,
            "status": self.status.value,
            "code": self.code,
            "reason": str(self.error) if self.error else self.note or None,
            "reason_zh": self.error.message_zh if self.error else None,
        }


@dataclass(frozen=True)
class SignatureInfo:
    """A parsed SES_Signature. ``version`` is 4 (also for v5 shapes) or 1."""

    version: int
    seal: SealInfo
    seal_der: bytes = field(repr=False)  # TBS_Sign.eseal as received
    signing_time: datetime | None  # TBS_Sign.timeInfo (None if unreadable, v1 text)
    signing_time_text: str
    data_hash: bytes
    property_info: str
    signer_cert: bytes = field(repr=False)
    algorithm: str
    signature: bytes
    timestamp: bytes | None
    ext_datas: tuple[ExtDataValue, ...]
    signed_bytes: bytes = field(repr=False)  # raw DER(TBS_Sign)
    der: bytes = field(repr=False)
    warnings: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        from .seal import _cert_summary

        return {
            "version": self.version,
            "timeInfo": self.signing_time.isoformat() if self.signing_time else None,
            "timeInfoText": self.signing_time_text,
            "dataHash": self.data_hash.hex(),
            "propertyInfo": self.property_info,
            "signer": _cert_summary(self.signer_cert),
            "signatureAlgID": self.algorithm,
            "signature": self.signature.hex(),
            "timeStamp": self.timestamp.hex() if self.timestamp else None,
            "seal": self.seal.describe(),
            "warnings": list(self.warnings),
        }


@dataclass
class SignatureReport:
    info: SignatureInfo | None
    checks: list[Check]

    @property
    def valid(self) -> bool:
        return self.info is not None and not any(c.failed for c in self.checks)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.failed]

    def raise_for_failure(self) -> SignatureInfo:
        for c in self.checks:
            if c.failed and c.error is not None:
                raise c.error
        assert self.info is not None
        return self.info

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "checks": [c.as_dict() for c in self.checks]}


# --------------------------------------------------------------------------------------------
# parse
# --------------------------------------------------------------------------------------------


def signature_version(der: bytes) -> int:
    """4 for SES_Signature v4/v5 (4–5 elements), 1 for v1 (2 elements)."""
    try:
        parts = asn1.split_sequence(bytes(der))
    except asn1.DERError as exc:
        raise MalformedSES(f"not a DER SEQUENCE: {exc}", message_zh="电子签章数据格式错误") from exc
    if len(parts) == 2:
        return 1
    if len(parts) in (4, 5):
        return 4
    raise UnsupportedSESVersion(
        f"SES_Signature has {len(parts)} elements (v1: 2, v4: 4–5)",
        message_zh="不支持的电子签章结构",
    )


def parse_signature(der: bytes) -> SignatureInfo:
    """Parse ``SignedValue.dat``: SES_Signature v4 (GB/T 38540) or v1 (GM/T 0031-2014)."""
    der = bytes(der)
    version = signature_version(der)
    try:
        return _parse_v1(der) if version == 1 else _parse_v4(der)
    except PKIError:
        raise
    except Exception as exc:
        raise MalformedSES(
            f"cannot parse the seal signature: {exc}", message_zh="电子签章数据格式错误，无法解析"
        ) from exc


def _parse_v4(der: bytes) -> SignatureInfo:
    warnings: list[str] = []
    parts = asn1.split_sequence(der)
    sig = asn1._ReaderSESSignatureV4.load(der, strict=True)
    tbs = sig["toSign"]
    seal_der = tbs["eseal"].dump()
    seal = parse_seal(seal_der)
    time_choice = tbs["timeInfo"]
    signing_time = time_choice.chosen.native
    if time_choice.name != "generalized":
        warnings.append("timeInfo is UTCTime, the standard says GeneralizedTime")
    if isinstance(signing_time, datetime) and signing_time.tzinfo is None:
        signing_time = signing_time.replace(tzinfo=UTC)
    ts = sig["timeStamp"]
    timestamp = None if isinstance(ts, core.Void) else ts.dump()
    return SignatureInfo(
        version=4,
        seal=seal,
        seal_der=seal_der,
        signing_time=signing_time.astimezone(UTC) if isinstance(signing_time, datetime) else None,
        signing_time_text=time_choice.chosen.contents.decode("ascii", "replace"),
        data_hash=_bits_value(tbs["dataHash"], "dataHash", warnings),
        property_info=_string(tbs["propertyInfo"]),
        signer_cert=_octets_value(sig["cert"], "cert", warnings),
        algorithm=sig["signatureAlgID"].dotted,
        signature=_bits_value(sig["signature"], "signature", warnings),
        timestamp=timestamp,
        ext_datas=_ext_datas(tbs["extDatas"], warnings),
        signed_bytes=parts[0],
        der=der,
        warnings=tuple(warnings),
    )


_V1_TIME_FORMATS = ("%Y%m%d%H%M%SZ", "%Y%m%d%H%M%S", "%y%m%d%H%M%SZ", "%Y-%m-%d %H:%M:%S")


def _parse_text_time(text: str) -> datetime | None:
    text = text.strip().strip("\x00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        dt = None
        for fmt in _V1_TIME_FORMATS:
            try:
                dt = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _parse_v1(der: bytes) -> SignatureInfo:
    warnings: list[str] = []
    parts = asn1.split_sequence(der)
    sig = asn1._ReaderSESSignatureV1.load(der, strict=True)
    tbs = sig["toSign"]
    seal_der = tbs["eseal"].dump()
    seal = parse_seal(seal_der)
    ti = tbs["timeInfo"]
    if ti.name in ("generalized", "utc"):
        when = ti.chosen.native
        text = ti.chosen.contents.decode("ascii", "replace")
    else:
        raw = _bits_value(ti, "timeInfo", []) if ti.name == "bit_string" else ti.chosen.contents
        text = raw.decode("ascii", "replace")
        when = _parse_text_time(text)
        if when is None:
            warnings.append(f"timeInfo {text!r} is not a readable time")
    if isinstance(when, datetime) and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return SignatureInfo(
        version=1,
        seal=seal,
        seal_der=seal_der,
        signing_time=when.astimezone(UTC) if isinstance(when, datetime) else None,
        signing_time_text=text,
        data_hash=_bits_value(tbs["dataHash"], "dataHash", warnings),
        property_info=_string(tbs["propertyInfo"]),
        signer_cert=_octets_value(tbs["cert"], "cert", warnings),
        algorithm=tbs["signatureAlgorithm"].dotted,
        signature=_bits_value(sig["signature"], "signature", warnings),
        timestamp=None,
        ext_datas=(),
        signed_bytes=parts[0],
        der=der,
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------------------------


def _run(name: str, fn: Callable[[], None]) -> Check:
    try:
        fn()
    except SESError as exc:
        return Check(name, CheckStatus.FAILED, exc)
    except PKIError as exc:
        return Check(name, CheckStatus.FAILED, exc)
    return Check(name, CheckStatus.PASSED)


def _check_signer_signature(info: SignatureInfo) -> None:
    verify_sm2_signature(info.algorithm, info.signer_cert, info.signed_bytes, info.signature,
                         invalid=SignatureInvalid, whose=("signer", "签章者"),
                         what=("signature", "签章签名"))


def _check_signer_in_seal(info: SignatureInfo) -> None:
    check_holder_certificates(info.seal)
    if not info.seal.holds_certificate(info.signer_cert):
        raise SignerNotInSeal()


def _check_seal_validity(info: SignatureInfo) -> None:
    t = info.signing_time
    seal = info.seal
    if t is None:
        raise SigningTimeOutsideSealValidity(
            f"the signing time {info.signing_time_text!r} cannot be read",
            message_zh="签章时间无法识别，无法判断是否在印章有效期内",
        )
    if not seal.valid_start <= t <= seal.valid_end:
        raise SigningTimeOutsideSealValidity(
            f"signed at {t:%Y-%m-%d %H:%M:%S}Z, the seal is valid "
            f"{seal.valid_start:%Y-%m-%d %H:%M:%S}Z..{seal.valid_end:%Y-%m-%d %H:%M:%S}Z",
            message_zh=(
                f"签章时间 {t:%Y-%m-%d %H:%M:%S} UTC 不在印章有效期"
                f"（{seal.valid_start:%Y-%m-%d} 至 {seal.valid_end:%Y-%m-%d}）内"
            ),
        )


def _check_data_hash(info: SignatureInfo, signed_bytes: bytes) -> None:
    if sm3(signed_bytes) != info.data_hash:
        raise DataHashMismatch()


def _check_seal_file(info: SignatureInfo, seal_file: bytes) -> None:
    if bytes(seal_file) != info.seal_der:
        raise SealFileMismatch()


def _run_signer_check(info: SignatureInfo, signer_check: SignerCheck) -> None:
    if info.signing_time is None:
        raise SignerCertificateInvalid(
            "no readable signing time", message_zh="签章时间无法识别，无法检查签章者证书"
        )
    try:
        signer_check(info.signer_cert, info.signing_time)
    except SignerCertificateInvalid:
        raise
    except PKIError as exc:
        raise SignerCertificateInvalid(
            f"signer certificate: {exc}", message_zh=f"签章者证书无效：{exc.message_zh}"
        ) from exc
    except (ValueError, TypeError, KeyError) as exc:
        # A check that trips over a damaged certificate fails closed.
        raise SignerCertificateInvalid(
            f"signer certificate cannot be checked: {exc}", message_zh="签章者证书无法校验"
        ) from exc


def check_signature(
    der: bytes,
    signed_bytes: bytes,
    *,
    maker_check: MakerCheck | None = None,
    signer_check: SignerCheck | None = None,
    seal_file: bytes | None = None,
) -> SignatureReport:
    """Run every check of a seal signature over ``signed_bytes`` (for an OFD: the bytes of
    ``Signature.xml``) and report each one (GB/T 38540-2020 §7.3)."""
    try:
        info = parse_signature(der)
    except PKIError as exc:
        return SignatureReport(None, [Check("format", CheckStatus.FAILED, exc)])
    checks = [Check("format", CheckStatus.PASSED, note="; ".join(info.warnings))]
    checks.append(_run("signature", lambda: _check_signer_signature(info)))
    checks.append(_run("signer_in_seal", lambda: _check_signer_in_seal(info)))
    checks.append(_run("seal_signature", lambda: verify_seal_signature(info.seal)))
    if maker_check is not None and info.signing_time is not None:
        at = info.signing_time
        checks.append(
            _run("maker_certificate", lambda: run_maker_check(info.seal, at, maker_check))
        )
    else:
        checks.append(Check("maker_certificate", CheckStatus.SKIPPED, note="no maker check"))
    checks.append(_run("seal_validity", lambda: _check_seal_validity(info)))
    if signer_check is not None:
        checks.append(_run("signer_certificate", lambda: _run_signer_check(info, signer_check)))
    else:
        checks.append(Check("signer_certificate", CheckStatus.SKIPPED, note="no signer check"))
    if info.timestamp is not None:
        checks.append(
            Check("timestamp", CheckStatus.SKIPPED, note="time-stamp token present, not evaluated")
        )
    checks.append(_run("data_hash", lambda: _check_data_hash(info, signed_bytes)))
    if seal_file is not None:
        checks.append(_run("seal_file", lambda: _check_seal_file(info, seal_file)))
    return SignatureReport(info, checks)


def verify_signature(
    der: bytes,
    signed_bytes: bytes,
    *,
    maker_check: MakerCheck | None = None,
    signer_check: SignerCheck | None = None,
    seal_file: bytes | None = None,
) -> SignatureInfo:
    """Verify a seal signature; raise the first failing check's error (see
    :func:`check_signature` for the order), else return the parsed signature."""
    return check_signature(
        der,
        signed_bytes,
        maker_check=maker_check,
        signer_check=signer_check,
        seal_file=seal_file,
    ).raise_for_failure()


# --------------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------------


# A seal is parsed once per seal, not once per document sealed with it (a pure function
# of its bytes; build_signature only reads it).
_parsed_seal = functools.lru_cache(maxsize=32)(parse_seal)


def build_signature(
    *,
    seal_der: bytes,
    data_hash: bytes,
    property_info: str,
    signer_cert: bytes | str,
    sign: Signer,
    signing_time: datetime,
    ext_datas: Iterable[ExtDataValue] = (),
    timestamp: bytes | None = None,
) -> bytes:
    """Build and sign a GB/T 38540-2020 v4 ``SES_Signature``; return its DER.

    ``seal_der`` is embedded byte for byte (it must equal the package's Seal.esl).
    ``data_hash`` is SM3 of the protected data (OFD: the final Signature.xml bytes),
    ``property_info`` e.g. ``/Doc_0/Signs/Sign_0/Signature.xml``. ``sign(message)``
    returns the signer's DER SM2 signature and is called once with DER(TBS_Sign).

    Refused before signing: a seal that is not v4, a signer certificate that is not in
    the seal's certificate list, a signing time outside the seal's validity. The result
    is checked against ``signer_cert`` before it is returned, unless ``sign`` is a
    :class:`~.seal.MatchedSigner` of that certificate (its key was compared with the
    certificate's once, when it was made). ``timestamp`` (optional) is
    the DER of a time-stamp token, written as ``[0] EXPLICIT BIT STRING``.
    """
    seal_der = bytes(seal_der)
    seal = _parsed_seal(seal_der)
    if seal.version != 4:
        raise UnsupportedSESVersion(
            f"signatures are written with v4 seals, not v{seal.version}",
            message_zh="只能使用 GB/T 38540 第4版电子印章签章",
        )
    cert = _to_der_cert(signer_cert, "签章者")
    if not seal.holds_certificate(cert):
        raise SignerNotInSeal()
    when = _utc_seconds(signing_time, "timeInfo")
    if not seal.valid_start <= when <= seal.valid_end:
        raise SigningTimeOutsideSealValidity(
            message_zh=(
                f"电子印章有效期为 {seal.valid_start:%Y-%m-%d} 至 {seal.valid_end:%Y-%m-%d}，"
                "当前不能用于签章"
            )
        )
    if len(data_hash) != 32:
        raise MalformedSES(
            "dataHash must be an SM3 digest (32 bytes)", message_zh="原文摘要长度错误"
        )
    if not property_info or not property_info.isascii():
        raise MalformedSES("propertyInfo must be ASCII", message_zh="签章属性信息必须为 ASCII")
    elements = [
        core.Integer(4).dump(),
        seal_der,
        core.GeneralizedTime(when).dump(),
        asn1.bit_string(data_hash).dump(),
        core.IA5String(property_info).dump(),
    ]
    exts = list(ext_datas)
    if exts:
        ed = asn1.ExtensionDatas(
            [{"extnID": e.oid, "critical": e.critical, "extnValue": e.value} for e in exts]
        ).dump()
        elements.append(b"\xa0" + asn1._der_length(len(ed)) + ed)  # [0] EXPLICIT
    tbs = asn1.encode_sequence(*elements)
    signature = sign(tbs)
    # A signer whose key was matched to this certificate (MatchedSigner) makes signatures
    # that verify with it; any other is checked here, before the signature is handed out.
    if not (isinstance(sign, MatchedSigner) and sign.certificate_der == cert):
        try:
            verify_with_cert_key(cert, tbs, signature)
        except PKIError as exc:
            raise SignatureInvalid(
                "the signing key does not match the signer certificate",
                message_zh="签章私钥与签章者证书不匹配",
            ) from exc
    out = [
        tbs,
        core.OctetString(cert).dump(),
        core.ObjectIdentifier(asn1.OID_SM3_WITH_SM2).dump(),
        asn1.bit_string(signature).dump(),
    ]
    if timestamp:
        ts = asn1.bit_string(timestamp).dump()
        out.append(b"\xa0" + asn1._der_length(len(ts)) + ts)
    return asn1.encode_sequence(*out)
