"""Key disks (密钥盘): encrypted PKCS#8 that OpenSSL opens with the PIN; PIN rules; lockout
policy; CA keys encrypted at rest."""

from __future__ import annotations

import base64
import hashlib

import pytest
from asn1crypto import pem

from gongwen.pki import keystore, suites
from gongwen.pki.errors import (
    KeyDiskLocked,
    MalformedInput,
    PINFormatError,
    UnsupportedAlgorithm,
    WrongPIN,
)
from tests.tools import needs_tool, run_tool

PIN = "20250601"
FAST = 2_000  # iterations for tests that only exercise logic


@pytest.fixture(scope="module", params=["GM", "INTL"])
def disk(request):
    """A key disk with the production iteration count (200,000)."""
    pem_bytes, pub = keystore.create_key_disk(request.param, PIN)
    return request.param, pem_bytes, pub


def test_key_disk_format(disk):
    suite, pem_bytes, pub = disk
    assert pem_bytes.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    info = keystore.key_disk_info(pem_bytes)
    assert info.kdf == "PBKDF2" and info.prf == "hmacWithSHA256"
    assert info.iterations >= 200_000
    assert info.cipher == {"GM": "sm4-cbc", "INTL": "aes-256-cbc"}[suite]
    key = keystore.open_key_disk(pem_bytes, PIN)
    assert suites.public_key_der(key) == pub
    assert suites.get_suite(suite).owns_key(key)


@needs_tool("openssl")
def test_openssl_opens_the_key_disk_with_the_pin(tmp_path, disk):
    _suite, pem_bytes, pub = disk
    (tmp_path / "disk.pem").write_bytes(pem_bytes)
    run_tool(
        [
            "openssl",
            "pkcs8",
            "-in",
            tmp_path / "disk.pem",
            "-passin",
            f"pass:{PIN}",
            "-out",
            tmp_path / "plain.pem",
        ]
    )
    out = run_tool(
        ["openssl", "pkey", "-in", tmp_path / "plain.pem", "-pubout", "-outform", "DER"]
    ).stdout
    assert out == pub
    asn1 = run_tool(["openssl", "asn1parse", "-in", tmp_path / "disk.pem"]).stdout.decode()
    assert "PBES2" in asn1 and "PBKDF2" in asn1 and "hmacWithSHA256" in asn1
    wrong = run_tool(
        ["openssl", "pkcs8", "-in", tmp_path / "disk.pem", "-passin", "pass:00000000"], check=False
    )
    assert wrong.returncode != 0


@needs_tool("openssl")
def test_openssl_written_sm4_key_disk_opens_in_ours(tmp_path):
    run_tool(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:SM2",
            "-out",
            tmp_path / "k.pem",
        ]
    )
    run_tool(
        [
            "openssl",
            "pkcs8",
            "-topk8",
            "-v2",
            "sm4-cbc",
            "-iter",
            "200000",
            "-in",
            tmp_path / "k.pem",
            "-passout",
            f"pass:{PIN}",
            "-out",
            tmp_path / "d.pem",
        ]
    )
    data = (tmp_path / "d.pem").read_bytes()
    assert keystore.key_disk_info(data).cipher == "sm4-cbc"
    key = keystore.open_key_disk(data, PIN)
    plain = suites.load_private_key((tmp_path / "k.pem").read_bytes())
    assert suites.public_key_der(key) == suites.public_key_der(plain)
    with pytest.raises(WrongPIN):
        keystore.open_key_disk(data, "12345678")


def test_wrong_pin_raises_wrong_pin(disk):
    _suite, pem_bytes, _pub = disk
    for pin in ("00000000", "2025060", PIN[:-1] + "2"):
        with pytest.raises(WrongPIN) as e:
            keystore.open_key_disk(pem_bytes, pin)
        assert e.value.message_zh == "口令错误"


@pytest.mark.parametrize(
    "pin", ["", "12345", "123456789", "12a456", " 123456", "１２３４５６", "١٢٣٤٥٦", None, 123456]
)
def test_pin_format_errors(pin):
    with pytest.raises(PINFormatError) as e:
        keystore.create_key_disk("GM", pin, FAST)
    assert e.value.message_zh == "口令必须为6至8位数字"
    assert isinstance(e.value, MalformedInput)


@pytest.mark.parametrize("pin", ["123456", "1234567", "00000000"])
def test_pin_lengths_accepted(pin):
    pem_bytes, pub = keystore.create_key_disk("GM", pin, FAST)
    assert suites.public_key_der(keystore.open_key_disk(pem_bytes, pin)) == pub


