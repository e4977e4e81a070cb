"""SM2 signatures across implementations, and property tests of both suites.

Ours (tongsuopy) ↔ gmssl (pure Python) ↔ ``openssl pkeyutl`` (OpenSSL 3.0): each side
signs, the others verify, always with signer ID 1234567812345678 and SM3.
"""

from __future__ import annotations

import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tongsuopy.crypto.asymciphers import ec as gm_ec

from gongwen.pki import suites
from gongwen.pki.errors import InvalidSignature, MalformedInput, UnsupportedAlgorithm
from tests.tools import gmssl_sm2, needs_tool, run_tool

from .conftest import VECTORS

SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
DISTID = "distid:1234567812345678"


def _xy_hex(key) -> str:
    n = suites._as_public(key).public_numbers()
    return f"{n.x:064x}{n.y:064x}"


def _pem_public(key) -> bytes:
    from asn1crypto import pem

    return pem.armor("PUBLIC KEY", suites.public_key_der(key))


def _pem_private(key) -> bytes:
    from asn1crypto import pem

    return pem.armor("PRIVATE KEY", suites.private_key_pkcs8_der(key))


# ------------------------------------------------------------------------------- gmssl


def test_our_signatures_verify_in_gmssl(sm2_key):
    crypt = gmssl_sm2(_xy_hex(sm2_key))
    for msg in (b"", b"gongwen", "关于印发《电子公文传输管理办法》的通知".encode(), bytes(300)):
        raw = suites.sm2_signature_to_raw(suites.GM.sign(sm2_key, msg))
        assert crypt.verify_with_sm3(raw.hex(), msg)
        assert not crypt.verify_with_sm3(raw.hex(), msg + b"!")


def test_gmssl_signatures_verify_in_ours(sm2_key):
    d = f"{sm2_key.private_numbers().private_value:064x}"
    crypt = gmssl_sm2(_xy_hex(sm2_key), d)
    for msg in (b"x", "签收回执".encode()):
        raw = bytes.fromhex(crypt.sign_with_sm3(msg))
        suites.GM.verify(sm2_key.public_key(), msg, raw)  # raw r||s as gmssl returns it
        suites.GM.verify(sm2_key.public_key(), msg, suites.sm2_signature_from_raw(raw))
        crypt.asn1 = True
        der = bytes.fromhex(crypt.sign_with_sm3(msg))
        crypt.asn1 = False
        suites.GM.verify(sm2_key.public_key(), msg, der)


@settings(
    max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(d=st.integers(1, SM2_N - 2), msg=st.binary(max_size=200))
def test_property_ours_and_gmssl_agree(d, msg):
    """A smaller property run against gmssl (≈100 verifications/s)."""
    key = gm_ec.derive_private_key(d, gm_ec.SM2())
    crypt = gmssl_sm2(_xy_hex(key), f"{d:064x}")
    ours = suites.sm2_signature_to_raw(suites.GM.sign(key, msg))
    assert crypt.verify_with_sm3(ours.hex(), msg)
    theirs = bytes.fromhex(crypt.sign_with_sm3(msg))
    suites.GM.verify(key.public_key(), msg, theirs)


# ----------------------------------------------------------------------------- openssl


@needs_tool("openssl")
def test_our_signature_verifies_in_openssl_pkeyutl(tmp_path, sm2_key):
    msg = "连云港市人民政府办公室 签章".encode()
    (tmp_path / "pub.pem").write_bytes(_pem_public(sm2_key))
    (tmp_path / "data").write_bytes(msg)
    (tmp_path / "sig").write_bytes(suites.GM.sign(sm2_key, msg))
    args = [
        "openssl",
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        tmp_path / "pub.pem",
        "-rawin",
        "-digest",
        "sm3",
        "-pkeyopt",
        DISTID,
        "-in",
        tmp_path / "data",
        "-sigfile",
        tmp_path / "sig",
    ]
    assert b"Signature Verified Successfully" in run_tool(args).stdout
    (tmp_path / "data").write_bytes(msg + b"x")
    assert run_tool(args, check=False).returncode != 0


@needs_tool("openssl")
def test_openssl_signature_verifies_in_ours(tmp_path):
    run_tool(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:SM2",
            "-out",
            tmp_path / "key.pem",
        ]
    )
    key = suites.load_private_key((tmp_path / "key.pem").read_bytes())
    assert suites.key_algorithm(key) == "SM2"
    msg = b"signed by openssl pkeyutl"
    (tmp_path / "data").write_bytes(msg)
    run_tool(
        [
            "openssl",
            "pkeyutl",
            "-sign",
            "-inkey",
            tmp_path / "key.pem",
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            DISTID,
            "-in",
            tmp_path / "data",
            "-out",
            tmp_path / "sig",
        ]
    )
    sig = (tmp_path / "sig").read_bytes()
    suites.GM.verify(key.public_key(), msg, sig)
    run_tool(
        ["openssl", "pkey", "-in", tmp_path / "key.pem", "-pubout", "-out", tmp_path / "pub.pem"]
    )
    suites.GM.verify(suites.load_public_key((tmp_path / "pub.pem").read_bytes()), msg, sig)
    with pytest.raises(InvalidSignature):
        suites.GM.verify(key.public_key(), msg + b"x", sig)


