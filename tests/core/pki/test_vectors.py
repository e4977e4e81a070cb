"""Standard test vectors: SM3 (GB/T 32905), SM4 (GB/T 32907), SM2 signatures (GB/T 32918).

Values as restated in shared/reference/STANDARDS.md §5 (recomputed there with Python and
OpenSSL 3.0). Independent implementations used: ``hashlib`` (system OpenSSL 3), the
``openssl`` CLI and the pure-Python ``gmssl``.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from gongwen.pki import suites
from gongwen.pki.errors import InvalidSignature, MalformedInput
from tests.tools import needs_tool, run_tool

SM3_VECTORS = [
    (b"", "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"),
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
]

# sm2p256v1 parameters (GB/T 32918.5) and the recommended-curve example (STANDARDS.md §5).
SM2_A = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"
SM2_B = "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"
SM2_GX = "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
SM2_GY = "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"
VEC = {
    "d": "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8",
    "xA": "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020",
    "yA": "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13",
    "Z": "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3",
    "e": "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640",
    "k": "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21",
    "r": "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3",
    "s": "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA",
}
MESSAGE = b"message digest"

# GB/T 32918.2 Annex A: a 256-bit *test* curve (not sm2p256v1).
ANNEX_A = {
    "p": "8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3",
    "a": "787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498",
    "b": "63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A",
    "gx": "421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D",
    "gy": "0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2",
    "n": "8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7",
    "id": b"ALICE123@YAHOO.COM",
    "d": "128B2FA8BD433C6C068C8D803DFF79792A519A55171B1B650C23661D15897263",
    "px": "0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A",
    "py": "7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857",
    "Z": "F4A38489E32B45B6F876E3AC2168CA392362DC8F23459C1D1146FC3DBFB7BC9A",
    "e": "B524F552CD82B8B028476E005C377FB19A87E6FC682D48BB5D42E3D9B9EFFE76",
    "k": "6CB28D99385C175C94F94E934817663FC176D925DD72B727260DBAAE1FB2F96F",
    "r": "40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1",
    "s": "6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7",
}


def _za(user_id: bytes, a: str, b: str, gx: str, gy: str, xa: str, ya: str) -> bytes:
    """Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA), GB/T 32918.2 §5.5 (test helper)."""
    entl = (len(user_id) * 8).to_bytes(2, "big")
    return suites.sm3(entl + user_id + b"".join(bytes.fromhex(v) for v in (a, b, gx, gy, xa, ya)))


# ------------------------------------------------------------------------------- SM3


@pytest.mark.parametrize(("message", "digest"), SM3_VECTORS)
def test_sm3_matches_gbt32905_vectors(message, digest):
    assert suites.sm3(message).hex() == digest
    assert suites.GM.digest(message).hex() == digest


def test_sm3_incremental_equals_one_shot():
    h = suites.sm3_hasher()
    for chunk in (b"ab", b"c", b"d" * 61):
        h.update(chunk)
    assert h.finalize() == suites.sm3(b"abc" + b"d" * 61)


def test_sm3_equals_hashlib_and_gmssl():
    from gmssl import func, sm3

    for data in (b"", b"abc", bytes(range(256)) * 5, "公文".encode()):
        ours = suites.sm3(data)
        assert ours == hashlib.new("sm3", data).digest()
        assert ours.hex() == sm3.sm3_hash(func.bytes_to_list(data))


@needs_tool("openssl")
def test_sm3_equals_openssl_dgst(tmp_path):
    data = bytes(range(256)) * 100 + "电子公文".encode()
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    out = run_tool(["openssl", "dgst", "-sm3", "-r", path]).stdout.decode()
    assert out.split()[0] == suites.sm3(data).hex()


# ------------------------------------------------------------------------------- SM4


def test_sm4_matches_gbt32907_vector():
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    assert suites.sm4_encrypt_block(key, key).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_cbc_roundtrip_and_padding():
    key, iv = bytes(range(16)), bytes(range(16, 32))
    for n in (0, 1, 15, 16, 17, 100):
        data = b"x" * n
        ct = suites.sm4_cbc_encrypt(key, iv, data)
        assert len(ct) % 16 == 0 and len(ct) > n
        assert suites.sm4_cbc_decrypt(key, iv, ct) == data


@needs_tool("openssl")
def test_sm4_cbc_equals_openssl_enc(tmp_path):
    key, iv = bytes.fromhex("0123456789abcdeffedcba9876543210"), bytes(16)
    data = "密钥盘 key disk".encode() * 3
    (tmp_path / "p").write_bytes(data)
    run_tool(
        [
            "openssl",
            "enc",
            "-sm4-cbc",
            "-K",
            key.hex(),
            "-iv",
            iv.hex(),
            "-in",
            tmp_path / "p",
            "-out",
            tmp_path / "c",
        ]
    )
    assert (tmp_path / "c").read_bytes() == suites.sm4_cbc_encrypt(key, iv, data)


# ----------------------------------------------------------------------- SM2 examples


def _vector_public_key():
    return suites.sm2_public_key_from_point(bytes.fromhex("04" + VEC["xA"] + VEC["yA"]))


def test_sm2_vector_private_key_gives_the_standard_public_key():
    from tongsuopy.crypto.asymciphers import ec

    key = ec.derive_private_key(int(VEC["d"], 16), ec.SM2())
    numbers = key.public_key().public_numbers()
    assert (numbers.x, numbers.y) == (int(VEC["xA"], 16), int(VEC["yA"], 16))


def test_sm2_vector_z_and_e_with_default_id():
    z = _za(suites.DEFAULT_SM2_ID, SM2_A, SM2_B, SM2_GX, SM2_GY, VEC["xA"], VEC["yA"])
    assert z.hex().upper() == VEC["Z"]
    assert suites.sm3(z + MESSAGE).hex().upper() == VEC["e"]


def test_sm2_za_matches_the_standard_example():
    """GB/T 32918.5 Annex A / STANDARDS.md §5: Z for the recommended-curve example key."""
    point = bytes.fromhex(
        "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
        "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
    )
    assert suites.sm2_za(point).hex().upper() == (
        "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"
    )
    assert suites.sm2_za(b"\x04" + point) == suites.sm2_za(point)
    with pytest.raises(MalformedInput):
        suites.sm2_za(point[:-1])


def test_sm2_standard_signature_verifies_in_all_encodings():
    """GB/T 32918.5 recommended-curve example: (r, s) over "message digest" with the
    default ID verifies with the standard's public key; DER, raw r‖s and DER without the
    0x00 sign pad (r and s both have the top bit set) are all accepted."""
    pub = _vector_public_key()
    r, s = int(VEC["r"], 16), int(VEC["s"], 16)
    der = encode_dss_signature(r, s)
    raw = bytes.fromhex(VEC["r"] + VEC["s"])
    unpadded = b"\x30\x44\x02\x20" + raw[:32] + b"\x02\x20" + raw[32:]
    for sig in (der, raw, unpadded):
        suites.GM.verify(pub, MESSAGE, sig)
    assert suites.sm2_signature_to_raw(der) == raw
    assert suites.sm2_signature_from_raw(raw) == der
    with pytest.raises(InvalidSignature):
        suites.GM.verify(pub, b"message digesT", der)


def test_sm2_annex_a_test_curve_example_with_gmssl():
    """GB/T 32918.2 Annex A uses a non-standard 256-bit test curve and the ID
    ALICE123@YAHOO.COM. tongsuopy (like OpenSSL) only loads named curves, so it cannot
    check this example; we check Z and e with our SM3, and the curve arithmetic
    (public key, deterministic signature with the standard's k, verification) with the
    pure-Python gmssl, which accepts custom curve tables."""
    from gmssl.sm2 import CryptSM2

    v = ANNEX_A
    z = _za(v["id"], v["a"], v["b"], v["gx"], v["gy"], v["px"], v["py"])
    assert z.hex().upper() == v["Z"]
    e = suites.sm3(z + MESSAGE)
    assert e.hex().upper() == v["e"]

    table = {"n": v["n"], "p": v["p"], "g": (v["gx"] + v["gy"]).lower(), "a": v["a"], "b": v["b"]}
    crypt = CryptSM2(private_key=v["d"], public_key="", ecc_table=table)
    crypt.public_key = (v["px"] + v["py"]).lower()  # set directly: see gmssl lstrip quirk
    assert crypt._kg(int(v["d"], 16), table["g"]).upper() == v["px"] + v["py"]
    assert crypt.sign(e, v["k"]).upper() == v["r"] + v["s"]
    assert crypt.verify((v["r"] + v["s"]).lower(), e)
    assert not crypt.verify((v["r"] + v["s"]).lower(), bytes(32))
