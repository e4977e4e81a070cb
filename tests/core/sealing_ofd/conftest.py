"""Fixtures for OFD sealing: a GM test PKI (root → city CA → seal maker and two unit-seal
certificates), seals made with the seal core, the seed notice rendered by the GB/T 9704 core
and sealed copies of it.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gongwen.documents.gbt9704 import FontSet, Issuer, layout_document, render_ofd
from gongwen.pki.crl import build_crl
from gongwen.pki.suites import get_suite
from gongwen.pki.x509 import create_root_ca, issue_certificate, make_name
from gongwen.sealing.ofd_seal import seal_ofd
from gongwen.seals.ses.image import SealImageSpec, SealLevel, seal_picture
from gongwen.seals.ses.seal import build_seal, chain_check, signer_from_key
from tests.core.gbt9704.seed_notice import seed_notice

GM = get_suite("GM")
ROOT = Path(__file__).resolve().parents[3]
VECTORS = Path("/work/shared/vectors")
if not VECTORS.is_dir():  # a checkout next to the shared directory
    VECTORS = ROOT.parent / "shared" / "vectors"
OFDS = VECTORS / "ofd"
CERTS = VECTORS / "certs"
needs_vectors = pytest.mark.skipif(not OFDS.is_dir(), reason="shared/vectors not present")
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl CLI")

UNIT_A = "连云港市人民政府办公室"
UNIT_B = "中共连云港市委办公室"
NB = datetime(2025, 1, 1, tzinfo=UTC)
SEAL_START = datetime(2025, 3, 1, tzinfo=UTC)
SEAL_END = datetime(2027, 3, 1, tzinfo=UTC)
SIGNED_AT = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
VERIFY_AT = datetime(2026, 3, 3, tzinfo=UTC)


@dataclass
class Unit:
    name: str
    key: Any
    cert: bytes
    seal: bytes


@dataclass
class PKI:
    root_key: Any
    root: bytes
    city_key: Any
    city: bytes
    maker_key: Any
    maker: bytes
    a: Unit
    b: Unit
    crls: list[bytes]

    def check(self, crls: list[bytes] | None = None):
        """maker/signer hook: chain to the root through the city CA, with CRLs."""
        return chain_check([self.root], [self.city], self.crls if crls is None else crls)


def unit_cert(city_key, city, name: str, **kw) -> tuple[Any, bytes]:
    key = GM.generate_key()
    cert = issue_certificate(
        profile="unit-seal",
        subject=make_name(name, organization=name),
        public_key=key,
        issuer_key=city_key,
        issuer_cert=city,
        not_before=kw.pop("not_before", NB),
        validity_days=kw.pop("validity_days", 1095),
        **kw,
    )
    return key, cert


def make_seal(pki_maker_key, maker: bytes, name: str, holders: list[bytes], es_id: str,
              picture: bytes | None = None, **kw) -> bytes:  # fmt: skip
    if picture is None:
        pic = seal_picture(SealImageSpec(name, SealLevel.DEPARTMENT))
        data, w = pic.data, pic.width_mm
    else:
        data, w = picture, 42
    return build_seal(
        es_id=es_id,
        name=name,
        holder_certs=holders,
        valid_start=kw.pop("valid_start", SEAL_START),
        valid_end=kw.pop("valid_end", SEAL_END),
        create_date=SEAL_START,
        picture_type="png",
        picture_data=data,
        picture_width_mm=w,
        picture_height_mm=w,
        maker_cert=maker,
        sign=signer_from_key(pki_maker_key),
        **kw,
    )


@pytest.fixture(scope="session")
def pki() -> PKI:
    root_key = GM.generate_key()
    root = create_root_ca(
        key=root_key, subject=make_name("gongwen 测试根CA"), not_before=NB, validity_days=7300
    )
    city_key = GM.generate_key()
    city = issue_certificate(
        profile="intermediate-ca",
        subject=make_name("连云港市电子公文CA（测试）"),
        public_key=city_key,
        issuer_key=root_key,
        issuer_cert=root,
        not_before=NB,
        validity_days=3650,
    )
    maker_key = GM.generate_key()
    maker = issue_certificate(
        profile="seal-maker",
        subject=make_name("连云港市人民政府办公室（制章）", organization=UNIT_A),
        public_key=maker_key,
        issuer_key=city_key,
        issuer_cert=city,
        not_before=NB,
        validity_days=1825,
    )
    a_key, a_cert = unit_cert(city_key, city, UNIT_A)
    b_key, b_cert = unit_cert(city_key, city, UNIT_B)
    a_seal = make_seal(maker_key, maker, UNIT_A, [a_cert], "320700000000000001")
    b_seal = make_seal(maker_key, maker, UNIT_B, [b_cert], "320700000000000002")
    crls = [
        build_crl(
            issuer_cert=root,
            issuer_key=root_key,
            crl_number=1,
            this_update=NB,
            next_update=datetime(2030, 1, 1, tzinfo=UTC),
        ),
        build_crl(
            issuer_cert=city,
            issuer_key=city_key,
            crl_number=1,
            this_update=NB,
            next_update=datetime(2030, 1, 1, tzinfo=UTC),
        ),
    ]
    return PKI(
        root_key,
        root,
        city_key,
        city,
        maker_key,
        maker,
        Unit(UNIT_A, a_key, a_cert, a_seal),
        Unit(UNIT_B, b_key, b_cert, b_seal),
        crls,
    )


@pytest.fixture(scope="session")
def fonts() -> FontSet:
    return FontSet.default()


@pytest.fixture(scope="session")
def notice_layout(fonts):
    """The seed notice (连政办发〔2006〕107号), full length with its attachment."""
    return layout_document(seed_notice(), fonts)


@pytest.fixture(scope="session")
def notice_ofd(notice_layout) -> bytes:
    return render_ofd(notice_layout)


@pytest.fixture(scope="session")
def joint_layout(fonts):
    """The notice issued jointly by two units (联合行文): two seal boxes."""
    doc = seed_notice(issuers=(Issuer(UNIT_A), Issuer(UNIT_B)), attachments=())
    return layout_document(doc, fonts)


@pytest.fixture(scope="session")
def joint_ofd(joint_layout) -> bytes:
    return render_ofd(joint_layout)


def seal_as(unit: Unit, ofd: bytes, box, when: datetime = SIGNED_AT, **kw) -> bytes:
    return seal_ofd(
        ofd,
        signer=unit.key,
        signer_cert_der=unit.cert,
        seal_der=unit.seal,
        box=box,
        signing_time=when,
        **kw,
    )


@pytest.fixture(scope="session")
def sealed(pki, notice_ofd, notice_layout) -> bytes:
    return seal_as(pki.a, notice_ofd, notice_layout.seals[0])


@pytest.fixture(scope="session")
def joint_first(pki, joint_ofd, joint_layout) -> bytes:
    """The joint notice after the first seal (unit A, first seal box)."""
    a_box = min(joint_layout.seals, key=lambda s: s.index)
    return seal_as(pki.a, joint_ofd, a_box)


@pytest.fixture(scope="session")
def joint_sealed(pki, joint_first, joint_layout) -> bytes:
    """Sealed in order: unit A on the first seal box, then unit B on the second."""
    b_box = max(joint_layout.seals, key=lambda s: s.index)
    return seal_as(pki.b, joint_first, b_box, datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def pem_cert(path: Path) -> bytes:
    from asn1crypto import pem

    _, _, der = pem.unarmor(path.read_bytes())
    return der
