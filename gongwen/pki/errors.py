"""Errors raised by the PKI core.

Every error carries two texts: ``str(err)`` is English (logs, developers) and
``err.message_zh`` is Chinese (shown to users). Verification functions raise one
of these; they never return ``False``. Parsers turn any decoding problem into
:class:`MalformedInput`, so callers never see a bare ``ValueError`` or an
asn1crypto/OpenSSL exception for bad bytes.
"""

from __future__ import annotations

__all__ = [
    "CRLMissing",
    "CRLStale",
    "CertificateExpired",
    "CertificateRevoked",
    "InvalidCertificate",
    "InvalidSignature",
    "KeyDiskLocked",
    "KeyMismatch",
    "MalformedInput",
    "PINFormatError",
    "PKIError",
    "UnsupportedAlgorithm",
    "WrongPIN",
]


class PKIError(Exception):
    """Base class. ``message_zh`` is the user-facing Chinese text."""

    default_message = "PKI error"
    default_message_zh = "密码服务错误"

    def __init__(self, message: str | None = None, *, message_zh: str | None = None) -> None:
        self.message = message or self.default_message
        self.message_zh = message_zh or self.default_message_zh
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class InvalidSignature(PKIError):
    default_message = "signature verification failed"
    default_message_zh = "签名验证失败"


class KeyMismatch(InvalidSignature):
    """A private key used with a certificate that is not its own: whatever it signs would
    not verify with that certificate."""

    default_message = "the private key does not match the certificate"
    default_message_zh = "私钥与证书不匹配"


class InvalidCertificate(PKIError):
    default_message = "certificate is not valid"
    default_message_zh = "证书无效"


class CertificateExpired(InvalidCertificate):
    """The certificate is outside its validity period at the time checked."""

    default_message = "certificate is outside its validity period"
    default_message_zh = "证书不在有效期内"


class CertificateRevoked(InvalidCertificate):
    default_message = "certificate has been revoked"
    default_message_zh = "证书已被吊销"

    def __init__(
        self,
        message: str | None = None,
        *,
        message_zh: str | None = None,
        reason: str | None = None,
        revoked_at: object = None,
    ) -> None:
        super().__init__(message, message_zh=message_zh)
        self.reason = reason
        self.revoked_at = revoked_at


class CRLStale(PKIError):
    default_message = "CRL is past its nextUpdate time"
    default_message_zh = "证书吊销列表已过期，无法确认证书状态"


class CRLMissing(PKIError):
    default_message = "no usable CRL for the certificate's issuer"
    default_message_zh = "缺少证书吊销列表，无法确认证书状态"


class WrongPIN(PKIError):
    default_message = "wrong PIN"
    default_message_zh = "口令错误"


class KeyDiskLocked(PKIError):
    default_message = "key disk is locked after too many wrong PINs"
    default_message_zh = "密钥盘已锁定（口令错误次数过多），请联系管理员解锁"


class MalformedInput(PKIError):
    default_message = "malformed input"
    default_message_zh = "数据格式错误"


class PINFormatError(MalformedInput):
    default_message = "PIN must be 6 to 8 digits"
    default_message_zh = "口令必须为6至8位数字"


class UnsupportedAlgorithm(PKIError):
    default_message = "unsupported algorithm"
    default_message_zh = "不支持的密码算法"
