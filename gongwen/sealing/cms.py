"""CMS SignedData for PDF signatures (RFC 5652, ISO 32000-1 §12.8.3.3), GM and INTL suites.

GM suite (GB/T 35275-2017, SM2 密码算法加密签名消息语法规范):

* ``digestAlgorithm`` = SM3 ``1.2.156.10197.1.401`` (no parameters);
* ``signatureAlgorithm`` = SM2-1 signature ``1.2.156.10197.1.301.1`` (no parameters). GB/T
  35275 names the SM2 signature algorithm here and the digest separately, as ofdrw's
  GB/T 35275 builder does; the pair reads as SM3withSM2. When verifying we also accept
  ``1.2.156.10197.1.501`` (SM3withSM2, written by BouncyCastle-based signers);
* the SM2 signature is computed over the DER ``SET OF`` signed attributes with the default
  signer ID ``1234567812345678`` (GB/T 35276), DER ``SEQUENCE {r, s}``;
* signed attributes: content-type (id-data), message-digest (SM3 of the signed byte
  ranges), signing-time, signingCertificateV2 (RFC 5035) with an explicit SM3 hash.

INTL suite (PAdES baseline B-B, ETSI EN 319 142-1): SHA-256, ecdsa-with-SHA256
``1.2.840.10045.4.3.2`` (or sha256WithRSAEncryption), signed attributes content-type,
message-digest and signingCertificateV2; **no** signing-time attribute (PAdES forbids it,
the claimed time goes into the signature dictionary's ``/M``). B-T adds an RFC 3161
signature time-stamp token as an unsigned attribute.

Both use the PKCS #7 content types (signedData ``1.2.840.113549.1.7.2``, data
``1.2.840.113549.1.7.1``), because PDF readers only accept those in ``/Contents``; GB/T
35275's own ``1.2.156.10197.6.1.4.2.*`` types are accepted when verifying.

Signing assembles the DER directly from precomputed parts (certificates, signer
identifier, algorithm identifiers), so a signature costs the private-key operation and a
few byte concatenations. Parsing and verifying uses asn1crypto.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

from asn1crypto import algos as a_algos
from asn1crypto import cms as a_cms
from asn1crypto import core as a_core
from asn1crypto import tsp as a_tsp
from asn1crypto import x509 as a_x509

from gongwen.pki import suites
from gongwen.pki.errors import InvalidSignature, MalformedInput, PKIError, UnsupportedAlgorithm

__all__ = [
    "OID",
    "CMSBuilder",
    "CMSSignature",
    "TimeStamper",
    "digest_name_for_oid",
    "new_hash",
    "parse_cms",
    "register_sm_oids",
    "verify_cms_signature",
    "verify_timestamp_token",
]


class OID:
    DATA = "1.2.840.113549.1.7.1"
    SIGNED_DATA = "1.2.840.113549.1.7.2"
    GM_DATA = "1.2.156.10197.6.1.4.2.1"  # GB/T 35275 data
    GM_SIGNED_DATA = "1.2.156.10197.6.1.4.2.2"  # GB/T 35275 signedData
    CONTENT_TYPE = "1.2.840.113549.1.9.3"
    MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
    SIGNING_TIME = "1.2.840.113549.1.9.5"
    SIGNING_CERTIFICATE = "1.2.840.113549.1.9.16.2.12"
    SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
    TIMESTAMP_TOKEN = "1.2.840.113549.1.9.16.2.14"
    TST_INFO = "1.2.840.113549.1.9.16.1.4"
    SM3 = suites.OID.SM3
    SM2_SIGN = suites.OID.SM2_SIGN
    SM3_WITH_SM2 = suites.OID.SM3_WITH_SM2
    SHA1 = "1.3.14.3.2.26"
    SHA256 = suites.OID.SHA256
    SHA384 = "2.16.840.1.101.3.4.2.2"
    SHA512 = "2.16.840.1.101.3.4.2.3"
    ECDSA_SHA256 = suites.OID.ECDSA_SHA256
    ECDSA_SHA384 = suites.OID.ECDSA_SHA384
    ECDSA_SHA512 = suites.OID.ECDSA_SHA512
    RSA = suites.OID.RSA
    RSA_SHA256 = suites.OID.RSA_SHA256
    RSA_SHA384 = suites.OID.RSA_SHA384
    RSA_SHA512 = suites.OID.RSA_SHA512


_DIGEST_NAMES = {
    OID.SM3: "sm3",
    OID.SHA256: "sha256",
    OID.SHA384: "sha384",
    OID.SHA512: "sha512",
    OID.SHA1: "sha1",
}
_DIGEST_OIDS = {v: k for k, v in _DIGEST_NAMES.items()}
_SM2_SIG_OIDS = {OID.SM2_SIGN, OID.SM3_WITH_SM2}
_ECDSA_SIG_OIDS = {
    OID.ECDSA_SHA256: "sha256",
    OID.ECDSA_SHA384: "sha384",
    OID.ECDSA_SHA512: "sha512",
}
_RSA_SIG_OIDS = {OID.RSA_SHA256: "sha256", OID.RSA_SHA384: "sha384", OID.RSA_SHA512: "sha512"}

_registered = False
_register_lock = threading.Lock()


def register_sm_oids() -> None:
    """Teach asn1crypto the SM OIDs (``sm3``, ``sm2``, ``sm3_sm2``) so that pyHanko and
    asn1crypto can name them. Idempotent; changes asn1crypto's class-level maps."""
    global _registered
    if _registered:
        return
    with _register_lock:
        for cls, oid, name in (
            (a_algos.DigestAlgorithmId, OID.SM3, "sm3"),
            (a_algos.SignedDigestAlgorithmId, OID.SM2_SIGN, "sm2"),
            (a_algos.SignedDigestAlgorithmId, OID.SM3_WITH_SM2, "sm3_sm2"),
        ):
            if cls._map.get(oid) not in (None, name):
                continue  # someone else named it: keep theirs
            cls._map[oid] = name
            if cls._reverse_map is not None:
                cls._reverse_map[name] = oid
        _registered = True


