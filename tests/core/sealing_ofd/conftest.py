"""Fixtures for OFD sealing: a GM test PKI (root → city CA → seal maker and two unit-seal
certificates), seals made with the seal core, the seed notice rendered by the GB/T 9704 core
and sealed copies of it.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from gongwen.documents.gbt9704 import FontSet, Issuer, layout_document, render_ofd
from gongwen.pki.suites import get_suite
from gongwen.pki.x509 import make_name
from gongwen.sealing.ofd_seal import seal_ofd
from gongwen.seals.ses.image import SealImageSpec, SealLevel, seal_picture
from gongwen.seals.ses.seal import build_seal, chain_check, signer_from_key
from tests.core.gbt9704.seed_notice import seed_notice
from tests.core.pkifixtures import VECTORS, Issued, issue, issue_crl, new_root
from tests.core.pkifixtures import needs_openssl as needs_openssl  # re-exported
from tests.core.pkifixtures import pem_cert as pem_cert  # re-exported

GM = get_suite("GM")
OFDS = VECTORS / "ofd"
CERTS = VECTORS / "certs"
needs_vectors = pytest.mark.skipif(not OFDS.is_dir(), reason="shared/vectors not present")

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
    unit = issue(
        GM,
        "unit-seal",
        make_name(name, organization=name),
        Issued(city_key, city),
        not_before=kw.pop("not_before", NB),
        validity_days=kw.pop("validity_days", 1095),
        **kw,
    )
    return unit.key, unit.cert


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
    root = new_root(GM, make_name("gongwen 测试根CA"), not_before=NB, validity_days=7300)
    city = issue(
        GM,
        "intermediate-ca",
        make_name("连云港市电子公文CA（测试）"),
        root,
        not_before=NB,
        validity_days=3650,
    )
    maker = issue(
        GM,
        "seal-maker",
        make_name("连云港市人民政府办公室（制章）", organization=UNIT_A),
        city,
        not_before=NB,
        validity_days=1825,
    )
    a_key, a_cert = unit_cert(city.key, city.cert, UNIT_A)
    b_key, b_cert = unit_cert(city.key, city.cert, UNIT_B)
    a_seal = make_seal(maker.key, maker.cert, UNIT_A, [a_cert], "320700000000000001")
    b_seal = make_seal(maker.key, maker.cert, UNIT_B, [b_cert], "320700000000000002")
    until = datetime(2030, 1, 1, tzinfo=UTC)
    crls = [
        issue_crl(root, this_update=NB, next_update=until),
        issue_crl(city, this_update=NB, next_update=until),
    ]
    return PKI(
        root.key,
        root.cert,
        city.key,
        city.cert,
        maker.key,
        maker.cert,
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

