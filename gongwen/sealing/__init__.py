"""Sealing and verification of PDF and OFD documents (pure core: no Django).

PDF (docs/sealing.md): :mod:`.pdf` (``seal_pdf``, ``Sealer``), :mod:`.pdf_verify`
(``check_pdf``, ``verify_pdf``, ``chain_check``), :mod:`.cms` (CMS SignedData: GM per
GB/T 35275, INTL per PAdES), :mod:`.cos` (a small PDF object reader/writer),
:mod:`.appearance` (seal image XObjects), :mod:`.timestamp` (RFC 3161 for B-T),
:mod:`.pyhanko_engine` (the pyHanko reference engine), :mod:`.errors`.

OFD: :mod:`.ofd_seal`, :mod:`.ofd_verify`, :mod:`.ofd_package`.
"""

from .errors import MalformedPDF, SealingError, UnsupportedPDF
from .pdf import SealBox, Sealer, seal_pdf
from .pdf_verify import PDFReport, PDFSignatureResult, chain_check, check_pdf, verify_pdf

__all__ = [
    "MalformedPDF",
    "PDFReport",
    "PDFSignatureResult",
    "SealBox",
    "Sealer",
    "SealingError",
    "UnsupportedPDF",
    "chain_check",
    "check_pdf",
    "seal_pdf",
    "verify_pdf",
]
