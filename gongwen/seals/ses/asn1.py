"""ASN.1 structures of the electronic seal (电子印章) and the seal signature (电子签章).

GB/T 38540-2020 《信息安全技术 安全电子签章密码技术规范》 (version 4) and its predecessor
GM/T 0031-2014 (version 1), modelled with asn1crypto.

Two families of classes live here:

* **Normative** classes (``SESeal``, ``SES_SealInfo``, …, ``SES_Signature``, ``TBS_Sign`` and
  the ``…V1`` classes) follow the standards' field order and types exactly. gongwen writes
  only with these, so what it writes is strict DER.
* **Reader** classes (``_Reader…``) accept what other implementations actually write: OCTET
  STRING where a BIT STRING belongs, UTCTime in a v4 seal, any string type for IA5String,
  a certificate list holding strings instead of certificates. They are only used to *read*;
  signatures are always verified over the raw DER slices as received, never over a
  re-encoding (asn1crypto keeps the original bytes of every parsed value and
  ``split_sequence`` gives raw element slices).

Field names follow the standards' spelling (``eSealInfo``, ``signAlgID``, ``Vid`` …) so that
the code can be read side by side with the ASN.1 in docs/seals.md and STANDARDS.md §1.
"""

from __future__ import annotations

from asn1crypto import core

__all__ = [
    "OID_SM2_SIGN",
    "OID_SM3",
    "OID_SM3_WITH_SM2",
    "SES_CERT_LIST_SPECS",
    "CertDigestList",
    "CertDigestObj",
    "CertInfoList",
    "DERError",
    "ExtData",
    "ExtensionDatas",
    "SES_ESPictureInfo",
    "SES_ESPropertyInfo",
    "SES_ESPropertyInfoV1",
    "SES_Header",
    "SES_SealInfo",
    "SES_SealInfoV1",
    "SES_SignInfoV1",
    "SES_Signature",
    "SES_SignatureV1",
    "SESeal",
    "SESealV1",
    "TBS_Sign",
    "TBS_SignV1",
    "bit_string",
    "encode_sequence",
    "split_sequence",
]

# GM/T 0006 / GB/T 33560 object identifiers (STANDARDS.md §1.1).
OID_SM2_SIGN = "1.2.156.10197.1.301.1"
OID_SM3 = "1.2.156.10197.1.401"
OID_SM3_WITH_SM2 = "1.2.156.10197.1.501"


# --------------------------------------------------------------------------------------------
# Normative structures, GB/T 38540-2020 (v4)
# --------------------------------------------------------------------------------------------


class SES_Header(core.Sequence):
    """``SES_Header ::= SEQUENCE { ID IA5String, version INTEGER, Vid IA5String }``."""

    _fields = [
        ("ID", core.IA5String),  # always "ES"
        ("version", core.Integer),  # 4 (v1: 1)
        ("Vid", core.IA5String),  # vendor (厂商) identifier
    ]


class ExtData(core.Sequence):
    """``ExtData ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE,
    extnValue OCTET STRING }``."""

    _fields = [
        ("extnID", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extnValue", core.OctetString),
    ]


class ExtensionDatas(core.SequenceOf):
    """``ExtensionDatas ::= SEQUENCE SIZE (0..MAX) OF ExtData``."""

    _child_spec = ExtData


class CertInfoList(core.SequenceOf):
    """``CertInfoList ::= SEQUENCE OF OCTET STRING`` — each a DER X.509 certificate of a
    holder (签章者) allowed to use the seal."""

    _child_spec = core.OctetString


class CertDigestObj(core.Sequence):
    """``CertDigestObj ::= SEQUENCE { type PrintableString, value OCTET STRING }``."""

    _fields = [
        ("type", core.PrintableString),  # digest algorithm name, e.g. "SM3"
        ("value", core.OctetString),
    ]


class CertDigestList(core.SequenceOf):
    """``CertDigestList ::= SEQUENCE OF CertDigestObj``."""

    _child_spec = CertDigestObj


#: ``SES_CertList ::= CHOICE { certs CertInfoList, certDigestList CertDigestList }``.
#: Both alternatives are untagged SEQUENCEs, so the choice cannot be made from the tag: the
#: preceding ``certListType`` selects it (1 = certificates, 2 = certificate digests).
SES_CERT_LIST_SPECS: dict[int, type[core.Asn1Value]] = {1: CertInfoList, 2: CertDigestList}


def _cert_list_spec(prop: core.Sequence) -> type[core.Asn1Value]:
    cert_list_type = prop["certListType"].native
    spec = SES_CERT_LIST_SPECS.get(cert_list_type)
    if spec is None:
        raise ValueError(f"certListType {cert_list_type!r} is neither 1 nor 2")
    return spec


class SES_ESPropertyInfo(core.Sequence):
    """``SES_ESPropertyInfo`` (v4): seal type, name, holder certificates, dates."""

    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("certListType", core.Integer),
        ("certList", core.Any),  # SES_CertList, resolved by _cert_list_spec
        ("createDate", core.GeneralizedTime),
        ("validStart", core.GeneralizedTime),
        ("validEnd", core.GeneralizedTime),
    ]
    _spec_callbacks = {"certList": _cert_list_spec}


