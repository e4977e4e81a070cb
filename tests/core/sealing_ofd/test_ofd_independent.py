"""Our sealed OFDs in independent verifiers, and the verifiers against the shared vectors.

1. ``independent.py``: a test-only verifier written from the standards (lxml, asn1crypto,
   hashlib SM3, gmssl SM2 arithmetic, ``openssl pkeyutl``), importing nothing from gongwen.
2. ofd.js 0.2.6 (DLTech21) — its own signature code run headless in node; set it up with
   ``sh tests/core/sealing_ofd/ofdjs/setup.sh`` (npm, into /tmp); skipped when absent. ofd.js
   checks the reference digests and the SES_Signature's SM2 signature (not the seal maker's
   signature, the seal validity or dataHash), so it is a second opinion on those two only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gongwen.sealing.ofd_verify import check_ofd

from . import independent
from .conftest import (
    OFDS,
    UNIT_A,
    UNIT_B,
    VERIFY_AT,
    Unit,
    make_seal,
    needs_openssl,
    needs_vectors,
    rezip,
    seal_as,
    unzip,
)

OFDJS = Path(os.environ.get("GONGWEN_OFDJS_DIR", "/tmp/gongwen-ofdjs")) / "harness" / "verify.mjs"
_no_ofdjs = pytest.mark.skipif(
    shutil.which("node") is None or not OFDJS.is_file(),
    reason="ofd.js harness not installed: sh tests/core/sealing_ofd/ofdjs/setup.sh",
)


def needs_ofdjs(fn):
    """ofd.js tests: skipped without the harness; slow (ofd.js hashes in pure JS)."""
    return pytest.mark.slow(_no_ofdjs(fn))


@pytest.fixture(scope="module")
def small_joint(pki, fonts) -> tuple[bytes, bytes]:
    """A one-page joint notice with tiny seal pictures, once and twice sealed: ofd.js hashes
    with a string-based SM3 (about 1 s per 10 kB), so the full notice takes minutes."""
    import io

    from PIL import Image

    from gongwen.documents.gbt9704 import Issuer, layout_document, render_ofd
    from tests.core.gbt9704.seed_notice import seed_notice

    buf = io.BytesIO()
    Image.new("RGBA", (8, 8), (230, 0, 18, 255)).save(buf, format="PNG")
    png = buf.getvalue()
    units = [
        Unit(u.name, u.key, u.cert, make_seal(pki.maker_key, pki.maker, u.name, [u.cert], es, png))
        for u, es in ((pki.a, "320700000000000011"), (pki.b, "320700000000000012"))
    ]
    doc = seed_notice(
        issuers=(Issuer(UNIT_A), Issuer(UNIT_B)),
        title="关于电子公文试运行的通知",
        body=seed_notice().body[:1],
        attachments=(),
        copy_to=(),
    )
    layout = layout_document(doc, fonts)
    boxes = sorted(layout.seals, key=lambda b: b.index)
    one = seal_as(units[0], render_ofd(layout), boxes[0])
    return one, seal_as(units[1], one, boxes[1])


def ofdjs(data: bytes, tmp_path: Path) -> list[dict]:
    f = tmp_path / "doc.ofd"
    f.write_bytes(data)
    proc = subprocess.run(
        ["node", str(OFDJS), str(f)], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------- the independent verifier


def test_independent_sm2_matches_the_standard_example():
    """GB/T 32918.5 Annex A (STANDARDS.md §5): the verifier's Z/e and gmssl arithmetic."""
    point = bytes.fromhex(
        "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
        "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
    )
    assert independent.sm2_e(point, b"message digest").hex().upper() == (
        "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640"
    )
    r = int("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3", 16)
    s = int("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA", 16)
    from asn1crypto import core

    class RS(core.Sequence):
        _fields = [("r", core.Integer), ("s", core.Integer)]

    der = RS({"r": r, "s": s}).dump()
    assert independent.sm2_verify_gmssl(point, b"message digest", der)
    assert not independent.sm2_verify_gmssl(point, b"message digesT", der)


def test_independent_verifier_accepts_our_seal(sealed):
    (v,) = independent.verify(sealed)
    assert v.ok, v.failures
    assert v.seal_name == "连云港市人民政府办公室"


