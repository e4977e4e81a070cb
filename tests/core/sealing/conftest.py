"""Fixtures for the PDF sealing core: a test PKI per suite, seal images, small PDFs.

PKI (gongwen.pki): root CA → city CA → unit-seal certificates (two units, one of them
revoked on the city CRL at ``REVOKED_AT``). Certificates from ``T0``; documents are sealed
at ``SIGNED_AT`` and checked at ``AT``; CRLs are current at ``AT``.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gongwen.pki import crl, suites, x509
from tests.core.pkifixtures import Issued, issue, issue_crl, new_root

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SIGNED_AT = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
AT = SIGNED_AT + timedelta(hours=1)
REVOKED_AT = datetime(2025, 3, 1, tzinfo=UTC)
CRL_BASE = "http://127.0.0.1:8000/pki/crl"


Holder = Issued  # a key and its certificate


@dataclass
class TestPKI:
    suite: suites.Suite
    root: Holder
    city: Holder
    unit: Holder  # 连云港市财政局 unit-seal
    other: Holder  # another unit's seal (for "signed by another unit")
    revoked: Holder  # a unit-seal certificate revoked at REVOKED_AT
    root_crl: bytes
    city_crl: bytes

    @property
    def chain(self) -> list[bytes]:
        return [self.city.cert]

    @property
    def crls(self) -> list[bytes]:
        return [self.root_crl, self.city_crl]


def _leaf(s: suites.Suite, cn: str, city: Holder) -> Holder:
    return issue(
        s,
        "unit-seal",
        x509.make_name(cn, organization=cn),
        city,
        not_before=T0,
        validity_days=3 * 365,
        crl_urls=f"{CRL_BASE}/city.crl",
    )


@functools.cache
def build_pki(suite_name: str) -> TestPKI:
    s = suites.get_suite(suite_name)
    root = new_root(s, x509.make_name("gongwen 测试根CA"), not_before=T0, validity_days=20 * 365)
    city = issue(
        s,
        "intermediate-ca",
        x509.make_name("连云港市电子公文CA", organization="连云港市人民政府办公室"),
        root,
        not_before=T0,
        validity_days=10 * 365,
        crl_urls=f"{CRL_BASE}/root.crl",
    )
    unit = _leaf(s, "连云港市财政局", city)
    other = _leaf(s, "连云港市教育局", city)
    revoked = _leaf(s, "连云港市审计局", city)
    serial = x509.load_certificate(revoked.cert)["tbs_certificate"]["serial_number"].native
    this, nxt = AT - timedelta(days=1), AT + timedelta(days=6)
    root_crl = issue_crl(root, this_update=this, next_update=nxt)
    city_crl = issue_crl(
        city,
        this_update=this,
        next_update=nxt,
        revoked=[crl.RevokedEntry(serial, REVOKED_AT, "key_compromise")],
    )
    return TestPKI(s, root, city, unit, other, revoked, root_crl, city_crl)


@pytest.fixture(scope="session", params=["GM", "INTL"])
def pki(request: pytest.FixtureRequest) -> TestPKI:
    return build_pki(request.param)


@pytest.fixture(scope="session")
def gm_pki() -> TestPKI:
    return build_pki("GM")


@pytest.fixture(scope="session")
def intl_pki() -> TestPKI:
    return build_pki("INTL")


@functools.cache
def seal_png() -> bytes:
    from gongwen.seals.ses.image import SealImageSpec, SealLevel, render_png

    return render_png(SealImageSpec(name="连云港市财政局", level=SealLevel.DEPARTMENT))


@pytest.fixture(scope="session")
def seal_image() -> bytes:
    return seal_png()


@functools.cache
def small_pdf_bytes() -> bytes:
    """A 2-page A4 PDF made with reportlab (classic cross-reference table)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    for i in range(2):
        c.setFont("Helvetica", 14)
        c.drawString(80, 760, f"gongwen sealing test page {i + 1}")
        for k in range(30):
            c.drawString(80, 720 - 20 * k, f"line {k} of the body text on page {i + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture(scope="session")
def small_pdf() -> bytes:
    return small_pdf_bytes()


@functools.cache
def notice_layout_and_pdf() -> tuple[Any, bytes]:
    """The seed notice cut to two pages (as bench/bench_render.py --two-page does)."""
    from gongwen.documents.gbt9704 import FontSet, layout_document, render_pdf
    from tests.core.gbt9704.seed_notice import seed_notice

    full = seed_notice()
    doc = seed_notice(attachments=(), body=full.body[:10])
    layout = layout_document(doc, FontSet.default())
    return layout, render_pdf(layout)


@pytest.fixture(scope="session")
def notice() -> tuple[Any, bytes]:
    return notice_layout_and_pdf()


BOX = (1, 120.0, 200.0, 42.0, 42.0)  # page 2, 42 mm seal
BOX2 = (1, 40.0, 200.0, 42.0, 42.0)


def seal(pdf: bytes, holder: Holder, pki: TestPKI, **kw: Any) -> bytes:
    from gongwen.sealing.pdf import seal_pdf

    kw.setdefault("box", BOX)
    kw.setdefault("seal_image_png", seal_png())
    kw.setdefault("signing_time", SIGNED_AT)
    return seal_pdf(pdf, signer=holder.key, cert_der=holder.cert, chain=pki.chain, **kw)