# ---------------------------------------------------------------------------- hashing


def new_hash(name: str) -> Any:
    """A hashlib-style object (``update``, ``digest``) for ``sm3``/``sha256``/…"""
    try:
        return hashlib.new(name)
    except ValueError:
        if name != "sm3":
            raise UnsupportedAlgorithm(f"unsupported digest {name}") from None
        return _TongsuoSM3()


class _TongsuoSM3:
    """SM3 through tongsuopy when the Python build's OpenSSL lacks it."""

    def __init__(self) -> None:
        self._h = suites.sm3_hasher()

    def update(self, data: bytes) -> None:
        self._h.update(bytes(data))

    def digest(self) -> bytes:
        return self._h.copy().finalize()

    def copy(self) -> _TongsuoSM3:
        other = _TongsuoSM3.__new__(_TongsuoSM3)
        other._h = self._h.copy()
        return other


def digest_name_for_oid(oid: str) -> str:
    try:
        return _DIGEST_NAMES[oid]
    except KeyError:
        raise UnsupportedAlgorithm(
            f"unsupported digest algorithm {oid}", message_zh=f"不支持的摘要算法 {oid}"
        ) from None


# ------------------------------------------------------------------------------ DER bits


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(content)) + content


def _seq(*parts: bytes) -> bytes:
    return _tlv(0x30, b"".join(parts))


def _set_of(*parts: bytes) -> bytes:
    return _tlv(0x31, b"".join(sorted(parts)))  # DER: SET OF sorted by encoding


@lru_cache(maxsize=64)
def _oid(dotted: str) -> bytes:
    return a_core.ObjectIdentifier(dotted).dump()


def _alg_id(dotted: str, null_params: bool = False) -> bytes:
    return _seq(_oid(dotted), b"\x05\x00" if null_params else b"")