class SES_ESPictureInfo(core.Sequence):
    """``SES_ESPictureInfo ::= SEQUENCE { type IA5String, data OCTET STRING,
    width INTEGER, height INTEGER }`` — width/height are the display size in mm."""

    _fields = [
        ("type", core.IA5String),  # "png" | "jpg" | "gif" | "bmp" | "svg" | "ofd"
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class SES_SealInfo(core.Sequence):
    """``SES_SealInfo`` (v4) — the part the seal maker signs."""

    _fields = [
        ("header", SES_Header),
        ("esID", core.IA5String),
        ("property", SES_ESPropertyInfo),
        ("picture", SES_ESPictureInfo),
        ("extDatas", ExtensionDatas, {"optional": True}),  # untagged, as ofdrw writes it
    ]


class SESeal(core.Sequence):
    """``SESeal`` (v4, file ``Seal.esl``).

    ``signedValue`` = SM3withSM2 signature of the seal maker (制章者) over DER(eSealInfo).
    """

    _fields = [
        ("eSealInfo", SES_SealInfo),
        ("cert", core.OctetString),  # maker certificate, DER
        ("signAlgID", core.ObjectIdentifier),  # 1.2.156.10197.1.501
        ("signedValue", core.BitString),
    ]


class TBS_Sign(core.Sequence):
    """``TBS_Sign`` (v4): what the signer (签章者) signs."""

    _fields = [
        ("version", core.Integer),  # 4
        ("eseal", SESeal),
        ("timeInfo", core.GeneralizedTime),
        ("dataHash", core.BitString),  # SM3 of the protected data (OFD: Signature.xml)
        ("propertyInfo", core.IA5String),  # e.g. "/Doc_0/Signs/Sign_0/Signature.xml"
        ("extDatas", ExtensionDatas, {"explicit": 0, "optional": True}),
    ]


class SES_Signature(core.Sequence):
    """``SES_Signature`` (v4, file ``SignedValue.dat``)."""

    _fields = [
        ("toSign", TBS_Sign),
        ("cert", core.OctetString),  # signer certificate, DER
        ("signatureAlgID", core.ObjectIdentifier),
        ("signature", core.BitString),  # over DER(toSign)
        ("timeStamp", core.BitString, {"explicit": 0, "optional": True}),
    ]


# --------------------------------------------------------------------------------------------
# Normative structures, GM/T 0031-2014 (v1)
# --------------------------------------------------------------------------------------------


class SES_ESPropertyInfoV1(core.Sequence):
    """``SES_ESPropertyInfo`` (v1): no certListType, UTCTime dates."""

    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("certList", CertInfoList),
        ("createDate", core.UTCTime),
        ("validStart", core.UTCTime),
        ("validEnd", core.UTCTime),
    ]


class SES_SealInfoV1(core.Sequence):
    _fields = [
        ("header", SES_Header),
        ("esID", core.IA5String),
        ("property", SES_ESPropertyInfoV1),
        ("picture", SES_ESPictureInfo),
        ("extDatas", ExtensionDatas, {"optional": True}),
    ]


class SES_SignInfoV1(core.Sequence):
    """``SES_SignInfo`` (v1). ``signData`` is the maker's signature over
    DER(SEQUENCE { esealInfo, cert, signatureAlgorithm })."""

    _fields = [
        ("cert", core.OctetString),
        ("signatureAlgorithm", core.ObjectIdentifier),
        ("signData", core.BitString),
    ]


class SESealV1(core.Sequence):
    _fields = [
        ("esealInfo", SES_SealInfoV1),
        ("signInfo", SES_SignInfoV1),
    ]


class TBS_SignV1(core.Sequence):
    _fields = [
        ("version", core.Integer),  # 1
        ("eseal", SESealV1),
        ("timeInfo", core.BitString),  # time as text in a BIT STRING (vendors differ)
        ("dataHash", core.BitString),
        ("propertyInfo", core.IA5String),
        ("cert", core.OctetString),
        ("signatureAlgorithm", core.ObjectIdentifier),
    ]


