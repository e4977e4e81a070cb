"""Algorithm suites: GM (SM2/SM3/SM4, the default) and INTL (ECDSA P-256 or RSA-3072, SHA-256).

The GM suite goes through ``tongsuopy`` (a Tongsuo/OpenSSL build), the INTL suite through
``cryptography``; no algorithm is implemented here. A deployment picks its suite by name
(:func:`get_suite`); a signature is always checked with the algorithm of the key or
certificate that is supposed to have made it.

SM2 signatures follow GB/T 32918.2 with the usage rules of GB/T 35276-2017: the signer's
distinguishing ID is the default ``1234567812345678`` (Z_A = SM3(ENTL‖ID‖a‖b‖xG‖yG‖xA‖yA)),
the message digest is SM3(Z_A‖M) and the output is DER ``SEQUENCE { r INTEGER, s INTEGER }``.
When reading we also accept the raw 64-byte ``r‖s`` form and DER integers that lack the
``0x00`` sign pad, as written by some vendors (STANDARDS.md §6.2).
"""

from __future__ import annotations

import abc
import functools
import hashlib
from typing import Any, Protocol, runtime_checkable

from asn1crypto import keys as asn1_keys
from asn1crypto import parser as asn1_parser
from asn1crypto import pem as asn1_pem
from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes as c_hashes
from cryptography.hazmat.primitives import padding as c_padding
from cryptography.hazmat.primitives import serialization as c_serialization
from cryptography.hazmat.primitives.asymmetric import ec as c_ec
from cryptography.hazmat.primitives.asymmetric import padding as c_asym_padding
from cryptography.hazmat.primitives.asymmetric import rsa as c_rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from tongsuopy.crypto import hashes as gm_hashes
from tongsuopy.crypto import serialization as gm_serialization
from tongsuopy.crypto.asymciphers import ec as gm_ec
from tongsuopy.crypto.ciphers import Cipher as GMCipher
from tongsuopy.crypto.ciphers import algorithms as gm_algorithms
from tongsuopy.crypto.ciphers import modes as gm_modes

from .errors import (
    InvalidSignature,
    MalformedInput,
    PKIError,
    UnsupportedAlgorithm,
)

__all__ = [
    "DEFAULT_SM2_ID",
    "GM",
    "INTL",
    "OID",
    "ExternalSigner",
    "GMSuite",
    "INTLSuite",
    "Suite",
    "get_suite",
    "key_algorithm",
    "load_private_key",
    "load_public_key",
    "public_key_der",
    "sign_data",
    "signature_algorithm_for_key",
    "sm2_public_key_from_point",
    "sm2_signature_from_raw",
    "sm2_signature_to_raw",
    "sm2_za",
    "sm3",
    "sm4_cbc_decrypt",
    "sm4_cbc_encrypt",
    "sm4_encrypt_block",
    "suite_for_key",
    "verify_signature",
    "verify_with_certificate",
]

#: GM/T 0009-2012 / GB/T 35276-2017 default signer ID. tongsuopy always uses it.
DEFAULT_SM2_ID = b"1234567812345678"


class OID:
    """Object identifiers used by the core (GM/T 0006, RFC 5480, RFC 5758, RFC 4055)."""

    SM2_CURVE = "1.2.156.10197.1.301"
    SM2_SIGN = "1.2.156.10197.1.301.1"
    SM3 = "1.2.156.10197.1.401"
    HMAC_SM3 = "1.2.156.10197.1.401.2"
    SM3_WITH_SM2 = "1.2.156.10197.1.501"
    SM4_CBC = "1.2.156.10197.1.104.2"
    EC_PUBLIC_KEY = "1.2.840.10045.2.1"
    P256 = "1.2.840.10045.3.1.7"
    RSA = "1.2.840.113549.1.1.1"
    SHA256 = "2.16.840.1.101.3.4.2.1"
    ECDSA_SHA256 = "1.2.840.10045.4.3.2"
    ECDSA_SHA384 = "1.2.840.10045.4.3.3"
    ECDSA_SHA512 = "1.2.840.10045.4.3.4"
    RSA_SHA256 = "1.2.840.113549.1.1.11"
    RSA_SHA384 = "1.2.840.113549.1.1.12"
    RSA_SHA512 = "1.2.840.113549.1.1.13"
    AES256_CBC = "2.16.840.1.101.3.4.1.42"


