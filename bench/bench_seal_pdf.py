"""Benchmark: seal and verify a 2-page rendered notice as PDF (GM and INTL), next to pyHanko
signing and validating the same PDF with the same key type (ECDSA P-256) in the same run.

Run ``python bench/bench_seal_pdf.py [--seconds 2] [--json]``; ``main(argv)`` is what
``gongwen bench seal`` calls. Nothing here is asserted in a test (absolute figures depend on
the machine); the figures that count are the ratios ours/pyHanko printed at the end
(issue 8: sealing ≥ 5×, verification ≥ 1×).

What is measured, each for ``--seconds``, single process, documents per second:

* ``seal``: :meth:`gongwen.sealing.pdf.Sealer.seal` — visible seal image at the GB/T 9704
  seal box, CMS, one incremental update (the ``Sealer`` is built once per run, as a
  sealing service keeps it per seal; ``seal_pdf`` one-shot calls are measured too);
* ``verify``: :func:`gongwen.sealing.pdf_verify.check_pdf` with the certificate chain and
  CRLs checked (``chain_check``: "cold" without its per-interval cache, "warm" with it, as a
  receiving service keeps one checker per CRL generation), and without the chain check;
* ``pyhanko sign``: ``pyhanko.sign.signers.PdfSigner`` with an ECDSA P-256 ``SimpleSigner``,
  PAdES, the same seal image as a static stamp at the same box (and, for reference, with
  pyHanko's default text stamp);
* ``pyhanko validate``: ``validate_pdf_signature`` with the same trust root and CRLs, a new
  ``ValidationContext`` per document ("cold") or one shared context ("warm", pyHanko then
  reuses its validated paths and revocation data).
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import AT, SIGNED_AT, ca_pair, parse_args, rate  # noqa: E402
from gongwen.sealing.pdf import Sealer, seal_pdf  # noqa: E402
from gongwen.sealing.pdf_verify import chain_check, check_pdf  # noqa: E402


def _pki(suite_name: str) -> dict[str, Any]:
    pki = ca_pair(suite_name)
    key, cert = pki["issue"]("unit-seal", "连云港市人民政府办公室", "连云港市人民政府办公室")
    return {**pki, "key": key, "cert": cert}


def _document() -> tuple[bytes, Any]:
    """The seed notice cut to two pages (bench_render.py --two-page) and its seal box."""
    from gongwen.documents.gbt9704 import FontSet, layout_document, render_pdf
    from tests.core.gbt9704.seed_notice import seed_notice

    full = seed_notice()
    layout = layout_document(seed_notice(attachments=(), body=full.body[:10]), FontSet.default())
    return render_pdf(layout), layout.seals[0]


def _seal_image(diameter_mm: float) -> bytes:
    from gongwen.seals.ses.image import SealImageSpec, SealLevel, render_png

    return render_png(
        SealImageSpec(
            name="连云港市人民政府办公室", level=SealLevel.DEPARTMENT, diameter_mm=diameter_mm
        )
    )


# ------------------------------------------------------------------------------- pyHanko


def _pyhanko(
    pdf: bytes, box: Any, png: bytes, pki: dict[str, Any], seconds: float
) -> dict[str, float]:
    from asn1crypto import keys as a_keys
    from asn1crypto import x509 as a_x509
    from cryptography.hazmat.primitives import serialization
    from PIL import Image
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.layout import AxisAlignment, InnerScaling, Margins, SimpleBoxLayoutRule
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.stamp import StaticStampStyle
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    from gongwen.sealing.pdf import MM

    key_der = pki["key"].private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = signers.SimpleSigner(
        signing_cert=a_x509.Certificate.load(pki["cert"]),
        signing_key=a_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([a_x509.Certificate.load(pki["city"])]),
    )
    w, h = 595.2756, 841.8898  # A4 MediaBox of the rendered notice
    x1, y2 = box.x * MM, h - box.y * MM
    rect = (x1, y2 - box.h * MM, x1 + box.w * MM, y2)
    del w
    image = Image.open(io.BytesIO(png))
    image.load()
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

    def sign(stamp: Any) -> bytes:
        meta = signers.PdfSignatureMetadata(
            field_name="Seal1", subfilter=fields.SigSeedSubFilter.PADES
        )
        pdf_signer = signers.PdfSigner(
            meta,
            signer=signer,
            stamp_style=stamp,
            new_field_spec=fields.SigFieldSpec("Seal1", on_page=box.page, box=rect),
        )
        return pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf))).getvalue()

    signed = sign(style)
    vc_args = {
        "trust_roots": [a_x509.Certificate.load(pki["root"])],
        "other_certs": [a_x509.Certificate.load(pki["city"])],
        "crls": pki["crls"],
        "allow_fetching": False,
        "revocation_mode": "hard-fail",
        "moment": AT,
    }

    shared = ValidationContext(**vc_args)

    def validate(vc: Any = None) -> None:
        vc = vc or ValidationContext(**vc_args)
        r = PdfFileReader(io.BytesIO(signed))
        st = validate_pdf_signature(r.embedded_signatures[0], vc)
        if not (st.intact and st.valid and st.trusted):
            raise RuntimeError(f"pyHanko rejects its own signature: {st}")

    return {
        "pyhanko_sign_per_s": rate(lambda: sign(style), seconds),
        "pyhanko_sign_text_stamp_per_s": rate(lambda: sign(None), seconds),
        "pyhanko_validate_per_s": rate(validate, seconds),
        "pyhanko_validate_warm_per_s": rate(lambda: validate(shared), seconds),
    }


# ---------------------------------------------------------------------------------- run


def run(seconds: float = 2.0, *, include_pyhanko: bool = True) -> dict[str, Any]:
    pdf, box = _document()
    png = _seal_image(box.w)
    result: dict[str, Any] = {
        "document": {
            "pages": 2,
            "bytes": len(pdf),
            "seal_box_mm": [box.page, box.x, box.y, box.w, box.h],
        },
        "seconds": seconds,
    }
    for name in ("GM", "INTL"):
        pki = _pki(name)
        sealer = Sealer(
            signer=pki["key"], cert_der=pki["cert"], chain=[pki["city"]], seal_image_png=png
        )
        sealed = sealer.seal(pdf, box=box, signing_time=SIGNED_AT)
        check = chain_check([pki["root"]], pki["crls"], [pki["city"]], cache=False)
        warm = chain_check([pki["root"]], pki["crls"], [pki["city"]])
        report = check_pdf(sealed, at=AT, signer_check=check)
        if report.verdict != "valid":
            raise RuntimeError(f"{name}: our own seal does not verify: {report.as_dict()}")
        k = name.lower()
        result[f"{k}_seal_per_s"] = rate(
            lambda s=sealer: s.seal(pdf, box=box, signing_time=SIGNED_AT), seconds
        )
        result[f"{k}_seal_pdf_per_s"] = rate(
            lambda p=pki: seal_pdf(
                pdf,
                signer=p["key"],
                cert_der=p["cert"],
                chain=[p["city"]],
                seal_image_png=png,
                box=box,
                signing_time=SIGNED_AT,
            ),
            seconds,
        )
        result[f"{k}_verify_per_s"] = rate(
            lambda d=sealed, c=check: check_pdf(d, at=AT, signer_check=c), seconds
        )
        result[f"{k}_verify_warm_per_s"] = rate(
            lambda d=sealed, c=warm: check_pdf(d, at=AT, signer_check=c), seconds
        )
        result[f"{k}_verify_no_chain_per_s"] = rate(lambda d=sealed: check_pdf(d, at=AT), seconds)
        if name == "INTL" and include_pyhanko:
            result.update(_pyhanko(pdf, box, png, pki, seconds))
    if include_pyhanko:
        ps, pv = result["pyhanko_sign_per_s"], result["pyhanko_validate_per_s"]
        result["ratios"] = {
            "intl_seal_vs_pyhanko_sign": result["intl_seal_per_s"] / ps,
            "gm_seal_vs_pyhanko_sign": result["gm_seal_per_s"] / ps,
            "intl_seal_pdf_vs_pyhanko_sign": result["intl_seal_pdf_per_s"] / ps,
            "intl_seal_vs_pyhanko_text_stamp": result["intl_seal_per_s"]
            / result["pyhanko_sign_text_stamp_per_s"],
            "intl_verify_vs_pyhanko_validate": result["intl_verify_per_s"] / pv,
            "gm_verify_vs_pyhanko_validate": result["gm_verify_per_s"] / pv,
            "intl_verify_warm_vs_pyhanko_warm": result["intl_verify_warm_per_s"]
            / result["pyhanko_validate_warm_per_s"],
            "gm_verify_warm_vs_pyhanko_warm": result["gm_verify_warm_per_s"]
            / result["pyhanko_validate_warm_per_s"],
        }
    return result


_ROWS = (
    ("gm_seal_per_s", "ours GM seal (SM2/SM3, Sealer)"),
    ("gm_seal_pdf_per_s", "ours GM seal_pdf (one-shot)"),
    ("gm_verify_per_s", "ours GM verify (+chain, CRL; cold)"),
    ("gm_verify_warm_per_s", "ours GM verify (+chain, CRL; warm)"),
    ("gm_verify_no_chain_per_s", "ours GM verify (no chain)"),
    ("intl_seal_per_s", "ours INTL seal (P-256, Sealer)"),
    ("intl_seal_pdf_per_s", "ours INTL seal_pdf (one-shot)"),
    ("intl_verify_per_s", "ours INTL verify (+chain, CRL; cold)"),
    ("intl_verify_warm_per_s", "ours INTL verify (+chain, CRL; warm)"),
    ("intl_verify_no_chain_per_s", "ours INTL verify (no chain)"),
    ("pyhanko_sign_per_s", "pyHanko sign P-256 (seal image)"),
    ("pyhanko_sign_text_stamp_per_s", "pyHanko sign P-256 (text stamp)"),
    ("pyhanko_validate_per_s", "pyHanko validate (+chain, CRL; cold)"),
    ("pyhanko_validate_warm_per_s", "pyHanko validate (+chain, CRL; warm)"),
)


def format_report(result: dict[str, Any]) -> str:
    doc = result["document"]
    lines = [
        f"2-page notice, {doc['bytes']} bytes, seal box {doc['seal_box_mm']} (page, x, y, w, h mm)",
        f"{'':38} {'docs/s':>10}",
    ]
    for key, label in _ROWS:
        if key in result:
            lines.append(f"{label:38} {result[key]:10.1f}")
    if "ratios" in result:
        goals = {"seal": 5.0, "verify": 1.0}
        lines.append("")
        lines.append(f"{'ratio ours/pyHanko':38} {'':>10}  goal")
        for key, value in result["ratios"].items():
            goal = goals["verify" if "verify" in key else "seal"]
            flag = "ok" if value >= goal else "BELOW"
            lines.append(f"{key:38} {value:10.2f}  ≥ {goal:g} {flag}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(
        argv,
        prog="gongwen bench seal",
        description="PDF sealing and verification, ours vs pyHanko",
        extra=lambda p: p.add_argument(
            "--no-pyhanko", action="store_true", help="skip the pyHanko figures"
        ),
    )
    result = run(args.seconds, include_pyhanko=not args.no_pyhanko)
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