@needs_tool("openssl")
def test_our_private_key_signs_in_openssl(tmp_path, sm2_key):
    (tmp_path / "key.pem").write_bytes(_pem_private(sm2_key))
    (tmp_path / "data").write_bytes(b"abc")
    run_tool(
        [
            "openssl",
            "pkeyutl",
            "-sign",
            "-inkey",
            tmp_path / "key.pem",
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            DISTID,
            "-in",
            tmp_path / "data",
            "-out",
            tmp_path / "sig",
        ]
    )
    suites.GM.verify(sm2_key.public_key(), b"abc", (tmp_path / "sig").read_bytes())


# ------------------------------------------------------------ other implementations' data


def test_ofdrw_bouncycastle_signature_verifies_with_its_certificate():
    """ofdrw (BouncyCastle) signed Signature.xml with a bare DER SM2 signature; the
    algorithm is picked from the certificate's key."""
    ofd = VECTORS / "ofd" / "ofdrw_bare_sm2_DigitalSign.ofd"
    cert = VECTORS / "certs" / "ofdrw_USER.crt.pem"
    if not ofd.exists() or not cert.exists():
        pytest.skip("shared/vectors not present")
    with zipfile.ZipFile(ofd) as z:
        data = z.read("Doc_0/Signs/Sign_0/Signature.xml")
        sig = z.read("Doc_0/Signs/Sign_0/SignedValue.dat")
    suites.verify_with_certificate(cert.read_bytes(), data, sig)
    suites.verify_with_certificate(cert.read_bytes(), data, suites.sm2_signature_to_raw(sig))
    with pytest.raises(InvalidSignature):
        suites.verify_with_certificate(cert.read_bytes(), data + b" ", sig)


# ------------------------------------------------------------------------ property tests