def _time_der(dt: datetime) -> bytes:
    dt = dt.astimezone(UTC)
    if 1950 <= dt.year < 2050:  # RFC 5652 §11.3: UTCTime in these years
        return _tlv(0x17, dt.strftime("%y%m%d%H%M%SZ").encode("ascii"))
    return _tlv(0x18, dt.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def _attribute(oid: str, *values: bytes) -> bytes:
    return _seq(_oid(oid), _set_of(*values))


# ------------------------------------------------------------------------------- building


class TimeStamper(Protocol):
    """Something that returns an RFC 3161 TimeStampToken (DER ContentInfo) for the
    SHA-256 digest of ``data`` (B-T: the signature value)."""

    def timestamp(self, data: bytes) -> bytes: ...


def _signature_size(key: Any) -> int:
    alg = suites.key_algorithm(key)
    if alg.startswith("RSA-"):
        return int(alg[4:]) // 8
    return 72  # DER SEQUENCE{r, s} of a 256-bit curve: at most 72 bytes


@dataclass(frozen=True)
class _Material:
    cert: a_x509.Certificate
    cert_der: bytes
    spki_der: bytes
    issuer: bytes  # DER Name
    serial: bytes  # DER INTEGER
    certificates: tuple[bytes, ...]  # signer first, then the chain


def _as_der(cert: Any) -> bytes:
    if isinstance(cert, a_x509.Certificate):
        return cert.dump()
    return cert.encode("ascii") if isinstance(cert, str) else bytes(cert)


@lru_cache(maxsize=64)
def _certificate_material(cert_der: bytes, chain: tuple[bytes, ...]) -> _Material:
    """Parsed once per certificate and chain (a sealing service seals with few of them)."""
    from gongwen.pki.x509 import load_certificate

    cert = load_certificate(cert_der)
    der = cert.dump()
    extra = [load_certificate(c).dump() for c in chain]
    tbs = cert["tbs_certificate"]
    return _Material(
        cert=cert,
        cert_der=der,
        spki_der=suites.public_key_der(
            suites.load_public_key(tbs["subject_public_key_info"].dump())
        ),
        issuer=tbs["issuer"].dump(),
        serial=tbs["serial_number"].dump(),
        certificates=(der, *[c for c in extra if c != der]),
    )


class CMSBuilder:
    """Builds detached CMS SignedData for one signer certificate, suite and options.

    ``signer`` is a private key object or a :class:`gongwen.pki.suites.ExternalSigner`;
    ``chain`` holds further certificates to embed (issuing CA, …), DER or PEM.
    ``signing_time_attribute`` adds the CMS signing-time attribute (GM: yes; PAdES: no).
    """

    def __init__(
        self,
        *,
        signer: Any,
        cert_der: bytes,
        chain: Sequence[bytes] = (),
        suite: Any = None,
        signing_time_attribute: bool | None = None,
    ) -> None:
        mat = _certificate_material(_as_der(cert_der), tuple(_as_der(c) for c in chain))
        self.cert = mat.cert
        self.cert_der = mat.cert_der
        self.signer = signer
        alg = suites.key_algorithm(signer)
        key_suite = suites.suite_for_key(signer)
        self.suite = suites.get_suite(suite) if suite is not None else key_suite
        if self.suite.name != key_suite.name:
            raise UnsupportedAlgorithm(
                f"a {alg} key cannot sign for the {self.suite.name} suite",
                message_zh="签章密钥与算法套件不符",
            )
        if suites.public_key_der(signer) != mat.spki_der:
            raise MalformedInput(
                "the signing key does not match the certificate",
                message_zh="签章私钥与证书不匹配",
            )
        self.is_gm = self.suite.name == "GM"
        self.signing_time_attribute = (
            self.is_gm if signing_time_attribute is None else signing_time_attribute
        )
        if self.is_gm:
            self.digest_name = "sm3"
            self.signature_algorithm_oid = OID.SM2_SIGN
            sig_alg = _alg_id(OID.SM2_SIGN)
        elif alg.startswith("RSA-"):
            self.digest_name = "sha256"
            self.signature_algorithm_oid = OID.RSA_SHA256
            sig_alg = _alg_id(OID.RSA_SHA256, null_params=True)
        else:
            self.digest_name = "sha256"
            self.signature_algorithm_oid = OID.ECDSA_SHA256
            sig_alg = _alg_id(OID.ECDSA_SHA256)
        self.digest_algorithm_oid = _DIGEST_OIDS[self.digest_name]
        digest_alg = _alg_id(self.digest_algorithm_oid)
        self._digest_alg = digest_alg
        self._sig_alg = sig_alg
        self.certificates = list(mat.certificates)
        self._certs_block = _tlv(0xA0, b"".join(mat.certificates))
        self._sid = _seq(mat.issuer, mat.serial)
        # signingCertificateV2 (RFC 5035): ESSCertIDv2 with the suite's hash; SHA-256 is the
        # DEFAULT and must then be omitted in DER.
        cert_hash = new_hash(self.digest_name)
        cert_hash.update(self.cert_der)
        issuer_serial = _seq(_seq(_tlv(0xA4, mat.issuer)), mat.serial)
        ess_id = _seq(
            b"" if self.digest_name == "sha256" else digest_alg,
            _tlv(0x04, cert_hash.digest()),
            issuer_serial,
        )
        self._attr_ess = _attribute(OID.SIGNING_CERTIFICATE_V2, _seq(_seq(ess_id)))
        self._attr_content_type = _attribute(OID.CONTENT_TYPE, _oid(OID.DATA))
        self._sig_size = _signature_size(signer)

    def new_hash(self) -> Any:
        return new_hash(self.digest_name)

    def signed_attributes(self, digest: bytes, signing_time: datetime | None = None) -> bytes:
        """DER ``SET OF Attribute`` (tag 0x31): the bytes the signature covers."""
        attrs = [
            self._attr_content_type,
            _attribute(OID.MESSAGE_DIGEST, _tlv(0x04, digest)),
            self._attr_ess,
        ]
        if self.signing_time_attribute:
            attrs.append(_attribute(OID.SIGNING_TIME, _time_der(signing_time or datetime.now(UTC))))
        return _set_of(*attrs)

    def assemble(
        self, signed_attrs: bytes, signature: bytes, unsigned_attrs: Sequence[bytes] = ()
    ) -> bytes:
        """ContentInfo { signedData } around one SignerInfo."""
        # [0] IMPLICIT: same contents as the SET, context tag 0xA0.
        attrs_implicit = b"\xa0" + signed_attrs[1:]
        signer_info = _seq(
            b"\x02\x01\x01",
            self._sid,
            self._digest_alg,
            attrs_implicit,
            self._sig_alg,
            _tlv(0x04, signature),
            _tlv(0xA1, b"".join(sorted(unsigned_attrs))) if unsigned_attrs else b"",
        )
        signed_data = _seq(
            b"\x02\x01\x01",
            _set_of(self._digest_alg),
            _seq(_oid(OID.DATA)),
            self._certs_block,
            _set_of(signer_info),
        )
        return _seq(_oid(OID.SIGNED_DATA), _tlv(0xA0, signed_data))

    def sign_attributes(self, signed_attrs: bytes) -> bytes:
        return self.suite.sign(self.signer, signed_attrs)

    def sign(
        self,
        digest: bytes,
        signing_time: datetime | None = None,
        timestamper: TimeStamper | None = None,
    ) -> bytes:
        """Detached CMS over a document whose digest (``self.digest_name``) is ``digest``."""
        attrs = self.signed_attributes(digest, signing_time)
        signature = self.sign_attributes(attrs)
        unsigned: list[bytes] = []
        if timestamper is not None:
            token = timestamper.timestamp(signature)
            unsigned.append(_attribute(OID.TIMESTAMP_TOKEN, token))
        return self.assemble(attrs, signature, unsigned)

    def max_size(self, timestamp_reserve: int = 0) -> int:
        """An upper bound of ``len(sign(...))`` (signature and lengths at their largest)."""
        attrs = self.signed_attributes(b"\x00" * 64, datetime(2049, 12, 31, tzinfo=UTC))
        dummy = self.assemble(attrs, b"\x00" * self._sig_size)
        return len(dummy) + 16 + (timestamp_reserve + 32 if timestamp_reserve else 0)


# ------------------------------------------------------------------------------- parsing


@dataclass
class CMSSignature:
    """What a PDF signature's CMS says, parsed but not yet checked."""

    content_type: str
    digest_algorithm_oid: str
    digest_algorithm: str | None  # "sm3", "sha256", … or None when unsupported
    signature_algorithm_oid: str
    signature: bytes
    signed_attrs_der: bytes | None  # DER SET OF (tag 0x31) as signed; None without attrs
    message_digest: bytes | None
    content_type_attr: str | None
    signing_time: datetime | None
    signer_cert: a_x509.Certificate | None
    certificates: list[bytes]
    ess_cert_ids: list[tuple[str, bytes, tuple[bytes, int] | None]] = field(default_factory=list)
    ess_version: int | None = None  # 1 (signingCertificate) or 2 (signingCertificateV2)
    timestamp_token: bytes | None = None
    encap_content: bytes | None = None  # eContent, for attached signatures (time stamps)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (en, zh)

    @property
    def signer_cert_der(self) -> bytes | None:
        return self.signer_cert.dump() if self.signer_cert is not None else None

    @property
    def suite_name(self) -> str:
        return "GM" if self.signature_algorithm_oid in _SM2_SIG_OIDS else "INTL"


def _parse_time(value: Any) -> datetime | None:
    try:
        dt = value.native
    except Exception:
        return None
    if isinstance(dt, datetime):
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return None


def _attr_values(attrs: Any, oid: str) -> list[Any]:
    out: list[Any] = []
    for attr in attrs:
        if attr["type"].dotted == oid:
            out.extend(attr["values"])
    return out


def _as_spec(value: Any, spec: Any) -> Any:
    """asn1crypto leaves attributes it has no spec for as ``Any``: parse them."""
    return value.parse(spec) if isinstance(value, a_core.Any) else value


def parse_cms(der: bytes) -> CMSSignature:
    """Parse a DER ContentInfo{SignedData} with exactly one SignerInfo. Raises
    :class:`MalformedInput` for anything that is not that shape."""
    register_sm_oids()
    try:
        info = a_cms.ContentInfo.load(der)
        ctype = info["content_type"].dotted
        if ctype not in (OID.SIGNED_DATA, OID.GM_SIGNED_DATA):
            raise MalformedInput(f"CMS content type {ctype} is not signedData")
        sd = info["content"]
        if not isinstance(sd, a_cms.SignedData):  # GB/T 35275 content type: same syntax
            sd = a_cms.SignedData.load(sd.contents)  # inside the EXPLICIT [0]
        signer_infos = sd["signer_infos"]
        if len(signer_infos) != 1:
            raise MalformedInput(f"expected one SignerInfo, found {len(signer_infos)}")
        si = signer_infos[0]
        certs: list[a_x509.Certificate] = []
        for choice in sd["certificates"] or []:
            if choice.name == "certificate":
                certs.append(choice.chosen)
        digest_oid = si["digest_algorithm"]["algorithm"].dotted
        sig_oid = si["signature_algorithm"]["algorithm"].dotted
        signature = si["signature"].native
        sid = si["sid"]
        signer_cert = None
        if sid.name == "issuer_and_serial_number":
            want_issuer = sid.chosen["issuer"].dump()
            want_serial = sid.chosen["serial_number"].native
            for c in certs:
                tbs = c["tbs_certificate"]
                if (
                    tbs["serial_number"].native == want_serial
                    and tbs["issuer"].dump() == want_issuer
                ):
                    signer_cert = c
                    break
        else:
            want_ski = sid.chosen.native
            for c in certs:
                if c.key_identifier == want_ski:
                    signer_cert = c
                    break
        signed_attrs_der = None
        message_digest = None
        content_type_attr = None
        signing_time = None
        ess_ids: list[tuple[str, bytes, tuple[bytes, int] | None]] = []
        ess_version = None
        problems: list[tuple[str, str]] = []
        attrs = si["signed_attrs"]
        if attrs.contents is not None and len(attrs):
            signed_attrs_der = b"\x31" + _der_len(len(attrs.contents)) + attrs.contents
            md = _attr_values(attrs, OID.MESSAGE_DIGEST)
            if len(md) == 1:
                message_digest = md[0].native
            elif len(md) > 1:
                problems.append(("several message-digest values", "消息摘要属性重复"))
            ct = _attr_values(attrs, OID.CONTENT_TYPE)
            if len(ct) == 1:
                content_type_attr = ct[0].dotted
            st = _attr_values(attrs, OID.SIGNING_TIME)
            if st:
                signing_time = _parse_time(st[0])
            v2 = _attr_values(attrs, OID.SIGNING_CERTIFICATE_V2)
            v1 = _attr_values(attrs, OID.SIGNING_CERTIFICATE)
            if v2:
                ess_version = 2
                for cid in _as_spec(v2[0], a_tsp.SigningCertificateV2)["certs"]:
                    alg = cid["hash_algorithm"]["algorithm"].dotted
                    iss = None
                    if cid["issuer_serial"].contents is not None and len(cid["issuer_serial"]):
                        gn = cid["issuer_serial"]["issuer"]
                        if len(gn) and gn[0].name == "directory_name":
                            iss = (
                                gn[0].chosen.untag().dump(),
                                cid["issuer_serial"]["serial_number"].native,
                            )
                    ess_ids.append((alg, cid["cert_hash"].native, iss))
            elif v1:
                ess_version = 1
                for cid in _as_spec(v1[0], a_tsp.SigningCertificate)["certs"]:
                    ess_ids.append((OID.SHA1, cid["cert_hash"].native, None))
        timestamp_token = None
        unsigned = si["unsigned_attrs"]
        if unsigned.contents is not None and len(unsigned):
            ts = _attr_values(unsigned, OID.TIMESTAMP_TOKEN)
            if ts:
                timestamp_token = ts[0].dump()
        encap = sd["encap_content_info"]
        econtent = encap["content"]
        encap_content = None
        if not isinstance(econtent, a_core.Void) and econtent.contents is not None:
            encap_content = bytes(econtent.contents)
        return CMSSignature(
            content_type=ctype,
            digest_algorithm_oid=digest_oid,
            digest_algorithm=_DIGEST_NAMES.get(digest_oid),
            signature_algorithm_oid=sig_oid,
            signature=signature,
            signed_attrs_der=signed_attrs_der,
            message_digest=message_digest,
            content_type_attr=content_type_attr,
            signing_time=signing_time,
            signer_cert=signer_cert,
            certificates=[c.dump() for c in certs],
            ess_cert_ids=ess_ids,
            ess_version=ess_version,
            timestamp_token=timestamp_token,
            encap_content=encap_content,
            problems=problems,
        )
    except PKIError:
        raise
    except Exception as exc:
        raise MalformedInput(
            f"malformed CMS signature: {exc}", message_zh="CMS 签名数据格式错误"
        ) from exc


@lru_cache(maxsize=256)
def _public_key(spki_der: bytes) -> Any:
    return suites.load_public_key(spki_der)


def _signer_public_key(cert: a_x509.Certificate) -> Any:
    return _public_key(cert["tbs_certificate"]["subject_public_key_info"].dump())


def verify_cms_signature(sig: CMSSignature) -> None:
    """Check the signature value over the signed attributes with the signer certificate's
    key, the algorithm named in the SignerInfo and matching the key. Raises
    :class:`InvalidSignature` or :class:`UnsupportedAlgorithm`."""
    if sig.signer_cert is None:
        raise InvalidSignature(
            "the signer certificate is not in the CMS", message_zh="签名数据中缺少签章者证书"
        )
    if sig.signed_attrs_der is None:
        raise InvalidSignature(
            "CMS without signed attributes is not accepted", message_zh="签名数据缺少签名属性"
        )
    pub = _signer_public_key(sig.signer_cert)
    alg = suites.key_algorithm(pub)
    oid = sig.signature_algorithm_oid
    data = sig.signed_attrs_der
    if alg == "SM2":
        if oid not in _SM2_SIG_OIDS:
            raise UnsupportedAlgorithm(
                f"signature algorithm {oid} does not fit an SM2 key",
                message_zh="签名算法与 SM2 密钥不符",
            )
        if sig.digest_algorithm != "sm3":
            raise UnsupportedAlgorithm(
                "SM2 signatures must use SM3 (GB/T 35275)", message_zh="SM2 签名须使用 SM3 摘要"
            )
        suites.verify_signature(pub, data, sig.signature, suites.OID.SM3_WITH_SM2)
        return
    if oid in _ECDSA_SIG_OIDS or oid in _RSA_SIG_OIDS:
        suites.verify_signature(pub, data, sig.signature, oid)
        return
    if oid == OID.RSA and sig.digest_algorithm in ("sha256", "sha384", "sha512"):
        rsa_oid = {v: k for k, v in _RSA_SIG_OIDS.items()}[sig.digest_algorithm]
        suites.verify_signature(pub, data, sig.signature, rsa_oid)
        return
    raise UnsupportedAlgorithm(
        f"unsupported signature algorithm {oid}", message_zh=f"不支持的签名算法 {oid}"
    )


def check_signing_certificate(sig: CMSSignature) -> tuple[bool | None, str, str]:
    """(ok, reason, reason_zh) for the ESS signing-certificate attribute: ``None`` when
    absent, else whether its first ESSCertID names the signer certificate."""
    if sig.ess_version is None or not sig.ess_cert_ids:
        return None, "no signing-certificate attribute", "无签章证书属性"
    if sig.signer_cert is None:
        return False, "signer certificate missing", "缺少签章者证书"
    alg, want, iss = sig.ess_cert_ids[0]
    name = _DIGEST_NAMES.get(alg)
    if name is None:
        return (
            False,
            f"unsupported hash {alg} in signing-certificate",
            "签章证书属性的摘要算法不受支持",
        )
    h = new_hash(name)
    h.update(sig.signer_cert.dump())
    if h.digest() != want:
        return (
            False,
            "signing-certificate attribute names another certificate",
            "签章证书属性与签章者证书不符",
        )
    if iss is not None:
        tbs = sig.signer_cert["tbs_certificate"]
        if iss != (tbs["issuer"].dump(), tbs["serial_number"].native):
            return (
                False,
                "signing-certificate issuer/serial mismatch",
                "签章证书属性的颁发者或序列号不符",
            )
    v = "signingCertificateV2" if sig.ess_version == 2 else "signingCertificate"
    return (
        True,
        f"{v} matches the signer certificate ({name})",
        f"签章证书属性与签章者证书一致（{name}）",
    )


@dataclass
class TimestampInfo:
    gen_time: datetime
    hash_algorithm: str
    tsa_cert: bytes | None
    certificates: list[bytes]


def verify_timestamp_token(token: bytes, signed_value: bytes) -> TimestampInfo:
    """Check an RFC 3161 token over ``signed_value`` (the signature it time-stamps): the
    message imprint, the TSA's CMS signature and the message-digest over TSTInfo. The TSA
    certificate's chain is the caller's job. Raises :class:`InvalidSignature`."""
    sig = parse_cms(token)
    if sig.encap_content is None:
        raise InvalidSignature("time-stamp token without TSTInfo", message_zh="时间戳缺少 TSTInfo")
    try:
        tst = a_tsp.TSTInfo.load(sig.encap_content)
        imprint = tst["message_imprint"]
        alg = digest_name_for_oid(imprint["hash_algorithm"]["algorithm"].dotted)
        want = imprint["hashed_message"].native
        gen_time = tst["gen_time"].native
    except PKIError:
        raise
    except Exception as exc:
        raise InvalidSignature(f"bad TSTInfo: {exc}", message_zh="时间戳格式错误") from exc
    h = new_hash(alg)
    h.update(signed_value)
    if h.digest() != want:
        raise InvalidSignature(
            "time-stamp imprint does not match the signature", message_zh="时间戳与签名值不符"
        )
    if sig.digest_algorithm is None or sig.message_digest is None:
        raise InvalidSignature(
            "time-stamp token lacks a message digest", message_zh="时间戳缺少消息摘要"
        )
    h = new_hash(sig.digest_algorithm)
    h.update(sig.encap_content)
    if h.digest() != sig.message_digest:
        raise InvalidSignature(
            "time-stamp TSTInfo digest mismatch", message_zh="时间戳内容摘要不符"
        )
    verify_cms_signature(sig)
    if gen_time.tzinfo is None:
        gen_time = gen_time.replace(tzinfo=UTC)
    return TimestampInfo(gen_time, alg, sig.signer_cert_der, sig.certificates)