class SES_SignatureV1(core.Sequence):
    _fields = [
        ("toSign", TBS_SignV1),
        ("signature", core.BitString),
    ]


# --------------------------------------------------------------------------------------------
# Lenient readers (never used to write)
# --------------------------------------------------------------------------------------------


class _AnyString(core.Choice):
    """A character string of any of the usual types (vendors mix IA5/UTF8/Printable)."""

    _alternatives = [
        ("ia5", core.IA5String),
        ("utf8", core.UTF8String),
        ("printable", core.PrintableString),
        ("visible", core.VisibleString),
        ("bmp", core.BMPString),
        ("teletex", core.TeletexString),
        ("general", core.GeneralString),
    ]


class _AnyTime(core.Choice):
    _alternatives = [
        ("generalized", core.GeneralizedTime),
        ("utc", core.UTCTime),
    ]


class _BitsOrOctets(core.Choice):
    """BIT STRING as the standard says, or OCTET STRING as some vendors write."""

    _alternatives = [
        ("bit_string", core.BitString),
        ("octet_string", core.OctetString),
    ]


class _TimeInfoV1(core.Choice):
    _alternatives = [
        ("bit_string", core.BitString),
        ("octet_string", core.OctetString),
        ("generalized", core.GeneralizedTime),
        ("utc", core.UTCTime),
        ("ia5", core.IA5String),
        ("printable", core.PrintableString),
        ("utf8", core.UTF8String),
    ]


class _CertEntry(core.Choice):
    """An element of a certificate list: normally OCTET STRING(DER cert); dms360 writes a
    string such as IA5String "1"."""

    _alternatives = [
        ("octet_string", core.OctetString),
        ("ia5", core.IA5String),
        ("utf8", core.UTF8String),
        ("printable", core.PrintableString),
        ("bit_string", core.BitString),
    ]


class _ReaderCertList(core.SequenceOf):
    _child_spec = _CertEntry


class _ReaderCertDigestObj(core.Sequence):
    _fields = [
        ("type", _AnyString),
        ("value", _BitsOrOctets),
    ]


class _ReaderCertDigestList(core.SequenceOf):
    _child_spec = _ReaderCertDigestObj


def _reader_cert_list_spec(prop: core.Sequence) -> type[core.Asn1Value]:
    if prop["certListType"].native == 2:
        return _ReaderCertDigestList
    # 1, and anything unknown: read leniently as a list of entries; the seal checks reject it.
    return _ReaderCertList


