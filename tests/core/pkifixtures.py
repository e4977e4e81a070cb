"""Building blocks for the throw-away test PKIs of the core tests (tests/core/*/conftest.py).

Each test package keeps its own hierarchy (names, validity, CRLs are what its tests assert
on); what they share is here: where the shared interop vectors are, reading a PEM
certificate, the ``openssl`` marker, and issuing a root, a certificate or a CRL in one call.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import pem

from gongwen.pki import crl, suites, x509

__all__ = [
    "VECTORS",
    "Issued",
    "issue",
    "issue_crl",
    "needs_openssl",
    "new_root",
    "pem_cert",
]

VECTORS = Path("/work/shared/vectors")
if not VECTORS.is_dir():  # a checkout next to the shared directory
    VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors"

needs_openssl = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="openssl CLI not installed"
)


def pem_cert(path: Path) -> bytes:
    """The DER of a PEM certificate file."""
    _, _, der = pem.unarmor(path.read_bytes())
    return der


@dataclass
class Issued:
    """A key and the DER certificate issued for it."""

    key: Any
    cert: bytes

    @property
    def pem(self) -> str:
        return x509.certificate_pem(self.cert)


def new_root(
    suite: suites.Suite,
    subject: Any,
    *,
    not_before: datetime,
    validity_days: int,
    kind: str | None = None,
) -> Issued:
    """A fresh key of ``suite`` (``kind``: its default if None) and a self-signed root CA."""
    key = suite.generate_key(kind)
    cert = x509.create_root_ca(
        key=key, subject=subject, not_before=not_before, validity_days=validity_days
    )
    return Issued(key, cert)


def issue(
    suite: suites.Suite,
    profile: str,
    subject: Any,
    issuer: Issued,
    *,
    not_before: datetime,
    validity_days: int,
    kind: str | None = None,
    **kw: Any,
) -> Issued:
    """A fresh key of ``suite`` and a ``profile`` certificate for it signed by ``issuer``;
    ``kw`` goes to :func:`gongwen.pki.x509.issue_certificate` (``crl_urls``, …)."""
    key = suite.generate_key(kind)
    cert = x509.issue_certificate(
        profile=profile,
        subject=subject,
        public_key=key,
        issuer_key=issuer.key,
        issuer_cert=issuer.cert,
        not_before=not_before,
        validity_days=validity_days,
        **kw,
    )
    return Issued(key, cert)


def issue_crl(issuer: Issued, *, this_update: datetime, next_update: datetime, **kw: Any) -> bytes:
    """CRL number 1 of ``issuer``; ``kw`` goes to :func:`gongwen.pki.crl.build_crl`
    (``revoked``, …)."""
    return crl.build_crl(
        issuer_cert=issuer.cert,
        issuer_key=issuer.key,
        crl_number=1,
        this_update=this_update,
        next_update=next_update,
        **kw,
    )
