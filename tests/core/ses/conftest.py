"""Fixtures for the seal core: a throw-away GM test PKI and the shared interop vectors."""

from __future__ import annotations

import subprocess
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import pem

from gongwen.pki.suites import get_suite, public_key_der
from gongwen.pki.x509 import make_name
from tests.core.pkifixtures import VECTORS, issue, new_root
from tests.core.pkifixtures import needs_openssl as needs_openssl  # re-exported
from tests.core.pkifixtures import pem_cert as pem_cert  # re-exported

SEALS = VECTORS / "seals"
OFDS = VECTORS / "ofd"
CERTS = VECTORS / "certs"

needs_vectors = pytest.mark.skipif(not SEALS.is_dir(), reason="shared/vectors not present")

GM = get_suite("GM")


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
    root = new_root(
        GM, make_name("测试根CA", organization="gongwen 测试"), not_before=nb, validity_days=3650
    )
    maker = issue(
        GM,
        "seal-maker",
        make_name("连云港市人民政府办公室 制章", organization="连云港市人民政府办公室"),
        root,
        not_before=nb,
        validity_days=1825,
    )
    holder = issue(
        GM,
        "unit-seal",
        make_name("连云港市人力资源和社会保障局", organization="连云港市人民政府"),
        root,
        not_before=nb,
        validity_days=1095,
    )
    other = issue(
        GM,
        "unit-seal",
        make_name("灌南县人民政府", organization="灌南县人民政府"),
        root,
        not_before=nb,
        validity_days=1095,
    )
    return TestPKI(
        root.key, root.cert, maker.key, maker.cert, holder.key, holder.cert,
        other.key, other.cert, nb,
    )  # fmt: skip


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