class _ReaderExtData(core.Sequence):
    _fields = [
        ("extnID", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extnValue", _BitsOrOctets),
    ]


class _ReaderExtensionDatas(core.SequenceOf):
    _child_spec = _ReaderExtData


class _ReaderHeader(core.Sequence):
    _fields = [
        ("ID", _AnyString),
        ("version", core.Integer),
        ("Vid", _AnyString),
    ]


class _ReaderPropertyV4(core.Sequence):
    _fields = [
        ("type", core.Integer),
        ("name", _AnyString),
        ("certListType", core.Integer),
        ("certList", core.Any),
        ("createDate", _AnyTime),
        ("validStart", _AnyTime),
        ("validEnd", _AnyTime),
    ]
    _spec_callbacks = {"certList": _reader_cert_list_spec}


class _ReaderPropertyV1(core.Sequence):
    _fields = [
        ("type", core.Integer),
        ("name", _AnyString),
        ("certList", _ReaderCertList),
        ("createDate", _AnyTime),
        ("validStart", _AnyTime),
        ("validEnd", _AnyTime),
    ]


class _ReaderPicture(core.Sequence):
    _fields = [
        ("type", _AnyString),
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class _ReaderSealInfoV4(core.Sequence):
    _fields = [
        ("header", _ReaderHeader),
        ("esID", _AnyString),
        ("property", _ReaderPropertyV4),
        ("picture", _ReaderPicture),
        ("extDatas", _ReaderExtensionDatas, {"optional": True}),
    ]


class _ReaderSealInfoV1(core.Sequence):
    _fields = [
        ("header", _ReaderHeader),
        ("esID", _AnyString),
        ("property", _ReaderPropertyV1),
        ("picture", _ReaderPicture),
        ("extDatas", _ReaderExtensionDatas, {"optional": True}),
    ]


class _ReaderSESealV4(core.Sequence):
    # GM/T 0031-2025 ("v5") appends timeStamp [0]; otherwise the v4 shape.
    _fields = [
        ("eSealInfo", _ReaderSealInfoV4),
        ("cert", _BitsOrOctets),
        ("signAlgID", core.ObjectIdentifier),
        ("signedValue", _BitsOrOctets),
        ("timeStamp", core.Any, {"explicit": 0, "optional": True}),
    ]


class _ReaderSignInfoV1(core.Sequence):
    _fields = [
        ("cert", _BitsOrOctets),
        ("signatureAlgorithm", core.ObjectIdentifier),
        ("signData", _BitsOrOctets),
    ]


class _ReaderSESealV1(core.Sequence):
    _fields = [
        ("esealInfo", _ReaderSealInfoV1),
        ("signInfo", _ReaderSignInfoV1),
    ]


class _ReaderTBSSignV4(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("eseal", core.Any),  # parsed separately by the seal reader, raw bytes kept
        ("timeInfo", _AnyTime),
        ("dataHash", _BitsOrOctets),
        ("propertyInfo", _AnyString),
        ("extDatas", _ReaderExtensionDatas, {"explicit": 0, "optional": True}),
    ]


class _ReaderSESSignatureV4(core.Sequence):
    _fields = [
        ("toSign", _ReaderTBSSignV4),
        ("cert", _BitsOrOctets),
        ("signatureAlgID", core.ObjectIdentifier),
        ("signature", _BitsOrOctets),
        ("timeStamp", core.Any, {"explicit": 0, "optional": True}),
    ]


class _ReaderTBSSignV1(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("eseal", core.Any),
        ("timeInfo", _TimeInfoV1),
        ("dataHash", _BitsOrOctets),
        ("propertyInfo", _AnyString),
        ("cert", _BitsOrOctets),
        ("signatureAlgorithm", core.ObjectIdentifier),
    ]


class _ReaderSESSignatureV1(core.Sequence):
    _fields = [
        ("toSign", _ReaderTBSSignV1),
        ("signature", _BitsOrOctets),
    ]


# --------------------------------------------------------------------------------------------
# Raw DER helpers
# --------------------------------------------------------------------------------------------


class DERError(ValueError):
    """The bytes are not a well-formed definite-length DER/BER TLV."""


def read_tlv(data: bytes, pos: int = 0) -> tuple[int, int, int, int]:
    """Read one TLV at ``pos``: return ``(tag_byte, header_end, end, first_octet)``.

    Only single-byte tags and definite lengths are accepted (everything in SES structures
    uses them); the length must fit in the data.
    """
    n = len(data)
    if pos + 2 > n:
        raise DERError("truncated TLV header")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DERError("multi-byte tags are not used in SES structures")
    first = data[pos + 1]
    p = pos + 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise DERError("indefinite length is not allowed")
    else:
        nbytes = first & 0x7F
        if nbytes > 4 or p + nbytes > n:
            raise DERError("bad length of length")
        length = int.from_bytes(data[p : p + nbytes], "big")
        p += nbytes
    end = p + length
    if end > n:
        raise DERError("length runs past the end of the data")
    return tag, p, end, pos


def split_sequence(der: bytes, *, expect_tag: int = 0x30) -> list[bytes]:
    """Return the raw encodings (header included) of the elements of the SEQUENCE ``der``.

    The SEQUENCE must span all of ``der`` (no trailing bytes). These raw slices are what
    signatures are verified over.
    """
    tag, start, end, _ = read_tlv(der, 0)
    if tag != expect_tag:
        raise DERError(f"expected tag 0x{expect_tag:02x}, found 0x{tag:02x}")
    if end != len(der):
        raise DERError("trailing bytes after the SEQUENCE")
    out: list[bytes] = []
    pos = start
    while pos < end:
        _, _, child_end, _ = read_tlv(der, pos)
        if child_end > end:
            raise DERError("element runs past the end of its SEQUENCE")
        out.append(der[pos:child_end])
        pos = child_end
    return out


def encode_sequence(*raw_elements: bytes) -> bytes:
    """DER-encode ``SEQUENCE { … }`` around already-encoded elements (kept byte for byte)."""
    body = b"".join(raw_elements)
    return b"\x30" + _der_length(len(body)) + body


def bit_string(data: bytes) -> core.BitString:
    """A BIT STRING holding ``data`` with 0 unused bits (signatures, digests)."""
    body = b"\x00" + bytes(data)
    return core.BitString.load(b"\x03" + _der_length(len(body)) + body)


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b
