"""No plaintext private key ever touches the database or the logs (R-PKI-5, issue 5 item 5).

GIVEN CAs, certificates and key disks of both suites, PIN attempts right and wrong, a
revocation and CRLs
WHEN every column of every table is dumped (raw SQL, text and binary) together with
everything the loggers and the console received
THEN no unencrypted PEM private key, no private scalar (raw, hex or decimal) and no
unencrypted PKCS#8 of any key occurs, and neither does the PIN or the CA passphrase.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest
from django.conf import settings
from django.db import connection

from gongwen.authority import services
from gongwen.authority.models import CertificateAuthority, KeyDisk
from gongwen.pki import keystore
from gongwen.pki.errors import KeyDiskLocked, WrongPIN
from gongwen.pki.suites import private_key_pkcs8_der

from .conftest import PIN

FORBIDDEN_MARKERS = [b"BEGIN PRIVATE KEY", b"BEGIN EC PRIVATE KEY", b"BEGIN RSA PRIVATE KEY",
                     b"BEGIN SM2 PRIVATE KEY"]


def _as_bytes(value) -> bytes:
    if value is None:
        return b""
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False).encode()
    return str(value).encode("utf-8", "replace")


def dump_database() -> bytes:
    """Every column of every row of every table, as bytes (raw SQL, no model layer)."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                chunks.extend(_as_bytes(v) for v in row)
    return b"\n".join(chunks)


def _secrets_of(key) -> list[bytes]:
    """Byte strings that would reveal ``key``: the PKCS#8 DER (raw and base64) and the
    private scalar (raw, hex, decimal), or for RSA the private exponent and primes."""
    pkcs8 = private_key_pkcs8_der(key)
    found = [pkcs8, base64.b64encode(pkcs8)[:64]]
    numbers = key.private_numbers()
    values = [numbers.d, numbers.p, numbers.q] if hasattr(numbers, "d") else [
        numbers.private_value]
    for value in values:
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        found += [raw, raw.hex().encode(), raw.hex().upper().encode(), str(value).encode()]
    return found


@pytest.mark.parametrize("suite_name", ["GM", "INTL"])
def test_database_and_logs_hold_no_plaintext_private_key(
        suite_name, settings_override, caplog, capfd, unit_a, unit_b, keeper_b, make_user,
        operator):
    caplog.set_level(logging.DEBUG)
    settings_override(SUITE=suite_name)
    services.init_pki(actor=operator)
    clerk = make_user(unit_a, "clerk")
    seal = services.issue_certificate(actor=operator, unit=unit_b, profile="unit-seal",
                                      holder=keeper_b, pin=PIN)
    receipt = services.issue_certificate(unit=unit_a, profile="unit-receipt", holder=clerk,
                                         pin=PIN)
    services.issue_certificate(unit=unit_a, profile="seal-maker", holder=operator, pin=PIN)
    for _ in range(5):
        with pytest.raises((WrongPIN, KeyDiskLocked)):  # the fifth locks
            services.open_key_disk(user=keeper_b, disk=seal.key_disk, pin="24681357")
    services.unlock_key_disk(actor=operator, disk_id=seal.key_disk.pk)
    services.open_key_disk(user=keeper_b, disk=seal.key_disk, pin=PIN)
    services.open_key_disk(user=clerk, disk=receipt.key_disk, pin=PIN)
    services.revoke_certificate(actor=operator, cert_id=receipt.pk, reason="superseded")
    services.publish_all_crls()

    secrets: list[bytes] = []
    for disk in KeyDisk.objects.all():
        secrets += _secrets_of(keystore.open_key_disk(disk.encrypted_pem, PIN))
    for ca in CertificateAuthority.objects.all():
        secrets += _secrets_of(keystore.decrypt_private_key(
            ca.key_encrypted_pem, settings.GONGWEN["CA_PASSPHRASE"]))
    assert len(secrets) >= 6 * 6

    database = dump_database()
    captured = capfd.readouterr()
    logs = "\n".join([caplog.text, captured.out, captured.err]).encode()
    assert b"ENCRYPTED PRIVATE KEY" in database  # the dump did reach the key disks
    assert b"pki.cert.issued" in database and b"issued unit-seal" in logs
    for haystack, where in ((database, "database"), (logs, "logs")):
        for marker in FORBIDDEN_MARKERS:
            assert marker not in haystack, (where, marker)
        for secret in secrets:
            assert secret not in haystack, (where, secret[:8].hex())
        assert PIN.encode() not in haystack, where
        assert settings.GONGWEN["CA_PASSPHRASE"].encode() not in haystack, where


@pytest.fixture
def settings_override(settings):
    def apply(**values):
        settings.GONGWEN = {**settings.GONGWEN, **values}

    return apply