def test_no_plaintext_key_material_in_the_key_disk():
    for suite in ("GM", "INTL"):
        key = suites.get_suite(suite).generate_key()
        pem_bytes = keystore.encrypt_private_key(key, PIN, iterations=FAST)
        der = pem.unarmor(pem_bytes)[2]
        plain = suites.private_key_pkcs8_der(key)
        scalar = key.private_numbers().private_value.to_bytes(32, "big")
        for blob in (der, pem_bytes):
            assert plain not in blob and scalar not in blob
            assert base64.b64encode(scalar)[:20] not in blob
        assert b"BEGIN PRIVATE KEY" not in pem_bytes
        assert b"BEGIN EC PRIVATE KEY" not in pem_bytes


def test_each_disk_has_its_own_salt_and_iv():
    key = suites.GM.generate_key()
    a = keystore.encrypt_private_key(key, PIN, iterations=FAST)
    b = keystore.encrypt_private_key(key, PIN, iterations=FAST)
    assert a != b


def test_ca_key_at_rest_with_a_passphrase():
    """CA keys use the same container with a passphrase from configuration."""
    for suite, kind in (("GM", None), ("INTL", "rsa-3072")):
        key = suites.get_suite(suite).generate_key(kind)
        pem_bytes = keystore.encrypt_private_key(key, "correct horse 电池 staple", iterations=FAST)
        loaded = suites.load_private_key(pem_bytes, password="correct horse 电池 staple")
        assert suites.public_key_der(loaded) == suites.public_key_der(key)
        with pytest.raises(WrongPIN):
            keystore.decrypt_private_key(pem_bytes, "wrong")
        with pytest.raises(MalformedInput):
            suites.load_private_key(pem_bytes)  # no password given


def test_iteration_bounds():
    key = suites.GM.generate_key()
    with pytest.raises(MalformedInput):
        keystore.encrypt_private_key(key, PIN, iterations=10)
    with pytest.raises(UnsupportedAlgorithm):
        keystore.encrypt_private_key(key, PIN, iterations=FAST, cipher="des-ede3-cbc")


@pytest.mark.parametrize(("iterations", "expected"), [
    (1, "0c60c80f961f0e71f3a9b524af6012062fe037a6"),
    (2, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"),
    (4096, "4b007901b765489abead49d926f721d065a429c1"),
])
def test_pbkdf2_matches_rfc_6070(iterations, expected):
    assert keystore._pbkdf2("sha1", b"password", b"salt", iterations, 20).hex() == expected


@pytest.mark.parametrize("prf", ["sha1", "sha256", "sha384", "sha512", "sm3"])
def test_pbkdf2_matches_hashlib(prf):
    """The PBKDF2 of the key disks (cryptography's OpenSSL) gives the bytes of Python's
    hashlib (the system's OpenSSL), for every PRF a key disk may name."""
    salt = bytes(range(16))
    for key_len in (16, 32):
        ours = keystore._pbkdf2(prf, b"20250601", salt, 3_000, key_len)
        try:
            theirs = hashlib.pbkdf2_hmac(prf, b"20250601", salt, 3_000, dklen=key_len)
        except ValueError:
            pytest.skip(f"this Python's hashlib has no {prf}")
        assert ours == theirs


def test_pbkdf2_with_an_unknown_prf_is_unsupported():
    with pytest.raises(UnsupportedAlgorithm):
        keystore._pbkdf2("md4-or-worse", b"20250601", b"s" * 16, 1_000, 16)


# ----------------------------------------------------------------------------- PinGuard


def test_fifth_wrong_pin_locks_the_disk():
    pem_bytes, _pub = keystore.create_key_disk("GM", PIN, FAST)
    guard = keystore.PinGuard()
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongPIN) as e:
            keystore.open_key_disk_guarded(pem_bytes, "11111111", guard)
        assert guard.remaining == left
        assert str(left) in e.value.message_zh
    with pytest.raises(KeyDiskLocked) as e:
        keystore.open_key_disk_guarded(pem_bytes, "11111111", guard)
    assert guard.locked and "锁定" in e.value.message_zh
    with pytest.raises(KeyDiskLocked):  # even the right PIN is refused now
        keystore.open_key_disk_guarded(pem_bytes, PIN, guard)
    guard.unlock()  # operator action
    assert keystore.open_key_disk_guarded(pem_bytes, PIN, guard) is not None


def test_success_resets_the_counter_and_bad_format_does_not_count():
    pem_bytes, _pub = keystore.create_key_disk("INTL", PIN, FAST)
    guard = keystore.PinGuard()
    for _ in range(4):
        with pytest.raises(WrongPIN):
            keystore.open_key_disk_guarded(pem_bytes, "11111111", guard)
    with pytest.raises(PINFormatError):
        keystore.open_key_disk_guarded(pem_bytes, "12", guard)
    assert guard.failures == 4
    keystore.open_key_disk_guarded(pem_bytes, PIN, guard)
    assert guard.failures == 0 and not guard.locked
