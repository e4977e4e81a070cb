"""A second, test-only OFD seal-signature verifier, written from the standards' text
(GB/T 33190-2016 §18, GB/T 38540-2020 §7.3, GB/T 32918.2 / GB/T 35276 for SM2) and
STANDARDS.md §1–§2 — **not** from gongwen's code: it imports nothing from ``gongwen``.

Tools: ``zipfile`` + ``lxml`` for the package, ``asn1crypto`` (its own ASN.1 classes below,
typed from the standard's module), ``hashlib`` SM3 (OpenSSL), ``gmssl`` for the SM2 curve
arithmetic (Z_A and e computed here), and optionally the ``openssl pkeyutl`` CLI as a third
SM2 implementation. Strict: v4 only, DER signatures, CheckMethod SM3 or its OID.
"""

from __future__ import annotations

import base64
import hashlib
import io
import posixpath
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import core, pem
from asn1crypto import x509 as ax
from lxml import etree

from tests.tools import gmssl_sm2

OFD = "http://www.ofdspec.org/2016"
N = {"o": OFD}
SM3WITHSM2 = "1.2.156.10197.1.501"


def sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


# ---- GB/T 38540-2020 ASN.1 (v4), typed from the standard -----------------------------------


class Header(core.Sequence):
    _fields = [("ID", core.IA5String), ("version", core.Integer), ("Vid", core.IA5String)]


class CertList(core.SequenceOf):
    _child_spec = core.OctetString


class PropertyInfo(core.Sequence):
    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("certListType", core.Integer),
        ("certList", CertList),  # certListType 1; type 2 (digests) is not accepted here
        ("createDate", core.GeneralizedTime),
        ("validStart", core.GeneralizedTime),
        ("validEnd", core.GeneralizedTime),
    ]


