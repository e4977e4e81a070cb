"""PKCS#11 key store for the INTL suite, on a SoftHSM2 token created for the test session.

SoftHSM2 reads ``SOFTHSM2_CONF`` when the library is first initialised in the process, so
the module fixture sets it (pointing at a temporary token directory) before anything
loads the library, and restores the environment afterwards.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import pem
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from gongwen.pki import crl, keystore, suites, x509
from gongwen.pki.errors import InvalidSignature, MalformedInput, WrongPIN
from tests.tools import has_tool, run_tool

from .conftest import AT, T0

LIB = keystore.DEFAULT_PKCS11_LIBRARY
USER_PIN = "246810"
SO_PIN = "13579135"
LABEL = "gongwen-test"

pytestmark = pytest.mark.skipif(
    not (Path(LIB).exists() and has_tool("softhsm2-util")),
    reason=f"SoftHSM2 ({LIB} and softhsm2-util) is not installed",
)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    old = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    try:
        run_tool(
            [
                "softhsm2-util",
                "--init-token",
                "--free",
                "--label",
                LABEL,
                "--pin",
                USER_PIN,
                "--so-pin",
                SO_PIN,
            ],
            env=dict(os.environ),
        )
        yield keystore.PKCS11KeyStore(LABEL, USER_PIN, LIB)
    finally:
        if old is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = old


def test_ec_key_generated_on_token_signs_and_cryptography_verifies(store):
    spki = store.generate_key("seal-ec", "ec-p256")
    pub = suites.load_public_key(spki)
    assert suites.key_algorithm(pub) == "EC-P256"
    data = "PKCS#11 签名".encode()
    sig = store.sign("seal-ec", data)
    pub.verify(sig, data, ec.ECDSA(hashes.SHA256()))  # cryptography directly
    suites.INTL.verify(pub, data, sig)
    with pytest.raises(InvalidSignature):
        suites.INTL.verify(pub, data + b"x", sig)
    assert "seal-ec" in store.labels()
    assert store.public_key_der("seal-ec") == spki


def test_rsa_key_on_token(store):
    spki = store.generate_key("ws-rsa", "rsa-3072")
    pub = suites.load_public_key(spki)
    assert suites.key_algorithm(pub) == "RSA-3072"
    sig = store.sign("ws-rsa", b"abc")
    pub.verify(sig, b"abc", padding.PKCS1v15(), hashes.SHA256())


def test_token_key_issues_certificates_that_openssl_accepts(store, tmp_path, intl_hierarchy):
    """An intermediate CA whose key lives on the token issues a leaf and a CRL."""
    h = intl_hierarchy
    store.generate_key("ca-ec", "ec-p256")
    signer = store.signer("ca-ec")
    ca = x509.issue_certificate(
        profile="intermediate-ca",
        subject="令牌CA",
        public_key=signer,
        issuer_key=h.root.key,
        issuer_cert=h.root.cert,
        not_before=T0,
    )
    leaf_key = suites.INTL.generate_key()
    leaf = x509.issue_certificate(
        profile="workstation",
        subject="工作站",
        public_key=leaf_key,
        issuer_key=signer,
        issuer_cert=ca,
        not_before=T0,
    )
    ca_crl = crl.build_crl(
        issuer_cert=ca,
        issuer_key=signer,
        crl_number=1,
        this_update=AT - timedelta(days=1),
        next_update=AT + timedelta(days=1),
    )
    crl.validate_chain(leaf, [h.root.cert], [ca], [h.root_crl, ca_crl], AT)
    for name, der in (("root.pem", h.root.cert), ("ca.pem", ca), ("leaf.pem", leaf)):
        (tmp_path / name).write_bytes(pem.armor("CERTIFICATE", der))
    if has_tool("openssl"):
        run_tool(
            [
                "openssl",
                "verify",
                "-attime",
                str(int(AT.timestamp())),
                "-CAfile",
                tmp_path / "root.pem",
                "-untrusted",
                tmp_path / "ca.pem",
                tmp_path / "leaf.pem",
            ]
        )


def test_token_errors(store):
    with pytest.raises(MalformedInput):
        store.sign("no-such-key", b"x")
    with pytest.raises(MalformedInput):
        store.generate_key("seal-ec")  # already exists
    store.generate_key("temp")
    store.delete_key("temp")
    assert "temp" not in store.labels()
    with pytest.raises(WrongPIN):
        keystore.PKCS11KeyStore(LABEL, "000000", LIB).labels()
    with pytest.raises(MalformedInput):
        keystore.PKCS11KeyStore("no-such-token", USER_PIN, LIB)