# Order n of the sm2p256v1 group (GB/T 32918.5), to range-check r and s before verifying.
_SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
# sm2p256v1 a, b and G (GB/T 32918.5-2017), for Z_A only.
_SM2_A = bytes.fromhex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC")
_SM2_B = bytes.fromhex("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93")
_SM2_GX = bytes.fromhex("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7")
_SM2_GY = bytes.fromhex("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0")
_P256_N = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)

_ECDSA_HASHES: dict[str, type[c_hashes.HashAlgorithm]] = {
    OID.ECDSA_SHA256: c_hashes.SHA256,
    OID.ECDSA_SHA384: c_hashes.SHA384,
    OID.ECDSA_SHA512: c_hashes.SHA512,
}
_RSA_HASHES: dict[str, type[c_hashes.HashAlgorithm]] = {
    OID.RSA_SHA256: c_hashes.SHA256,
    OID.RSA_SHA384: c_hashes.SHA384,
    OID.RSA_SHA512: c_hashes.SHA512,
}


@runtime_checkable
class ExternalSigner(Protocol):
    """A private key held elsewhere (e.g. a PKCS#11 token).

    ``sign_der`` returns the signature in the suite's DER form; ``public_key`` returns a
    key object this module understands.
    """

    def public_key(self) -> Any: ...

    def sign_der(self, data: bytes) -> bytes: ...


# --------------------------------------------------------------------------- key helpers


def _is_sm2_private(key: object) -> bool:
    return isinstance(key, gm_ec.EllipticCurvePrivateKey)


def _is_sm2_public(key: object) -> bool:
    return isinstance(key, gm_ec.EllipticCurvePublicKey)


_PUBLIC_KEY_TYPES = (gm_ec.EllipticCurvePublicKey, c_ec.EllipticCurvePublicKey,
                     c_rsa.RSAPublicKey)
_PRIVATE_KEY_TYPES = (gm_ec.EllipticCurvePrivateKey, c_ec.EllipticCurvePrivateKey,
                      c_rsa.RSAPrivateKey)


def _as_public(key: Any) -> Any:
    """Return the public half of ``key`` (private key, external signer or public key)."""
    # The concrete key types first: the ExternalSigner check is a runtime Protocol check,
    # which inspects the object's attributes and costs far more than isinstance on a class
    # (this runs for every signature made and verified).
    if isinstance(key, _PUBLIC_KEY_TYPES):
        return key
    if isinstance(key, _PRIVATE_KEY_TYPES):
        return key.public_key()
    if isinstance(key, (bytes, bytearray, memoryview, str)):
        return load_public_key(key)
    if isinstance(key, ExternalSigner):
        return key.public_key()
    return key


def key_algorithm(key: Any) -> str:
    """Name the key's algorithm: ``"SM2"``, ``"EC-P256"`` or ``"RSA-<bits>"``."""
    pub = _as_public(key)
    if _is_sm2_public(pub):
        return "SM2"
    if isinstance(pub, c_ec.EllipticCurvePublicKey):
        if isinstance(pub.curve, c_ec.SECP256R1):
            return "EC-P256"
        return f"EC-{pub.curve.name}"
    if isinstance(pub, c_rsa.RSAPublicKey):
        return f"RSA-{pub.key_size}"
    raise UnsupportedAlgorithm(
        f"unsupported key type {type(key).__name__}", message_zh="不支持的密钥类型"
    )


def suite_for_key(key: Any) -> Suite:
    """The suite whose algorithms match ``key`` (SM2 → GM, P-256/RSA → INTL)."""
    alg = key_algorithm(key)
    if alg == "SM2":
        return GM
    if alg == "EC-P256" or alg.startswith("RSA-"):
        return INTL
    raise UnsupportedAlgorithm(f"no suite for {alg} keys", message_zh=f"不支持的密钥算法 {alg}")