def test_independent_verifier_accepts_joint_seals(joint_sealed, pki):
    verdicts = independent.verify(joint_sealed)
    assert [(v.id, v.ok, v.seal_name) for v in verdicts] == [
        ("s001", True, pki.a.name),
        ("s003", True, pki.b.name),
    ]


@needs_openssl
def test_openssl_cli_verifies_both_sm2_signatures(joint_sealed):
    for v in independent.verify(joint_sealed, use_openssl=True):
        assert v.ok and v.openssl is True


def test_independent_verifier_rejects_tampering(sealed):
    files = unzip(sealed)
    page = "Doc_0/Pages/Page_0/Content.xml"
    bad = dict(files, **{page: files[page].replace("连云港".encode(), "连云湾".encode(), 1)})
    (v,) = independent.verify(rezip(bad))
    assert v.failures == [f"reference {page}"]
    sv = "Doc_0/Signs/Sign_0/SignedValue.dat"
    b = bytearray(files[sv])
    b[-5] ^= 1  # inside the SM2 signature value
    (v,) = independent.verify(rezip(dict(files, **{sv: bytes(b)})))
    assert "signature over TBS_Sign" in v.failures


@needs_vectors
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gomain_test_invoice_v4signed.ofd", [("1", True)]),
        ("ofdrw_allprotected.ofd", [("001", True)]),
        ("ofdrw_riding_seal_V4RideRight.ofd", [("s001", True)]),
        ("ofdrw_two_seals_h.ofd", [("s001", False), ("s007", True)]),
        ("ofdrw_expired_seal_SESV4SignDoc.ofd", [("1", False)]),
        ("dms360_v1_gongwen_n.ofd", [("0", False)]),  # v1, re-saved XML: not valid
    ],
)
def test_both_verifiers_agree_on_the_vectors(name, expected):
    data = (OFDS / name).read_bytes()
    assert [(v.id, v.ok) for v in independent.verify(data)] == expected
    ours = check_ofd(data, at=VERIFY_AT)
    assert [(s.id, s.ok) for s in ours.signatures] == expected


# ------------------------------------------------------------------------------------ ofd.js


@needs_ofdjs
def test_ofdjs_verifies_our_joint_seals(small_joint, tmp_path):
    """Both seals of a 联合行文 (the first one after the second was added) in ofd.js."""
    out = ofdjs(small_joint[1], tmp_path)
    assert out == [
        {"id": "s001", "verifyRet": True, "digest": True, "stampAnnot": True, "sealName": UNIT_A},
        {"id": "s003", "verifyRet": True, "digest": True, "stampAnnot": True, "sealName": UNIT_B},
    ]
    assert all(v.ok for v in independent.verify(small_joint[1]))


@needs_ofdjs
def test_ofdjs_sees_tampering(small_joint, tmp_path):
    files = unzip(small_joint[0])
    page = "Doc_0/Pages/Page_0/Content.xml"
    bad = dict(files, **{page: files[page].replace("连云港".encode(), "连云湾".encode(), 1)})
    (r,) = ofdjs(rezip(bad), tmp_path)
    assert r["digest"] is False and r["verifyRet"] is True


@needs_ofdjs
@needs_vectors
def test_ofdjs_on_the_vectors(tmp_path):
    """ofd.js's two checks reproduce the SOURCES.md facts it can see."""
    names = [
        "ofdrw_allprotected.ofd",
        "gomain_test_invoice_v4signed.ofd",
        "ofdrw_two_seals_h.ofd",
        "dms360_v1_gongwen_n.ofd",
    ]
    got = {
        n: [
            (r["id"], r["verifyRet"], r["digest"]) for r in ofdjs((OFDS / n).read_bytes(), tmp_path)
        ]
        for n in names
    }
    assert got["ofdrw_allprotected.ofd"] == [("001", True, True)]
    assert got["gomain_test_invoice_v4signed.ofd"] == [("1", True, True)]
    assert got["ofdrw_two_seals_h.ofd"] == [("s001", True, False), ("s007", True, True)]
    assert got["dms360_v1_gongwen_n.ofd"] == [("0", False, False)]
