"""Errors of the seal core. Each names one failed check; ``message_zh`` is for people.

They extend :class:`gongwen.pki.errors.PKIError` (and the matching PKI class where one fits,
e.g. :class:`SealSignatureInvalid` is also an ``InvalidSignature``), so callers can catch
either family. ``code`` is a stable machine-readable name used in verification reports.
"""

from __future__ import annotations

from gongwen.pki.errors import (
    InvalidCertificate,
    InvalidSignature,
    MalformedInput,
    PKIError,
    UnsupportedAlgorithm,
)

__all__ = [
    "DataHashMismatch",
    "HolderCertificateMissing",
    "MakerCertificateInvalid",
    "MalformedSES",
    "ReferenceDigestMismatch",
    "SESError",
    "SealExpired",
    "SealFileMismatch",
    "SealNotYetValid",
    "SealSignatureInvalid",
    "SealValidityError",
    "SignatureInvalid",
    "SignerCertificateInvalid",
    "SignerNotInSeal",
    "SigningTimeOutsideSealValidity",
    "UnsupportedSESAlgorithm",
    "UnsupportedSESVersion",
    "UnverifiableSignature",
]


class SESError(PKIError):
    code = "ses.error"
    default_message = "electronic seal error"
    default_message_zh = "电子印章错误"


class MalformedSES(SESError, MalformedInput):
    code = "ses.malformed"
    default_message = "malformed seal or seal signature"
    default_message_zh = "电子印章或电子签章数据格式错误"


class UnsupportedSESVersion(MalformedSES):
    code = "ses.version"
    default_message = "unsupported seal structure version"
    default_message_zh = "不支持的电子印章结构版本"


class UnsupportedSESAlgorithm(SESError, UnsupportedAlgorithm):
    code = "ses.algorithm"
    default_message = "unsupported signature algorithm"
    default_message_zh = "不支持的签名算法"


class SealSignatureInvalid(SESError, InvalidSignature):
    code = "seal.signature"
    default_message = "the seal maker's signature on the seal does not verify"
    default_message_zh = "电子印章的制章者签名验证失败（印章数据被篡改或制章者证书不符）"


class SealValidityError(SESError):
    code = "seal.validity"
    default_message = "the seal is not valid at the time checked"
    default_message_zh = "电子印章不在有效期内"


class SealNotYetValid(SealValidityError):
    code = "seal.not_yet_valid"
    default_message = "the seal is not yet valid"
    default_message_zh = "电子印章尚未生效"


class SealExpired(SealValidityError):
    code = "seal.expired"
    default_message = "the seal has expired"
    default_message_zh = "电子印章已过有效期"


class HolderCertificateMissing(SESError):
    code = "seal.holder_certificate"
    default_message = "the seal lists no usable holder certificate"
    default_message_zh = "电子印章未包含有效的签章者证书"


class MakerCertificateInvalid(SESError, InvalidCertificate):
    code = "seal.maker_certificate"
    default_message = "the seal maker's certificate is not trusted"
    default_message_zh = "制章者证书不可信"


class SignatureInvalid(SESError, InvalidSignature):
    code = "signature.signature"
    default_message = "the seal signature (SES_Signature) does not verify"
    default_message_zh = "电子签章的签名值验证失败"


class UnverifiableSignature(SESError):
    code = "signature.unverifiable"
    default_message = "the signature cannot be verified without the signer's certificate"
    default_message_zh = "缺少签章者证书，无法验证签名"


class SignerNotInSeal(SESError):
    code = "signature.signer_not_in_seal"
    default_message = "the signer's certificate is not in the seal's certificate list"
    default_message_zh = "签章者证书不在电子印章的证书列表中"


class SigningTimeOutsideSealValidity(SealValidityError):
    code = "signature.seal_validity"
    default_message = "the signing time is outside the seal's validity period"
    default_message_zh = "签章时间不在电子印章有效期内"


class SignerCertificateInvalid(SESError, InvalidCertificate):
    code = "signature.signer_certificate"
    default_message = "the signer's certificate is not valid"
    default_message_zh = "签章者证书无效"


class DataHashMismatch(SESError, InvalidSignature):
    code = "signature.data_hash"
    default_message = "the signed data does not match the signature's data hash"
    default_message_zh = "原文摘要不符，签章后的数据已被修改"


class SealFileMismatch(SESError):
    code = "signature.seal_file"
    default_message = "the seal file differs from the seal inside the signature"
    default_message_zh = "印章文件与签章中的印章不一致"


class ReferenceDigestMismatch(SESError, InvalidSignature):
    code = "ofd.reference"
    default_message = "a protected file was changed after signing"
    default_message_zh = "受保护的文件在签章后被修改"
