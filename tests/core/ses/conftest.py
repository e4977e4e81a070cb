"""Fixtures for the seal core: a throw-away GM test PKI and the shared interop vectors."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import pem

from gongwen.pki.suites import get_suite, public_key_der
from gongwen.pki.x509 import create_root_ca, issue_certificate, make_name

ROOT = Path(__file__).resolve().parents[3]
VECTORS = Path("/work/shared/vectors")
if not VECTORS.is_dir():  # a checkout next to the shared directory
    VECTORS = ROOT.parent / "shared" / "vectors"

SEALS = VECTORS / "seals"
OFDS = VECTORS / "ofd"
CERTS = VECTORS / "certs"

needs_vectors = pytest.mark.skipif(not SEALS.is_dir(), reason="shared/vectors not present")
needs_openssl = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="openssl CLI not installed"
)

GM = get_suite("GM")


def pem_cert(path: Path) -> bytes:
    _, _, der = pem.unarmor(path.read_bytes())
    return der


def vector_seal(name: str) -> bytes:
    return (SEALS / name).read_bytes()


def ofd_member(ofd_name: str, member: str) -> bytes:
    with zipfile.ZipFile(OFDS / ofd_name) as z:
        return z.read(member)


@dataclass
class TestPKI:
    root_key: Any
    root_cert: bytes
    maker_key: Any
    maker_cert: bytes
    holder_key: Any
    holder_cert: bytes
    other_key: Any
    other_cert: bytes  # a second unit's seal certificate
    not_before: datetime


@pytest.fixture(scope="session")
def gm_pki() -> TestPKI:
    nb = datetime(2025, 1, 1, tzinfo=UTC)
    root_key = GM.generate_key()
    root = create_root_ca(
        key=root_key,
        subject=make_name("测试根CA", organization="gongwen 测试"),
        not_before=nb,
        validity_days=3650,
    )
    maker_key = GM.generate_key()
    maker = issue_certificate(
        profile="seal-maker",
        subject=make_name("连云港市人民政府办公室 制章", organization="连云港市人民政府办公室"),
        public_key=maker_key,
        issuer_key=root_key,
        issuer_cert=root,
        not_before=nb,
        validity_days=1825,
    )
    holder_key = GM.generate_key()
    holder = issue_certificate(
        profile="unit-seal",
        subject=make_name("连云港市人力资源和社会保障局", organization="连云港市人民政府"),
        public_key=holder_key,
        issuer_key=root_key,
        issuer_cert=root,
        not_before=nb,
        validity_days=1095,
    )
    other_key = GM.generate_key()
    other = issue_certificate(
        profile="unit-seal",
        subject=make_name("灌南县人民政府", organization="灌南县人民政府"),
        public_key=other_key,
        issuer_key=root_key,
        issuer_cert=root,
        not_before=nb,
        validity_days=1095,
    )
    return TestPKI(root_key, root, maker_key, maker, holder_key, holder, other_key, other, nb)


@pytest.fixture(scope="session")
def small_png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGBA", (8, 8), (230, 0, 18, 255)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="session")
def our_seal(gm_pki: TestPKI, small_png: bytes) -> bytes:
    from gongwen.seals.ses.seal import build_seal, signer_from_key

    return build_seal(
        es_id="320700000000000001",
        name="连云港市人力资源和社会保障局",
        holder_certs=[gm_pki.holder_cert],
        valid_start=datetime(2025, 3, 1, tzinfo=UTC),
        valid_end=datetime(2027, 3, 1, tzinfo=UTC),
        create_date=datetime(2025, 3, 1, 8, 30, tzinfo=UTC),
        picture_type="png",
        picture_data=small_png,
        picture_width_mm=42,
        picture_height_mm=42,
        maker_cert=gm_pki.maker_cert,
        sign=signer_from_key(gm_pki.maker_key),
    )


IN_VALIDITY = datetime(2026, 1, 1, tzinfo=UTC)


def openssl_sm2_verify(tmp_path: Path, public_key: Any, data: bytes, signature: bytes) -> bool:
    """``openssl pkeyutl -verify`` with SM3 and the default SM2 signer ID."""
    pub = tmp_path / "pub.pem"
    pub.write_bytes(pem.armor("PUBLIC KEY", public_key_der(public_key)))
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "sig").write_bytes(signature)
    proc = subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            str(pub),
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            "distid:1234567812345678",
            "-in",
            str(tmp_path / "data"),
            "-sigfile",
            str(tmp_path / "sig"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode == 0 and "Success" in proc.stdout


def flip_positions(length: int, *, dense_prefix: int = 160, samples: int = 400) -> list[int]:
    """Every byte of the first ``dense_prefix`` bytes and of the last 100, plus an even
    spread over the rest (deterministic)."""
    pos = set(range(min(dense_prefix, length)))
    pos.update(range(max(0, length - 100), length))
    step = max(1, length // samples)
    pos.update(range(0, length, step))
    return sorted(pos)


def later(dt: datetime, days: int) -> datetime:
    return dt + timedelta(days=days)
