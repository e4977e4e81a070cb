"""签收回执 files: build, sign and verify offline (R-FLOW-2). Django-free.

A receipt is a small JSON file::

    {"type": "gongwen-receipt", "version": 1,
     "payload": "<base64 of canonical JSON: document fingerprint, recipient unit, time, 收文登记号…>",
     "signature": "<base64 DER signature over the payload bytes>",
     "certificate": "<base64 DER of the clerk's unit-receipt certificate>",
     "chain": ["<base64 DER of the issuing CA certificates>"],
     "crls": ["<base64 DER of the CRLs current at signing>"]}

The signature is SM2/SM3 (GM suite, signer ID 1234567812345678) or ECDSA/RSA-SHA256 (INTL),
whatever the certificate's key is. The CRLs current at signing time are embedded, so the
receipt verifies offline at its signing time with only the trust anchor (the exported root
CA certificate): ``gongwen verify-receipt FILE --trust DIR``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gongwen.pki import crl as pki_crl
from gongwen.pki import x509
from gongwen.pki.errors import KeyMismatch, PKIError
from gongwen.pki.suites import (
    is_private_key,
    key_matches_certificate,
    sign_data,
    verify_with_certificate,
)

TYPE = "gongwen-receipt"
VERSION = 1
RECEIPT_PROFILE = "unit-receipt"


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def build(payload: dict[str, Any], private_key: Any, certificate_der: bytes,
          chain: list[bytes], crls: list[bytes]) -> bytes:
    """Sign ``payload`` with ``private_key`` and return the receipt file's bytes."""
    # Fail here rather than hand out a receipt that will not verify: the key must be the
    # certificate's (a comparison of public keys, far cheaper than verifying the signature;
    # an external signer's signature is still verified, its public key being its own word).
    if not key_matches_certificate(private_key, certificate_der):
        raise KeyMismatch("the signing key is not the key of the receipt certificate",
                          message_zh="签收私钥与签收证书不匹配，不能生成回执")
    body = canonical(payload)
    signature = sign_data(private_key, body)
    if not is_private_key(private_key):
        verify_with_certificate(certificate_der, body, signature)
    doc = {"type": TYPE, "version": VERSION, "payload": _b64(body),
           "signature": _b64(signature), "certificate": _b64(certificate_der),
           "chain": [_b64(c) for c in chain], "crls": [_b64(c) for c in crls]}
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


@dataclass
class ReceiptCheck:
    """``status``: valid (exit 0), invalid (1) or unreadable (2)."""

    status: str
    message_zh: str
    payload: dict[str, Any] = field(default_factory=dict)
    signer: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "valid"

    @property
    def exit_code(self) -> int:
        return {"valid": 0, "invalid": 1}.get(self.status, 2)


def parse(data: bytes) -> tuple[dict[str, Any], bytes, bytes, bytes, list[bytes], list[bytes]]:
    """(payload, payload bytes, signature, certificate, chain, crls); ValueError if unreadable."""
    try:
        doc = json.loads(data.decode("utf-8"))
        if doc.get("type") != TYPE or doc.get("version") != VERSION:
            raise ValueError("not a gongwen receipt")
        body = base64.b64decode(doc["payload"], validate=True)
        payload = json.loads(body.decode("utf-8"))
        signature = base64.b64decode(doc["signature"], validate=True)
        cert = base64.b64decode(doc["certificate"], validate=True)
        chain = [base64.b64decode(c, validate=True) for c in doc.get("chain", [])]
        crls = [base64.b64decode(c, validate=True) for c in doc.get("crls", [])]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError,
            base64.binascii.Error) as exc:
        raise ValueError(str(exc)) from exc
    if not isinstance(payload, dict):
        raise ValueError("payload is not an object")
    return payload, body, signature, cert, chain, crls


def verify(data: bytes, trust_anchors: list[bytes], intermediates: list[bytes] = (),
           crls: list[bytes] = (), at: datetime | None = None) -> ReceiptCheck:
    """Check the signature, that the certificate is a unit-receipt certificate of the
    recipient unit, and the chain with revocation at the signing time (or ``at``)."""
    try:
        payload, body, signature, cert, chain, own_crls = parse(data)
        info = x509.certificate_info(cert)
    except (ValueError, PKIError) as exc:
        return ReceiptCheck("unreadable", f"回执文件无法读取：{exc}")
    signer = info.subject
    try:
        verify_with_certificate(cert, body, signature)
    except PKIError as exc:
        return ReceiptCheck("invalid", f"回执签名无效：{getattr(exc, 'message_zh', exc)}",
                            payload, signer)
    if info.profile != RECEIPT_PROFILE:
        return ReceiptCheck("invalid", "签名证书不是单位签收证书", payload, signer)
    unit = str(payload.get("recipient_unit", ""))
    if info.subject_o and unit and info.subject_o != unit[:64]:
        return ReceiptCheck("invalid", f"签名证书属于“{info.subject_o}”，不是收文单位“{unit}”",
                            payload, signer)
    if at is None:
        try:
            at = datetime.fromisoformat(str(payload["signed_at"]))
        except (KeyError, ValueError):
            return ReceiptCheck("unreadable", "回执缺少签收时间", payload, signer)
    if not trust_anchors:
        return ReceiptCheck("unreadable", "未提供根证书（信任锚），无法核验证书链", payload, signer)
    try:
        pki_crl.validate_chain(cert, trust_anchors, [*chain, *intermediates],
                               [*own_crls, *crls], at)
    except PKIError as exc:
        return ReceiptCheck("invalid", f"证书链核验未通过：{getattr(exc, 'message_zh', exc)}",
                            payload, signer)
    return ReceiptCheck("valid", "回执有效：签名、签收证书、证书链和吊销状态均已核验",
                        payload, signer)
