"""The check-list shape both verification reports share (:mod:`.pdf_verify`, :mod:`.ofd_verify`).

A :class:`CheckResult` is one named check on a signature (or on the document): ``passed``,
``failed`` or ``skipped``, with an English ``reason``, a Chinese ``reason_zh`` and, when it
failed, a machine-readable ``code``. Each format subclasses it only to name its own Chinese
labels (``labels_zh``): the two formats label some checks differently (``format`` is
"签名数据格式" for a PDF, "签章数据格式" for an OFD SES_Signature).

:class:`SignatureChecks` and :class:`ReportChecks` are the verdict plumbing over a list of
checks that :class:`~.pdf_verify.PDFSignatureResult` / :class:`~.ofd_verify.OFDSignatureResult`
and :class:`~.pdf_verify.PDFReport` / :class:`~.ofd_verify.OFDReport` have in common.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

__all__ = ["CheckResult", "ReportChecks", "SignatureChecks"]


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # "passed" | "failed" | "skipped"
    reason: str
    reason_zh: str
    code: str | None = None

    #: Chinese label per check name; a format's subclass sets its own.
    labels_zh: ClassVar[Mapping[str, str]] = {}

    @property
    def ok(self) -> bool | None:
        """True passed, False failed, None skipped (not asked for / not applicable)."""
        return {"passed": True, "failed": False}.get(self.status)

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def label_zh(self) -> str:
        return self.labels_zh.get(self.name, self.name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "label_zh": self.label_zh,
            "ok": self.ok,
            "status": self.status,
            "code": self.code,
            "reason": self.reason,
            "reason_zh": self.reason_zh,
        }

    @classmethod
    def passed(cls, name: str, reason: str, reason_zh: str) -> Self:
        return cls(name, "passed", reason, reason_zh)

    @classmethod
    def failure(cls, name: str, code: str | None, reason: str, reason_zh: str) -> Self:
        return cls(name, "failed", reason, reason_zh, code)

    @classmethod
    def skipped(cls, name: str, reason: str, reason_zh: str) -> Self:
        return cls(name, "skipped", reason, reason_zh)


class SignatureChecks:
    """Verdict helpers of a per-signature result with a ``checks`` list of CheckResult."""

    checks: list[CheckResult]

    @property
    def ok(self) -> bool:
        return not any(c.failed for c in self.checks)

    valid = ok

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.failed]

    def check(self, name: str) -> CheckResult | None:
        return next((c for c in self.checks if c.name == name), None)


class ReportChecks:
    """``readable`` / ``valid`` of a whole-document report with ``errors`` (document-level
    failures) and ``signatures`` (each a :class:`SignatureChecks`)."""

    errors: list[CheckResult]
    signatures: list[Any]

    @property
    def readable(self) -> bool:
        return not self.errors

    @property
    def valid(self) -> bool:
        return not self.errors and bool(self.signatures) and all(s.ok for s in self.signatures)
