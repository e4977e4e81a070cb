"""Benchmark: seal and verify a 2-page rendered notice as OFD (GB/T 38540 SES_Signature v4,
SM2/SM3), single process, documents per second.

Run ``python bench/bench_seal_ofd.py [--seconds 2] [--json]``; ``main(argv)`` and ``run()``
are what ``gongwen bench seal`` can call next to ``bench/bench_seal_pdf.py`` (which has the
pyHanko figures; pyHanko has no OFD counterpart). Nothing here is asserted in a test.

Figures, each for ``--seconds``:

* ``seal``: :func:`gongwen.sealing.ofd_seal.seal_ofd` — read the zip, digest every file,
  Signature.xml with the StampAnnot at the GB/T 9704 seal box, SES_Signature v4 (one SM2
  signature plus the builder's own check of it), new zip with untouched members copied raw;
* ``seal 2nd``: the second seal of a 联合行文 on the already sealed notice;
* ``verify``: :func:`gongwen.sealing.ofd_verify.check_ofd` without certificate hooks (SM3 of
  every referenced file, two SM2 verifications per signature: TBS_Sign and the seal);
* ``verify +chain``: with ``maker_check``/``signer_check`` = ``chain_check`` (root → city CA,
  CRLs; four more certificate signatures and two CRL signatures per signature, no cache);
* ``verify 2 seals``: the jointly sealed notice, without hooks.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import AT, SIGNED_AT, T0, ca_pair, parse_args, rate  # noqa: E402
from gongwen.sealing.ofd_seal import seal_ofd  # noqa: E402
from gongwen.sealing.ofd_verify import check_ofd  # noqa: E402
from gongwen.seals.ses.image import SealImageSpec, SealLevel, seal_picture  # noqa: E402
from gongwen.seals.ses.seal import build_seal, chain_check, signer_from_key  # noqa: E402

UNITS = ("连云港市人民政府办公室", "中共连云港市委办公室")


def _pki() -> dict[str, Any]:
    pki = ca_pair("GM")
    mk, maker = pki["issue"]("seal-maker", "bench 制章")
    units = []
    for i, name in enumerate(UNITS):
        key, cert = pki["issue"]("unit-seal", name, name)
        pic = seal_picture(SealImageSpec(name, SealLevel.DEPARTMENT))
        seal = build_seal(
            es_id=f"32070000000000000{i + 1}",
            name=name,
            holder_certs=[cert],
            valid_start=T0,
            valid_end=T0 + timedelta(days=730),
            create_date=T0,
            picture_type=pic.type,
            picture_data=pic.data,
            picture_width_mm=pic.width_mm,
            picture_height_mm=pic.height_mm,
            maker_cert=maker,
            sign=signer_from_key(mk),
        )
        units.append({"name": name, "key": key, "cert": cert, "seal": seal})
    return {"root": pki["root"], "city": pki["city"], "crls": pki["crls"], "units": units}


def _document() -> tuple[bytes, list[Any], int]:
    """The seed notice cut to two pages (as bench_render.py --two-page), issued jointly so
    that it has two seal boxes; its OFD."""
    from gongwen.documents.gbt9704 import FontSet, Issuer, layout_document, render_ofd
    from tests.core.gbt9704.seed_notice import seed_notice

    full = seed_notice()
    doc = seed_notice(attachments=(), body=full.body[:8], issuers=tuple(Issuer(n) for n in UNITS))
    layout = layout_document(doc, FontSet.default())
    return render_ofd(layout), sorted(layout.seals, key=lambda s: s.index), len(layout.pages)


def run(seconds: float = 2.0) -> dict[str, Any]:
    ofd, boxes, pages = _document()
    pki = _pki()
    a, b = pki["units"]

    def seal(unit: dict[str, Any], data: bytes, box: Any, when: datetime = SIGNED_AT) -> bytes:
        return seal_ofd(
            data,
            signer=unit["key"],
            signer_cert_der=unit["cert"],
            seal_der=unit["seal"],
            box=box,
            signing_time=when,
        )

    one = seal(a, ofd, boxes[0])
    two = seal(b, one, boxes[1], SIGNED_AT + timedelta(minutes=5))
    check = chain_check([pki["root"]], [pki["city"]], pki["crls"])
    for data, n in ((one, 1), (two, 2)):
        report = check_ofd(data, at=AT, maker_check=check, signer_check=check)
        if report.verdict != "valid" or len(report.signatures) != n:
            raise RuntimeError(f"our own seal does not verify: {report.as_dict()}")
    return {
        "document": {
            "pages": pages,
            "bytes": len(ofd),
            "sealed_bytes": len(one),
            "seal_box_mm": [boxes[0].page, boxes[0].x, boxes[0].y, boxes[0].w, boxes[0].h],
        },
        "seconds": seconds,
        "ofd_seal_per_s": rate(lambda: seal(a, ofd, boxes[0]), seconds),
        "ofd_seal_second_per_s": rate(
            lambda: seal(b, one, boxes[1], SIGNED_AT + timedelta(minutes=5)), seconds
        ),
        "ofd_verify_per_s": rate(lambda: check_ofd(one, at=AT), seconds),
        "ofd_verify_chain_per_s": rate(
            lambda: check_ofd(one, at=AT, maker_check=check, signer_check=check), seconds
        ),
        "ofd_verify_two_seals_per_s": rate(lambda: check_ofd(two, at=AT), seconds),
    }


_ROWS = (
    ("ofd_seal_per_s", "ours OFD seal (SM2/SM3, SES v4)"),
    ("ofd_seal_second_per_s", "ours OFD 2nd seal (joint issue)"),
    ("ofd_verify_per_s", "ours OFD verify (no chain)"),
    ("ofd_verify_chain_per_s", "ours OFD verify (+chain, CRL; cold)"),
    ("ofd_verify_two_seals_per_s", "ours OFD verify, 2 seals (no chain)"),
)


def format_report(result: dict[str, Any]) -> str:
    doc = result["document"]
    lines = [
        f"{doc['pages']}-page notice as OFD, {doc['bytes']} bytes ({doc['sealed_bytes']} sealed), "
        f"seal box {[round(v, 1) for v in doc['seal_box_mm']]} (page, x, y, w, h mm)",
        f"{'':38} {'docs/s':>10} {'ms/doc':>8}",
    ]
    for key, label in _ROWS:
        if key in result:
            lines.append(f"{label:38} {result[key]:10.1f} {1000 / result[key]:8.2f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(
        argv, prog="bench_seal_ofd", description="OFD sealing and verification throughput"
    )
    result = run(args.seconds)
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else format_report(result))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