@settings(
    max_examples=1000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    d=st.integers(1, SM2_N - 2),
    msg=st.binary(max_size=512),
    flip=st.integers(0, 10_000),
)
def test_property_sm2_roundtrip_and_tamper(d, msg, flip):
    """≥ 1,000 random keys and messages: sign/verify round-trips in DER and raw form; a
    flipped message bit or signature bit fails."""
    key = gm_ec.derive_private_key(d, gm_ec.SM2())
    pub = key.public_key()
    sig = suites.GM.sign(key, msg)
    assert 8 <= len(sig) <= 72 and sig[0] == 0x30
    suites.GM.verify(pub, msg, sig)
    suites.GM.verify(pub, msg, suites.sm2_signature_to_raw(sig))

    tampered = bytearray(msg or b"\x00")
    bit = flip % (len(tampered) * 8)
    tampered[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(InvalidSignature):
        suites.GM.verify(pub, bytes(tampered) if msg else b"\x00", sig)

    raw = bytearray(suites.sm2_signature_to_raw(sig))
    raw[flip % 64] ^= 1 << (flip % 8)
    with pytest.raises(InvalidSignature):
        suites.GM.verify(pub, msg, bytes(raw))


@pytest.fixture(scope="module")
def intl_keys():
    return [suites.INTL.generate_key("ec-p256"), suites.INTL.generate_key("rsa-3072")]


@settings(max_examples=100, deadline=None, database=None)
@given(msg=st.binary(max_size=256), which=st.integers(0, 1))
def test_property_intl_roundtrip_and_tamper(intl_keys, msg, which):
    key = intl_keys[which]
    sig = suites.INTL.sign(key, msg)
    suites.INTL.verify(key.public_key(), msg, sig)
    with pytest.raises(InvalidSignature):
        suites.INTL.verify(key.public_key(), msg + b"\x01", sig)


# ------------------------------------------------------------------------ suite interface


def test_get_suite_names_and_default():
    assert suites.get_suite().name == "GM"
    assert suites.get_suite("gm") is suites.GM
    assert suites.get_suite("INTL") is suites.INTL
    with pytest.raises(UnsupportedAlgorithm) as e:
        suites.get_suite("RSA")
    assert e.value.message_zh


def test_suite_attributes():
    assert suites.GM.signature_algorithm_oid == "1.2.156.10197.1.501"
    assert suites.GM.digest_algorithm_oid == "1.2.156.10197.1.401"
    assert suites.GM.hash_name == "sm3"
    assert suites.INTL.signature_algorithm_oid == "1.2.840.10045.4.3.2"
    assert suites.INTL.digest_algorithm_oid == "2.16.840.1.101.3.4.2.1"
    assert suites.INTL.hash_name == "sha256"
    assert len(suites.INTL.digest(b"abc")) == 32


def test_keys_of_one_suite_are_refused_by_the_other(sm2_key):
    p256 = suites.INTL.generate_key()
    with pytest.raises(UnsupportedAlgorithm):
        suites.GM.sign(p256, b"x")
    with pytest.raises(UnsupportedAlgorithm):
        suites.INTL.sign(sm2_key, b"x")
    with pytest.raises(UnsupportedAlgorithm):
        suites.GM.verify(p256.public_key(), b"x", suites.INTL.sign(p256, b"x"))
    with pytest.raises(UnsupportedAlgorithm):
        suites.GM.generate_key("rsa-3072")
    with pytest.raises(UnsupportedAlgorithm):
        suites.verify_signature(sm2_key, b"x", suites.GM.sign(sm2_key, b"x"), "1.2.840.10045.4.3.2")


@pytest.mark.parametrize("sig", [b"", b"\x30\x00", b"garbage", bytes(64), b"\x30" + bytes(70)])
def test_malformed_sm2_signatures_raise_invalid_signature(sm2_key, sig):
    with pytest.raises(InvalidSignature) as e:
        suites.GM.verify(sm2_key.public_key(), b"x", sig)
    assert e.value.message_zh


def test_key_loading_roundtrip(sm2_key):
    for key in (sm2_key, suites.INTL.generate_key("ec-p256")):
        der = suites.private_key_pkcs8_der(key)
        loaded = suites.load_private_key(der)
        assert suites.public_key_der(loaded) == suites.public_key_der(key)
        pub = suites.load_public_key(suites.public_key_der(key))
        assert suites.public_key_der(pub) == suites.public_key_der(key)
    with pytest.raises(MalformedInput):
        suites.sm2_public_key_from_point(b"\x04" + bytes(64))  # not on the curve


@needs_tool("openssl")
def test_openssl_sec1_sm2_key_with_parameters_block_loads(tmp_path):
    """``openssl ecparam -genkey -name SM2`` writes an SM2 PARAMETERS block, then the
    SEC1 EC PRIVATE KEY; the key block is found and loads as SM2."""
    run_tool(["openssl", "ecparam", "-genkey", "-name", "SM2", "-out", tmp_path / "k.pem"])
    key = suites.load_private_key((tmp_path / "k.pem").read_bytes())
    assert suites.key_algorithm(key) == "SM2"
    suites.GM.verify(key.public_key(), b"m", suites.GM.sign(key, b"m"))


def test_gmssl_helper_keeps_a_key_whose_x_starts_with_04():
    """py-gmssl's constructor eats the leading 0/4 digits of such a key (py-gmssl #77): the
    shared helper sets the key after construction, so cross-checks do not fail for about
    one key in 256 (a demo-seal test did, once, in CI)."""
    from gmssl.sm2 import CryptSM2

    key = next(k for k in iter(suites.GM.generate_key, None) if _xy_hex(k).startswith("04"))
    from asn1crypto.algos import DSASignature

    msg = b"gongwen"
    rs = DSASignature.load(suites.GM.sign(key, msg)).native
    assert gmssl_sm2(_xy_hex(key)).verify_with_sm3(f"{rs['r']:064x}{rs['s']:064x}", msg)
    assert CryptSM2(private_key="", public_key=_xy_hex(key)).public_key != _xy_hex(key)