def signature_algorithm_for_key(key: Any) -> str:
    """Signature algorithm OID that a certificate/CRL signed by ``key`` carries."""
    alg = key_algorithm(key)
    if alg == "SM2":
        return OID.SM3_WITH_SM2
    if alg == "EC-P256":
        return OID.ECDSA_SHA256
    if alg.startswith("RSA-"):
        return OID.RSA_SHA256
    raise UnsupportedAlgorithm(f"no signature algorithm for {alg}")


def public_key_der(key: Any) -> bytes:
    """DER SubjectPublicKeyInfo of a key (private keys give their public half)."""
    pub = _as_public(key)
    if _is_sm2_public(pub):
        return pub.public_bytes(
            gm_serialization.Encoding.DER, gm_serialization.PublicFormat.SubjectPublicKeyInfo
        )
    if isinstance(pub, (c_ec.EllipticCurvePublicKey, c_rsa.RSAPublicKey)):
        return pub.public_bytes(
            c_serialization.Encoding.DER, c_serialization.PublicFormat.SubjectPublicKeyInfo
        )
    raise UnsupportedAlgorithm(f"unsupported key type {type(key).__name__}")


def private_key_pkcs8_der(key: Any) -> bytes:
    """Unencrypted PKCS#8 DER of a private key. Only for wrapping it into a key disk."""
    if _is_sm2_private(key):
        return key.private_bytes(
            gm_serialization.Encoding.DER,
            gm_serialization.PrivateFormat.PKCS8,
            gm_serialization.NoEncryption(),
        )
    if isinstance(key, (c_ec.EllipticCurvePrivateKey, c_rsa.RSAPrivateKey)):
        return key.private_bytes(
            c_serialization.Encoding.DER,
            c_serialization.PrivateFormat.PKCS8,
            c_serialization.NoEncryption(),
        )
    raise UnsupportedAlgorithm(f"cannot export key of type {type(key).__name__}")


