"""Django-free PKI core: GM (SM2/SM3/SM4) and INTL suites, X.509 certificates, CRLs,
chain validation, key disks (encrypted PKCS#8) and a PKCS#11 key store.

Modules: :mod:`.errors`, :mod:`.suites`, :mod:`.x509`, :mod:`.crl`, :mod:`.keystore`,
:mod:`.bench`. Nothing here imports Django; the Django app on top keeps the records.
See docs/pki.md.
"""

from .errors import (
    CertificateExpired,
    CertificateRevoked,
    CRLMissing,
    CRLStale,
    InvalidCertificate,
    InvalidSignature,
    KeyDiskLocked,
    MalformedInput,
    PINFormatError,
    PKIError,
    UnsupportedAlgorithm,
    WrongPIN,
)
from .suites import Suite, get_suite

__all__ = [
    "CRLMissing",
    "CRLStale",
    "CertificateExpired",
    "CertificateRevoked",
    "InvalidCertificate",
    "InvalidSignature",
    "KeyDiskLocked",
    "MalformedInput",
    "PINFormatError",
    "PKIError",
    "Suite",
    "UnsupportedAlgorithm",
    "WrongPIN",
    "get_suite",
]
