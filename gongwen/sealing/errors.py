"""Errors of the sealing core.

They extend :class:`gongwen.pki.errors.PKIError`: ``str(err)`` is English, ``err.message_zh``
is Chinese for people, ``code`` is a stable machine-readable name. Verification of a PDF does
not raise for a bad signature (each check is reported with its reason); it raises only when
the file cannot be read at all (:class:`MalformedPDF`).
"""

from __future__ import annotations

from gongwen.pki.errors import MalformedInput, PKIError

__all__ = ["MalformedPDF", "SealingError", "UnsupportedPDF"]


class SealingError(PKIError):
    code = "sealing.error"
    default_message = "PDF sealing failed"
    default_message_zh = "PDF 签章失败"


class MalformedPDF(SealingError, MalformedInput):
    """The bytes are not a PDF we can read (broken structure, bad object, truncated)."""

    code = "sealing.malformed"
    default_message = "malformed PDF"
    default_message_zh = "PDF 文件格式错误，无法读取"


class UnsupportedPDF(SealingError):
    """A valid PDF using a feature the sealing core does not handle (encryption, …)."""

    code = "sealing.unsupported"
    default_message = "unsupported PDF feature"
    default_message_zh = "不支持的 PDF 文件特性"
