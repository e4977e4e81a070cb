"""Bad input: garbage, truncated or bit-flipped certificates, CRLs and keys give a
:class:`MalformedInput` (with a Chinese message), never another exception type."""

from __future__ import annotations

import pytest
from asn1crypto import pem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongwen.pki import crl, keystore, suites, x509
from gongwen.pki.errors import MalformedInput, PKIError

from .conftest import AT, build_hierarchy

GARBAGE = [
    b"",
    b"\x00",
    b"not a certificate",
    b"\x30\x82\xff\xff",
    b"\x30\x03\x02\x01\x01",
    b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    "证书".encode(),
    bytes(range(256)),
]

_GM = build_hierarchy("GM")
_CERT = _GM.leaves["unit-seal"].cert
_CRL = _GM.city_crl
_KEY_DER = suites.private_key_pkcs8_der(_GM.leaves["unit-seal"].key)
_DISK = keystore.encrypt_private_key(_GM.leaves["unit-seal"].key, "123456", iterations=1000)
_DISK_DER = pem.unarmor(_DISK)[2]

LOADERS = {
    "load_certificate": x509.load_certificate,
    "load_certificates": x509.load_certificates,
    "certificate_info": x509.certificate_info,
    "fingerprint": x509.fingerprint,
    "load_crl": crl.load_crl,
    "crl_info": crl.crl_info,
    "load_private_key": suites.load_private_key,
    "load_public_key": suites.load_public_key,
    "key_disk_info": keystore.key_disk_info,
    "open_key_disk": lambda data: keystore.open_key_disk(data, "123456"),
    "validate_chain": lambda data: crl.validate_chain(data, [_GM.root.cert], [], [], AT),
}


@pytest.mark.parametrize("name", sorted(LOADERS))
@pytest.mark.parametrize("data", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_gives_malformed_input(name, data):
    with pytest.raises(MalformedInput) as e:
        LOADERS[name](data)
    assert e.value.message_zh and str(e.value)


@pytest.mark.parametrize(
    ("name", "good"),
    [
        ("load_certificate", _CERT),
        ("certificate_info", _CERT),
        ("load_crl", _CRL),
        ("crl_info", _CRL),
        ("load_private_key", _KEY_DER),
        ("load_public_key", suites.public_key_der(_GM.city.key)),
        ("open_key_disk", _DISK_DER),
    ],
)
def test_every_truncation_gives_malformed_input(name, good):
    LOADERS[name](good)  # the whole thing loads
    for cut in range(0, len(good) - 1, max(1, len(good) // 60)):
        with pytest.raises(MalformedInput):
            LOADERS[name](good[:cut])
    with pytest.raises(MalformedInput):
        LOADERS[name](good + b"\x00")  # trailing bytes


def test_wrong_pem_labels_are_refused():
    with pytest.raises(MalformedInput):
        x509.load_certificate(pem.armor("X509 CRL", _CRL))
    with pytest.raises(MalformedInput):
        crl.load_crl(pem.armor("CERTIFICATE", _CERT))
    with pytest.raises(MalformedInput):
        keystore.key_disk_info(pem.armor("PRIVATE KEY", _KEY_DER))
    with pytest.raises(MalformedInput):
        x509.load_certificate(12345)  # not bytes at all


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    which=st.sampled_from(["cert", "crl", "key", "disk"]),
    pos=st.integers(0, 10_000),
    value=st.integers(0, 255),
)
def test_mutations_give_pki_errors_only(which, pos, value):
    """Overwriting any byte either still parses or raises a PKIError subclass; no other
    exception escapes (the exact type depends on what the byte breaks)."""
    good = {"cert": _CERT, "crl": _CRL, "key": _KEY_DER, "disk": _DISK_DER}[which]
    data = bytearray(good)
    data[pos % len(data)] = value
    data = bytes(data)
    try:
        if which == "cert":
            x509.certificate_info(data)
            x509.verify_certificate_signature(data, _GM.city.cert)
        elif which == "crl":
            crl.crl_info(data)
            crl.verify_crl_signature(data, _GM.city.cert)
        elif which == "key":
            suites.load_private_key(data)
        else:
            keystore.open_key_disk(data, "123456")
    except PKIError as exc:
        assert exc.message_zh


def test_validate_chain_with_garbage_crl_and_anchor():
    with pytest.raises(MalformedInput):
        crl.validate_chain(_CERT, [_GM.root.cert], [_GM.city.cert], [b"junk"], AT)
    with pytest.raises(MalformedInput):
        crl.validate_chain(_CERT, [b"junk"], [_GM.city.cert], [_CRL], AT)


def test_verify_with_certificate_rejects_garbage_certificate():
    with pytest.raises(MalformedInput):
        suites.verify_with_certificate(b"junk", b"data", b"sig")