def _to_bytes(data: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(data, str):
        return data.encode("ascii", "replace")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise MalformedInput(
        f"expected bytes, got {type(data).__name__}", message_zh="数据格式错误：需要字节数据"
    )


def _unarmor(data: bytes, want: str | None = None) -> tuple[str | None, bytes]:
    """(PEM label or None, DER) for PEM or DER input. With several PEM blocks (e.g.
    ``openssl ecparam -genkey`` writes parameters first), the first whose label contains
    ``want`` is taken."""
    if asn1_pem.detect(data):
        try:
            blocks = [(label, der) for label, _h, der in asn1_pem.unarmor(data, multiple=True)]
        except Exception as exc:
            raise MalformedInput(f"bad PEM: {exc}", message_zh="PEM 格式错误") from exc
        if not blocks:
            raise MalformedInput("no PEM block", message_zh="PEM 格式错误")
        if want is not None:
            for label, der in blocks:
                if want in label:
                    return label, der
        return blocks[0]
    return None, data


def _ec_curve_oid(params: Any) -> str | None:
    try:
        if params.name == "named":
            return params.chosen.dotted
    except Exception:
        return None
    return None


def _private_key_kind(der: bytes) -> tuple[str, str | None]:
    """('pkcs8'|'sec1'|'pkcs1'|'encrypted', curve OID or None) for a DER private key."""
    try:
        info = asn1_keys.PrivateKeyInfo.load(der, strict=True)
        alg = info["private_key_algorithm"]["algorithm"].dotted
        curve = None
        if alg == OID.EC_PUBLIC_KEY:
            curve = _ec_curve_oid(info["private_key_algorithm"]["parameters"])
        elif alg == OID.SM2_CURVE:
            curve = OID.SM2_CURVE
        return "pkcs8", curve
    except Exception:
        pass
    try:
        enc = asn1_keys.EncryptedPrivateKeyInfo.load(der, strict=True)
        enc["encryption_algorithm"]["algorithm"].dotted  # noqa: B018 - forces parsing
        return "encrypted", None
    except Exception:
        pass
    try:
        sec1 = asn1_keys.ECPrivateKey.load(der, strict=True)
        sec1["private_key"].native  # noqa: B018
        return "sec1", _ec_curve_oid(sec1["parameters"])
    except Exception:
        pass
    try:
        rsa = asn1_keys.RSAPrivateKey.load(der, strict=True)
        rsa["modulus"].native  # noqa: B018
        return "pkcs1", None
    except Exception:
        pass
    raise MalformedInput("not a private key", message_zh="私钥格式错误")


def load_private_key(data: bytes | str, password: bytes | str | None = None) -> Any:
    """Load a PEM or DER private key (PKCS#8, encrypted PKCS#8, SEC1 or PKCS#1).

    SM2 keys (id-ecPublicKey with curve 1.2.156.10197.1.301) load through tongsuopy, the
    others through ``cryptography``. An encrypted PKCS#8 key needs ``password``
    (:class:`~gongwen.pki.errors.WrongPIN` if it is wrong).
    """
    raw = _to_bytes(data)
    label, der = _unarmor(raw, want="PRIVATE KEY")
    kind, curve = _private_key_kind(der)
    if kind == "encrypted" or label == "ENCRYPTED PRIVATE KEY":
        if password is None:
            raise MalformedInput(
                "key is encrypted and no password was given", message_zh="私钥已加密，需要口令"
            )
        from .keystore import decrypt_private_key

        return decrypt_private_key(der, password)
    try:
        if curve == OID.SM2_CURVE:
            key = gm_serialization.load_der_private_key(der, None)
        else:
            key = c_serialization.load_der_private_key(der, None)
    except PKIError:
        raise
    except Exception as exc:
        raise MalformedInput(f"cannot load private key: {exc}", message_zh="私钥格式错误") from exc
    key_algorithm(key)  # raises UnsupportedAlgorithm for other curves/types
    return key


def load_public_key(data: bytes | str) -> Any:
    """Load a PEM or DER SubjectPublicKeyInfo (SM2 through tongsuopy, others ``cryptography``)."""
    raw = _to_bytes(data)
    _label, der = _unarmor(raw, want="PUBLIC KEY")
    try:
        info = asn1_keys.PublicKeyInfo.load(der, strict=True)
        alg = info["algorithm"]["algorithm"].dotted
        curve = None
        if alg == OID.EC_PUBLIC_KEY:
            curve = _ec_curve_oid(info["algorithm"]["parameters"])
        info["public_key"].contents  # noqa: B018
    except Exception as exc:
        raise MalformedInput(
            f"not a SubjectPublicKeyInfo: {exc}", message_zh="公钥格式错误"
        ) from exc
    try:
        if curve == OID.SM2_CURVE:
            key = gm_serialization.load_der_public_key(der)
        else:
            key = c_serialization.load_der_public_key(der)
    except Exception as exc:
        raise MalformedInput(f"cannot load public key: {exc}", message_zh="公钥格式错误") from exc
    key_algorithm(key)
    return key


def sm2_public_key_from_point(point: bytes) -> Any:
    """SM2 public key from an uncompressed point ``04‖x‖y`` (65 bytes) or ``x‖y`` (64 bytes)."""
    point = bytes(point)
    if len(point) == 64:
        point = b"\x04" + point
    if len(point) != 65 or point[0] != 4:
        raise MalformedInput("SM2 point must be 04||x||y", message_zh="SM2 公钥格式错误")
    x = int.from_bytes(point[1:33], "big")
    y = int.from_bytes(point[33:], "big")
    try:
        return gm_ec.EllipticCurvePublicNumbers(x, y, gm_ec.SM2()).public_key()
    except Exception as exc:
        raise MalformedInput(
            "point is not on the SM2 curve", message_zh="SM2 公钥不在曲线上"
        ) from exc


# ---------------------------------------------------------------------- signature forms


def _parse_der_rs(sig: bytes) -> tuple[int, int] | None:
    """(r, s) from DER ``SEQUENCE{INTEGER, INTEGER}``; integers are read unsigned so that
    encoders that forget the 0x00 pad are accepted. ``None`` if it is not that shape."""
    try:
        cls, method, tag, _header, contents, trailer = asn1_parser.parse(sig, strict=True)
    except Exception:
        return None
    if (cls, method, tag) != (0, 1, 16) or trailer:
        return None
    values = []
    rest = contents
    for _ in range(2):
        try:
            icls, imethod, itag, iheader, icontents, itrailer = asn1_parser.parse(rest)
        except Exception:
            return None
        if (icls, imethod, itag) != (0, 0, 2) or not icontents or len(icontents) > 33:
            return None
        values.append(int.from_bytes(icontents, "big"))
        rest = rest[len(iheader) + len(icontents) + len(itrailer) :]
    if rest:
        return None
    return values[0], values[1]


def _ec_signature_to_der(signature: bytes, order: int) -> bytes:
    signature = _to_bytes(signature)
    rs = _parse_der_rs(signature)
    if rs is None and len(signature) == 64:
        rs = (int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    if rs is None:
        raise InvalidSignature(
            "signature is neither DER SEQUENCE{r, s} nor raw r||s",
            message_zh="签名值格式错误",
        )
    r, s = rs
    if not (0 < r < order and 0 < s < order):
        raise InvalidSignature("signature r or s out of range", message_zh="签名值格式错误")
    return encode_dss_signature(r, s)


def sm2_signature_from_raw(raw: bytes) -> bytes:
    """DER form of a raw 64-byte SM2 signature ``r‖s``."""
    if len(raw) != 64:
        raise MalformedInput("raw SM2 signature must be 64 bytes", message_zh="签名值格式错误")
    return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


def sm2_signature_to_raw(signature: bytes) -> bytes:
    """Raw 64-byte ``r‖s`` (left-padded) from a DER or raw SM2 signature."""
    r, s = decode_dss_signature(_ec_signature_to_der(signature, _SM2_N))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


# -------------------------------------------------------------------------- SM3 and SM4


def sm3(data: bytes) -> bytes:
    """SM3 digest (GB/T 32905-2016), 32 bytes."""
    h = gm_hashes.Hash(gm_hashes.SM3())
    h.update(bytes(data))
    return h.finalize()


def sm3_hasher() -> Any:
    """Incremental SM3: an object with ``update(bytes)`` and ``finalize() -> bytes``."""
    return gm_hashes.Hash(gm_hashes.SM3())


def sm2_za(public_point: bytes, user_id: bytes = DEFAULT_SM2_ID) -> bytes:
    """Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) (GB/T 32918.2-2016 §5.5) for an SM2
    public point ``04‖x‖y`` or ``x‖y``; the SM2 digest of M is SM3(Z_A ‖ M)."""
    point = bytes(public_point)
    if len(point) == 65 and point[0] == 4:
        point = point[1:]
    if len(point) != 64:
        raise MalformedInput("SM2 public point must be 64 bytes x‖y", message_zh="SM2 公钥格式错误")
    entl = (len(user_id) * 8).to_bytes(2, "big")
    return sm3(entl + user_id + _SM2_A + _SM2_B + _SM2_GX + _SM2_GY + point)


def _check_sm4(key: bytes, iv: bytes | None = None) -> None:
    if len(key) != 16:
        raise MalformedInput("SM4 key must be 16 bytes", message_zh="SM4 密钥长度错误")
    if iv is not None and len(iv) != 16:
        raise MalformedInput("SM4 IV must be 16 bytes", message_zh="SM4 初始向量长度错误")


def sm4_encrypt_block(key: bytes, block: bytes) -> bytes:
    """Encrypt one 16-byte block with SM4 (GB/T 32907-2016), for vectors and tests."""
    _check_sm4(key)
    if len(block) != 16:
        raise MalformedInput("SM4 block must be 16 bytes")
    enc = GMCipher(gm_algorithms.SM4(key), gm_modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def sm4_cbc_encrypt(key: bytes, iv: bytes, plaintext: bytes, *, pad: bool = True) -> bytes:
    """SM4-CBC encryption, PKCS#7 padding unless ``pad=False`` (then len % 16 must be 0)."""
    _check_sm4(key, iv)
    if pad:
        padder = c_padding.PKCS7(128).padder()
        plaintext = padder.update(plaintext) + padder.finalize()
    elif len(plaintext) % 16:
        raise MalformedInput("SM4-CBC without padding needs whole blocks")
    enc = GMCipher(gm_algorithms.SM4(key), gm_modes.CBC(iv)).encryptor()
    return enc.update(plaintext) + enc.finalize()


def sm4_cbc_decrypt(key: bytes, iv: bytes, ciphertext: bytes, *, pad: bool = True) -> bytes:
    """SM4-CBC decryption; raises :class:`MalformedInput` on bad length or padding."""
    _check_sm4(key, iv)
    if not ciphertext or len(ciphertext) % 16:
        raise MalformedInput("SM4-CBC ciphertext must be whole blocks", message_zh="密文长度错误")
    dec = GMCipher(gm_algorithms.SM4(key), gm_modes.CBC(iv)).decryptor()
    out = dec.update(ciphertext) + dec.finalize()
    if not pad:
        return out
    try:
        unpadder = c_padding.PKCS7(128).unpadder()
        return unpadder.update(out) + unpadder.finalize()
    except ValueError as exc:
        raise MalformedInput("bad SM4-CBC padding", message_zh="解密失败") from exc


# -------------------------------------------------------------------------------- suites


class Suite(abc.ABC):
    """One algorithm suite. Instances are stateless singletons (see :func:`get_suite`)."""

    name: str
    signature_algorithm_oid: str
    digest_algorithm_oid: str
    hash_name: str
    key_kinds: tuple[str, ...]
    default_key_kind: str

    def __repr__(self) -> str:
        return f"<Suite {self.name}>"

    @abc.abstractmethod
    def generate_key(self, kind: str | None = None) -> Any:
        """A new private key of ``kind`` (see ``key_kinds``)."""

    @abc.abstractmethod
    def sign(self, private_key: Any, data: bytes) -> bytes:
        """Sign ``data`` (the message itself, never a pre-hash); DER signature."""

    @abc.abstractmethod
    def verify(self, public_key: Any, data: bytes, signature: bytes) -> None:
        """Raise :class:`InvalidSignature` unless ``signature`` is valid for ``data``."""

    @abc.abstractmethod
    def digest(self, data: bytes) -> bytes:
        """The suite's message digest (SM3 or SHA-256)."""

    @abc.abstractmethod
    def owns_key(self, key: Any) -> bool:
        """True if ``key`` (private, public or external signer) belongs to this suite."""

    def _require_own_key(self, key: Any) -> None:
        if not self.owns_key(key):
            raise UnsupportedAlgorithm(
                f"{key_algorithm(key)} key cannot be used with the {self.name} suite",
                message_zh=f"密钥算法与 {self.name} 算法套件不符",
            )


class GMSuite(Suite):
    """SM2 (signer ID 1234567812345678) with SM3; SM4 for encryption."""

    name = "GM"
    signature_algorithm_oid = OID.SM3_WITH_SM2
    digest_algorithm_oid = OID.SM3
    hash_name = "sm3"
    key_kinds = ("sm2",)
    default_key_kind = "sm2"

    def generate_key(self, kind: str | None = None) -> Any:
        if kind not in (None, "sm2"):
            raise UnsupportedAlgorithm(f"GM suite has no key kind {kind!r}")
        return gm_ec.generate_private_key(gm_ec.SM2())

    def owns_key(self, key: Any) -> bool:
        try:
            return key_algorithm(key) == "SM2"
        except UnsupportedAlgorithm:
            return False

    def sign(self, private_key: Any, data: bytes) -> bytes:
        if _is_sm2_private(private_key):
            return private_key.sign(bytes(data), gm_ec.ECDSA(gm_hashes.SM3()))
        self._require_own_key(private_key)
        if isinstance(private_key, ExternalSigner):
            return private_key.sign_der(bytes(data))
        raise UnsupportedAlgorithm("not an SM2 private key", message_zh="不是 SM2 私钥")

    def verify(self, public_key: Any, data: bytes, signature: bytes) -> None:
        pub = _as_public(public_key)
        self._require_own_key(pub)
        der = _ec_signature_to_der(signature, _SM2_N)
        try:
            pub.verify(der, bytes(data), gm_ec.ECDSA(gm_hashes.SM3()))
        except Exception as exc:  # tongsuopy InvalidSignature or an OpenSSL error
            raise InvalidSignature(
                "SM2 signature verification failed", message_zh="SM2 签名验证失败"
            ) from exc

    def digest(self, data: bytes) -> bytes:
        return sm3(data)


class INTLSuite(Suite):
    """ECDSA P-256 with SHA-256 (default) or RSA-3072 PKCS#1 v1.5 with SHA-256."""

    name = "INTL"
    signature_algorithm_oid = OID.ECDSA_SHA256
    digest_algorithm_oid = OID.SHA256
    hash_name = "sha256"
    key_kinds = ("ec-p256", "rsa-3072")
    default_key_kind = "ec-p256"

    def generate_key(self, kind: str | None = None) -> Any:
        kind = kind or self.default_key_kind
        if kind == "ec-p256":
            return c_ec.generate_private_key(c_ec.SECP256R1())
        if kind == "rsa-3072":
            return c_rsa.generate_private_key(public_exponent=65537, key_size=3072)
        raise UnsupportedAlgorithm(f"INTL suite has no key kind {kind!r}")

    def owns_key(self, key: Any) -> bool:
        try:
            alg = key_algorithm(key)
        except UnsupportedAlgorithm:
            return False
        return alg == "EC-P256" or (alg.startswith("RSA-") and int(alg[4:]) >= 2048)

    def sign(self, private_key: Any, data: bytes) -> bytes:
        self._require_own_key(private_key)
        data = bytes(data)
        if isinstance(private_key, c_ec.EllipticCurvePrivateKey):
            return private_key.sign(data, c_ec.ECDSA(c_hashes.SHA256()))
        if isinstance(private_key, c_rsa.RSAPrivateKey):
            return private_key.sign(data, c_asym_padding.PKCS1v15(), c_hashes.SHA256())
        if isinstance(private_key, ExternalSigner):
            return private_key.sign_der(data)
        raise UnsupportedAlgorithm("not an INTL private key")

    def verify(self, public_key: Any, data: bytes, signature: bytes) -> None:
        pub = _as_public(public_key)
        self._require_own_key(pub)
        oid = OID.ECDSA_SHA256 if isinstance(pub, c_ec.EllipticCurvePublicKey) else OID.RSA_SHA256
        _verify_intl(pub, bytes(data), _to_bytes(signature), oid)

    def digest(self, data: bytes) -> bytes:
        return hashlib.sha256(bytes(data)).digest()


def _verify_intl(pub: Any, data: bytes, signature: bytes, oid: str) -> None:
    try:
        if isinstance(pub, c_ec.EllipticCurvePublicKey):
            if oid not in _ECDSA_HASHES:
                raise UnsupportedAlgorithm(f"{oid} is not an ECDSA signature algorithm")
            der = _ec_signature_to_der(signature, _P256_N)
            pub.verify(der, data, c_ec.ECDSA(_ECDSA_HASHES[oid]()))
        elif isinstance(pub, c_rsa.RSAPublicKey):
            if oid not in _RSA_HASHES:
                raise UnsupportedAlgorithm(f"{oid} is not an RSA PKCS#1 v1.5 signature algorithm")
            pub.verify(signature, data, c_asym_padding.PKCS1v15(), _RSA_HASHES[oid]())
        else:
            raise UnsupportedAlgorithm(f"unsupported public key {type(pub).__name__}")
    except _CryptoInvalidSignature as exc:
        raise InvalidSignature("signature verification failed", message_zh="签名验证失败") from exc


GM: Suite = GMSuite()
INTL: Suite = INTLSuite()
_SUITES = {"GM": GM, "INTL": INTL}


def get_suite(name: str | None = None) -> Suite:
    """``"GM"`` (default when ``name`` is empty) or ``"INTL"``, case-insensitive."""
    if isinstance(name, Suite):
        return name
    key = (name or "GM").strip().upper()
    try:
        return _SUITES[key]
    except KeyError:
        raise UnsupportedAlgorithm(
            f"unknown algorithm suite {name!r} (use GM or INTL)",
            message_zh=f"未知的算法套件 {name}",
        ) from None


# ----------------------------------------------------------------- algorithm by key/OID


def sign_data(private_key: Any, data: bytes) -> bytes:
    """Sign with the suite that matches the key (SM2 → SM3withSM2, P-256 → ECDSA-SHA256…)."""
    return suite_for_key(private_key).sign(private_key, data)


def verify_signature(
    public_key: Any,
    data: bytes,
    signature: bytes,
    signature_algorithm_oid: str | None = None,
) -> None:
    """Verify with the algorithm named by ``signature_algorithm_oid`` (a certificate's or
    CRL's signatureAlgorithm), or with the key's default algorithm when it is ``None``.

    Raises :class:`InvalidSignature`, or :class:`UnsupportedAlgorithm` when the OID does
    not fit the key.
    """
    pub = _as_public(public_key)
    if _is_sm2_public(pub):
        if signature_algorithm_oid not in (None, OID.SM3_WITH_SM2, OID.SM2_SIGN):
            raise UnsupportedAlgorithm(
                f"signature algorithm {signature_algorithm_oid} does not fit an SM2 key",
                message_zh="签名算法与 SM2 密钥不符",
            )
        GM.verify(pub, data, signature)
        return
    if isinstance(pub, (c_ec.EllipticCurvePublicKey, c_rsa.RSAPublicKey)):
        if signature_algorithm_oid is None:
            signature_algorithm_oid = signature_algorithm_for_key(pub)
        if isinstance(pub, c_ec.EllipticCurvePublicKey) and not isinstance(
            pub.curve, c_ec.SECP256R1
        ):
            raise UnsupportedAlgorithm(f"EC curve {pub.curve.name} is not supported")
        if isinstance(pub, c_rsa.RSAPublicKey) and pub.key_size < 2048:
            raise UnsupportedAlgorithm(
                f"RSA-{pub.key_size} is too weak", message_zh="RSA 密钥长度不足"
            )
        _verify_intl(pub, bytes(data), _to_bytes(signature), signature_algorithm_oid)
        return
    raise UnsupportedAlgorithm(f"unsupported public key {type(pub).__name__}")


def verify_with_certificate(cert: Any, data: bytes, signature: bytes) -> None:
    """Verify ``signature`` over ``data`` with the public key of ``cert`` (PEM, DER or a
    loaded certificate), choosing the algorithm from the certificate's key: SM2 → SM2/SM3
    with the default signer ID, P-256 → ECDSA-SHA256, RSA → PKCS#1 v1.5 SHA-256.

    Only the signature is checked; the certificate's validity and chain are the job of
    :func:`gongwen.pki.crl.validate_chain`.
    """
    if isinstance(cert, (bytes, bytearray, memoryview)):
        key = _certificate_key(bytes(cert))
    else:
        key = _load_certificate_key(cert)
    verify_signature(key, data, signature)


def _load_certificate_key(cert: Any) -> Any:
    from .x509 import load_certificate

    certificate = load_certificate(cert)
    return load_public_key(certificate["tbs_certificate"]["subject_public_key_info"].dump())


# The public key of a certificate is a pure function of its bytes, and the same few
# certificates (a unit's seal, its receipt key) sign and verify thousands of times.
_certificate_key = functools.lru_cache(maxsize=256)(_load_certificate_key)


def certificate_public_key(cert_der: bytes) -> Any:
    """The public key of a DER certificate (kept per process, by the certificate's bytes)."""
    return _certificate_key(bytes(cert_der))


def is_private_key(key: Any) -> bool:
    """True for a private key held in this process (SM2, P-256, RSA), as opposed to an
    external signer (a token), whose reported public key is only its own word."""
    return isinstance(key, _PRIVATE_KEY_TYPES)


def key_matches_certificate(key: Any, cert_der: bytes) -> bool:
    """True if ``key`` (a private key or an external signer) is the key of the DER
    certificate ``cert_der``: their public halves are the same. A signer that checks this
    once knows every signature a private key of this process makes verifies with the
    certificate, without verifying each (~0.3 ms an SM2 verification). A certificate or
    key that cannot be read raises its PKIError (it is not a mismatch)."""
    return public_key_der(key) == public_key_der(certificate_public_key(cert_der))
