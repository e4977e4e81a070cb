"""Sealing through pyHanko: the reference engine, and a fallback for documents the direct
writer refuses.

:class:`SuiteSigner` is a pyHanko ``Signer`` that signs with our keys (private key objects
or :class:`~gongwen.pki.suites.ExternalSigner`): SM2 with SM3 (GB/T 35275 identifiers,
registered with asn1crypto by :func:`gongwen.sealing.cms.register_sm_oids`) for the GM
suite, ECDSA P-256 or RSA with SHA-256 for INTL. pyHanko builds the CMS and writes the
incremental update; the visible seal is a static stamp with the seal image as its
background, drawn at full opacity and without border.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asn1crypto import algos as a_algos
from asn1crypto import x509 as a_x509

from gongwen.pki import suites

from .cms import register_sm_oids
from .cos import PDFReader
from .errors import SealingError, UnsupportedPDF

if TYPE_CHECKING:
    from .pdf import SealBox, Sealer, SealResult

__all__ = ["SM2SignatureValidator", "SuiteSigner", "seal_with_pyhanko"]


def _signer_class() -> type:
    from pyhanko.sign.signers import Signer

    class SuiteSigner(Signer):  # type: ignore[misc]
        """pyHanko signer backed by a gongwen key of either suite."""

        def __init__(self, *, key: Any, cert_der: bytes, chain: list[bytes], suite: Any) -> None:
            from pyhanko_certvalidator.registry import SimpleCertificateStore

            from gongwen.pki.x509 import load_certificate

            register_sm_oids()
            self._key = key
            self._suite = (
                suites.get_suite(suite) if suite is not None else suites.suite_for_key(key)
            )
            alg = suites.key_algorithm(key)
            if self._suite.name == "GM":
                mech, size = "sm2", 72
            elif alg.startswith("RSA-"):
                mech, size = "sha256_rsa", int(alg[4:]) // 8
            else:
                mech, size = "sha256_ecdsa", 72
            self._size = size
            cert = a_x509.Certificate.load(load_certificate(cert_der).dump())
            others = [a_x509.Certificate.load(load_certificate(c).dump()) for c in chain]
            super().__init__(
                signing_cert=cert,
                cert_registry=SimpleCertificateStore.from_certs([cert, *others]),
                signature_mechanism=a_algos.SignedDigestAlgorithm({"algorithm": mech}),
            )

        async def async_sign_raw(
            self, data: bytes, digest_algorithm: str, dry_run: bool = False
        ) -> bytes:
            if dry_run:
                return bytes(self._size)
            return self._suite.sign(self._key, data)

    return SuiteSigner


_SIGNER_CLASS: type | None = None


def SuiteSigner(**kw: Any) -> Any:
    """Create the pyHanko signer (``key``, ``cert_der``, ``chain``, ``suite``)."""
    global _SIGNER_CLASS
    if _SIGNER_CLASS is None:
        _SIGNER_CLASS = _signer_class()
    return _SIGNER_CLASS(**kw)


_SM2_OIDS = (suites.OID.SM2_SIGN, suites.OID.SM3_WITH_SM2)


def _validator_class() -> type:
    from cryptography.exceptions import InvalidSignature as _PycaInvalidSignature
    from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator

    from gongwen.pki.errors import PKIError

    class SM2SignatureValidator(DefaultSignatureValidator):  # type: ignore[misc]
        """pyHanko/pyhanko-certvalidator signature validator that also knows SM2 (with SM3
        and signer ID 1234567812345678), for CMS signatures and SM3withSM2 certificates
        and CRLs; other algorithms go to pyHanko's default validator."""

        def validate_signature(
            self,
            signature: bytes,
            signed_data: bytes,
            public_key_info: Any,
            signature_algorithm: Any,
            *args: Any,
            **kw: Any,
        ) -> None:
            if signature_algorithm["algorithm"].dotted not in _SM2_OIDS:
                super().validate_signature(
                    signature, signed_data, public_key_info, signature_algorithm, *args, **kw
                )
                return
            try:
                key = suites.load_public_key(public_key_info.dump())
                suites.verify_signature(key, signed_data, signature, suites.OID.SM3_WITH_SM2)
            except PKIError as exc:
                raise _PycaInvalidSignature() from exc

    return SM2SignatureValidator