class PictureInfo(core.Sequence):
    _fields = [
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class SealInfo(core.Sequence):
    _fields = [
        ("header", Header),
        ("esID", core.IA5String),
        ("property", PropertyInfo),
        ("picture", PictureInfo),
        ("extDatas", core.Any, {"optional": True}),
    ]


class SESeal(core.Sequence):
    _fields = [
        ("eSealInfo", SealInfo),
        ("cert", core.OctetString),
        ("signAlgID", core.ObjectIdentifier),
        ("signedValue", core.BitString),
    ]


class TBSSign(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("eseal", SESeal),
        ("timeInfo", core.GeneralizedTime),
        ("dataHash", core.BitString),
        ("propertyInfo", core.IA5String),
        ("extDatas", core.Any, {"explicit": 0, "optional": True}),
    ]


class SESSignature(core.Sequence):
    _fields = [
        ("toSign", TBSSign),
        ("cert", core.OctetString),
        ("signatureAlgID", core.ObjectIdentifier),
        ("signature", core.BitString),
        ("timeStamp", core.BitString, {"explicit": 0, "optional": True}),
    ]


# ---- SM2 (GB/T 32918.2-2016 §6, §5.5; default ID per GB/T 35276) --------------------------

_A = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"
_B = "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"
_GX = "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
_GY = "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"
_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
USER_ID = b"1234567812345678"


def cert_point(cert_der: bytes) -> bytes:
    """x‖y (64 bytes) of the SM2 key in an X.509 certificate."""
    spki = ax.Certificate.load(cert_der)["tbs_certificate"]["subject_public_key_info"]
    point = bytes(spki["public_key"].native)
    assert len(point) == 65 and point[0] == 4, "uncompressed SM2 point expected"
    return point[1:]


def sm2_e(point: bytes, message: bytes) -> bytes:
    za = sm3(
        (len(USER_ID) * 8).to_bytes(2, "big") + USER_ID + bytes.fromhex(_A + _B + _GX + _GY) + point
    )
    return sm3(za + message)


def sm2_verify_gmssl(point: bytes, message: bytes, der_sig: bytes) -> bool:
    seq = core.Sequence.load(der_sig)
    if seq.dump() != der_sig or len(seq) != 2:
        return False
    r, s = (core.Integer.load(seq[i].dump()).native for i in (0, 1))
    if not (1 <= r < _N and 1 <= s < _N):
        return False
    return bool(gmssl_sm2(point.hex()).verify(f"{r:064x}{s:064x}", sm2_e(point, message)))


def sm2_verify_openssl(point: bytes, message: bytes, der_sig: bytes) -> bool | None:
    """``openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:…``; None if no CLI."""
    if shutil.which("openssl") is None:
        return None
    spki = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200") + b"\x04" + point
    with tempfile.TemporaryDirectory() as d:
        p = Path(d)
        (p / "pub.pem").write_bytes(pem.armor("PUBLIC KEY", spki))
        (p / "msg").write_bytes(message)
        (p / "sig").write_bytes(der_sig)
        proc = subprocess.run(
            [
                "openssl",
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                str(p / "pub.pem"),
                "-rawin",
                "-digest",
                "sm3",
                "-pkeyopt",
                "distid:1234567812345678",
                "-in",
                str(p / "msg"),
                "-sigfile",
                str(p / "sig"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    return proc.returncode == 0 and "Signature Verified Successfully" in proc.stdout


# ---- the package -----------------------------------------------------------------------------


def _loc(base_dir: str, loc: str) -> str:
    loc = loc.strip()
    path = loc if loc.startswith("/") else posixpath.join("/" + base_dir, loc)
    return posixpath.normpath(path).lstrip("/")


@dataclass
class Verdict:
    id: str
    failures: list[str] = field(default_factory=list)
    seal_name: str = ""
    openssl: bool | None = None  # both SM2 signatures also verified by the OpenSSL CLI

    @property
    def ok(self) -> bool:
        return not self.failures


def verify(ofd: bytes, *, use_openssl: bool = False) -> list[Verdict]:
    with zipfile.ZipFile(io.BytesIO(ofd)) as z:
        names = [i.filename for i in z.infolist() if not i.is_dir()]
        assert len(set(names)) == len(names), "duplicate zip members"
        files = {n: z.read(n) for n in names}
    root = etree.fromstring(files["OFD.xml"])
    assert root.tag == f"{{{OFD}}}OFD"
    out: list[Verdict] = []
    for body in root.findall("o:DocBody", N):
        doc_path = _loc("", body.findtext("o:DocRoot", namespaces=N))
        doc = etree.fromstring(files[doc_path])
        page_ids = {p.get("ID") for p in doc.findall("o:Pages/o:Page", N)}
        list_loc = body.findtext("o:Signatures", namespaces=N)
        if not list_loc:
            continue
        list_path = _loc("", list_loc)
        sigs = etree.fromstring(files[list_path])
        assert sigs.tag == f"{{{OFD}}}Signatures"
        for entry in sigs.findall("o:Signature", N):
            out.append(_one(files, entry, posixpath.dirname(list_path), page_ids, use_openssl))
    return out


def _one(files, entry, list_dir, page_ids, use_openssl) -> Verdict:
    v = Verdict(entry.get("ID", ""))
    fail = v.failures.append
    if entry.get("Type", "Seal") != "Seal":
        fail("not a seal signature")
        return v
    sig_path = _loc(list_dir, entry.get("BaseLoc", ""))
    sig_xml = files.get(sig_path)
    if sig_xml is None:
        fail("Signature.xml missing")
        return v
    sig = etree.fromstring(sig_xml)
    sig_dir = posixpath.dirname(sig_path)
    info = sig.find("o:SignedInfo", N)
    if info.findtext("o:SignatureMethod", namespaces=N) != SM3WITHSM2:
        fail("SignatureMethod")
    refs = info.find("o:References", N)
    if (refs.get("CheckMethod") or "").strip().lower() not in ("sm3", "1.2.156.10197.1.401"):
        fail("CheckMethod")
    for ref in refs.findall("o:Reference", N):
        path = _loc(sig_dir, ref.get("FileRef", ""))
        want = base64.b64decode(ref.findtext("o:CheckValue", namespaces=N).strip())
        if path not in files or sm3(files[path]) != want:
            fail(f"reference {path}")
    annots = info.findall("o:StampAnnot", N)
    if not annots or any(a.get("PageRef") not in page_ids for a in annots):
        fail("StampAnnot")
    sv = files.get(_loc(sig_dir, sig.findtext("o:SignedValue", namespaces=N)))
    if sv is None:
        fail("SignedValue missing")
        return v
    try:
        ses = SESSignature.load(sv, strict=True)
        tbs = ses["toSign"]
        seal = tbs["eseal"]
        seal_info = seal["eSealInfo"]
        prop = seal_info["property"]
        _ = ses.native  # parse everything
    except (ValueError, TypeError) as exc:
        fail(f"SES_Signature does not parse as v4: {exc}")
        return v
    v.seal_name = prop["name"].native
    if tbs["version"].native != 4 or seal_info["header"]["version"].native != 4:
        fail("version")
    if ses["signatureAlgID"].dotted != SM3WITHSM2 or seal["signAlgID"].dotted != SM3WITHSM2:
        fail("algorithm")
    signer = ses["cert"].native
    maker = seal["cert"].native
    tbs_der, info_der = tbs.dump(), seal_info.dump()  # as received (asn1crypto keeps bytes)
    sig_value = ses["signature"].contents[1:]
    seal_value = seal["signedValue"].contents[1:]
    if not sm2_verify_gmssl(cert_point(signer), tbs_der, sig_value):
        fail("signature over TBS_Sign")
    if not sm2_verify_gmssl(cert_point(maker), info_der, seal_value):
        fail("seal maker signature")
    if use_openssl:
        v.openssl = bool(
            sm2_verify_openssl(cert_point(signer), tbs_der, sig_value)
            and sm2_verify_openssl(cert_point(maker), info_der, seal_value)
        )
    if tbs["dataHash"].contents[1:] != sm3(sig_xml):
        fail("dataHash")
    if tbs["propertyInfo"].native != "/" + sig_path:
        fail("propertyInfo")
    if prop["certListType"].native != 1 or signer not in [c.native for c in prop["certList"]]:
        fail("signer not in the seal's certList")
    t = tbs["timeInfo"].native
    if not prop["validStart"].native <= t <= prop["validEnd"].native:
        fail("signed outside the seal's validity")
    if t > datetime.now(UTC):
        fail("signed in the future")
    seal_loc = info.findtext("o:Seal/o:BaseLoc", namespaces=N)
    if seal_loc and files.get(_loc(sig_dir, seal_loc)) != seal.dump():
        fail("Seal.esl differs from the embedded seal")
    return v
