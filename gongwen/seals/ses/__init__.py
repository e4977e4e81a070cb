"""Django-free electronic seal core (GB/T 38540-2020 SES structures, seal images).

Nothing here imports Django (import-linter contract "cores are Django-free"). Modules:

* :mod:`.asn1` — SESeal / SES_Signature v4 and v1 ASN.1 (asn1crypto), raw DER helpers;
* :mod:`.seal` — ``build_seal``, ``parse_seal``, ``verify_seal``;
* :mod:`.signature` — ``build_signature``, ``parse_signature``, ``check_signature``,
  ``verify_signature``;
* :mod:`.ofd_signatures` — ``verify_ofd_signatures`` for the signatures of an OFD package;
* :mod:`.image` — seal images per 国发〔1999〕25号 (PNG, SVG);
* :mod:`.errors` — one error class per failed check.

See docs/seals.md.
"""

from .errors import SESError
from .seal import (
    MatchedSigner,
    SealInfo,
    build_seal,
    issued_by,
    matched_signer,
    parse_seal,
    signer_from_key,
    verify_seal,
)
from .signature import (
    SignatureInfo,
    SignatureReport,
    build_signature,
    check_signature,
    parse_signature,
    verify_signature,
)

__all__ = [
    "MatchedSigner",
    "SESError",
    "SealInfo",
    "SignatureInfo",
    "SignatureReport",
    "build_seal",
    "build_signature",
    "check_signature",
    "issued_by",
    "matched_signer",
    "parse_seal",
    "parse_signature",
    "signer_from_key",
    "verify_seal",
    "verify_signature",
]