_VALIDATOR_CLASS: type | None = None


def SM2SignatureValidator() -> Any:
    """A signature validator to pass as ``ValidationContext(signature_validator=...)`` so
    that pyHanko's validator checks GM seals (and SM2 certificate chains) too."""
    global _VALIDATOR_CLASS
    register_sm_oids()
    if _VALIDATOR_CLASS is None:
        _VALIDATOR_CLASS = _validator_class()
    return _VALIDATOR_CLASS()


def seal_with_pyhanko(
    sealer: Sealer,
    data: bytes,
    box: SealBox | None,
    reason: str | None,
    location: str | None,
    contact_info: str | None,
    name: str | None,
    signing_time: datetime,
    field_name: str | None,
) -> SealResult:
    from PIL import Image
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import StaticStampStyle

    from .pdf import SealResult, page_geometry

    signer = SuiteSigner(
        key=sealer.signer, cert_der=sealer.cert_der, chain=sealer.chain, suite=sealer.suite
    )
    reader = PDFReader(data)
    existing = {n for _r, _f, n in reader.iter_fields()}
    if field_name is None:
        k = 1
        while f"Seal{k}" in existing:
            k += 1
        field_name = f"Seal{k}"
    spec = None
    style: Any = None
    if box is not None:
        pages = reader.pages()
        if not 0 <= box.page < len(pages):
            raise SealingError(
                f"page {box.page} does not exist", message_zh=f"第 {box.page + 1} 页不存在"
            )
        geo = page_geometry(reader, pages[box.page][1])
        if geo.rotate:
            raise UnsupportedPDF(
                "the pyHanko engine does not turn seals on rotated pages; use the direct engine",
                message_zh="pyHanko 引擎不支持旋转页面上的印章",
            )
        rect = tuple(geo.rect_for(box))
        spec = fields.SigFieldSpec(field_name, on_page=box.page, box=rect)
        if sealer.seal_image_png:
            from pyhanko.pdf_utils.layout import (
                AxisAlignment,
                InnerScaling,
                Margins,
                SimpleBoxLayoutRule,
            )

            image = Image.open(io.BytesIO(sealer.seal_image_png))
            style = StaticStampStyle(
                background=PdfImage(image),
                border_width=0,
                background_opacity=1.0,
                background_layout=SimpleBoxLayoutRule(
                    x_align=AxisAlignment.ALIGN_MID,
                    y_align=AxisAlignment.ALIGN_MID,
                    margins=Margins.uniform(0),
                    inner_content_scaling=InnerScaling.STRETCH_TO_FIT,
                ),
            )
    else:
        spec = fields.SigFieldSpec(field_name, on_page=0)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=sealer.builder.digest_name,
        subfilter=(
            fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED
            if sealer.builder.is_gm
            else fields.SigSeedSubFilter.PADES
        ),
        reason=reason,
        location=location,
        contact_info=contact_info,
        name=name,
    )
    timestamper = None
    if sealer.timestamper is not None:
        raise SealingError("time-stamps are only supported by the direct engine")

    class _Signer(signers.PdfSigner):  # type: ignore[misc]
        def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
            session = super().init_signing_session(pdf_out, existing_fields_only)
            session.system_time = signing_time
            return session

    pdf_signer = _Signer(
        meta, signer=signer, timestamper=timestamper, stamp_style=style, new_field_spec=spec
    )
    w = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    out = pdf_signer.sign_pdf(w).getvalue()
    sig = next(f for _r, f, n in PDFReader(out).iter_fields() if n == field_name)
    sd = PDFReader(out).resolve(sig.get("V"))
    br = tuple(sd["ByteRange"])
    return SealResult(out, field_name, br, bytes(sd["Contents"]))
