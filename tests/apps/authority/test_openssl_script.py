"""``verify-openssl.sh`` written by ``gongwen pki export`` (issue 5, "Done when": the
exported chains and CRLs are accepted by the ``openssl`` CLI).

GM: our SM2 signatures use the standard signer ID 1234567812345678; OpenSSL 3.0 checks
certificate and CRL signatures with an empty ID and applies ``-vfyopt distid:`` to the
target certificate only (openssl/openssl#23471, #24167, #32744), so the script checks link
by link (``openssl verify -partial_chain -vfyopt``, ``openssl pkeyutl -rawin -digest sm3``
over the to-be-signed part). INTL: the standard single commands. The script must accept an
intact export, name every link, and fail naming the item after tampering or revocation.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import pem

from gongwen.authority import services
from gongwen.authority.models import CertStatus
from gongwen.cli import main
from gongwen.pki import suites, x509
from tests.tools import gmssl_sm2, needs_tool, run_tool

from .conftest import PIN

pytestmark = needs_tool("openssl")

DISTID = "distid:1234567812345678"
SCRIPT = "verify-openssl.sh"


@pytest.fixture
def bundle(pki, tmp_path, unit_a, unit_b, keeper_a, keeper_b):
    """An export with end-entity certificates: (directory, county seal cert, city cert).
    Tests request ``suite`` or ``gm`` before it, so the suite is set first."""
    county = services.issue_certificate(unit=unit_b, profile="unit-seal", holder=keeper_b,
                                        pin=PIN)
    city = services.issue_certificate(unit=unit_a, profile="unit-receipt", holder=keeper_a,
                                      pin=PIN)
    out = tmp_path / "bundle"
    assert main(["pki", "export", "--out", str(out), "--with-certificates"]) == 0
    return out, county, city


def _run(out):
    """Run the script as a user would (its own shebang, from another directory)."""
    proc = run_tool([out / SCRIPT], check=False)
    return proc.returncode, proc.stdout.decode()


def _leaf_file(cert) -> str:
    return f"certs/{cert.serial.lower()}.pem"


def _flip_signature_byte(path):
    """Flip one bit in the last byte of the DER, which lies in the signature value."""
    label, _headers, der = pem.unarmor(path.read_bytes())
    der = bytearray(der)
    der[-1] ^= 0x01
    path.write_bytes(pem.armor(label, bytes(der)))


def _fail_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("FAIL ")]


def test_script_accepts_the_export_and_names_every_link(suite, bundle):
    out, county, city = bundle
    assert os.access(out / SCRIPT, os.X_OK)
    code, output = _run(out)
    assert code == 0, output
    assert not _fail_lines(output) and output.rstrip().splitlines()[-1].startswith("ALL OK")
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    files = {e["file"] for e in index}
    assert {_leaf_file(county), _leaf_file(city)} <= files
    assert {e["type"] for e in index} == {"certificate", "crl", "end-entity"}
    lines = output.splitlines()
    for entry in index:
        name = entry["file"]
        if entry["type"] == "crl":
            issuer = name.replace(".crl.pem", ".pem")
            assert f"OK   CRL signature {name} by {issuer}" in output
            assert any(line.startswith(f"OK   CRL times {name}: ") for line in lines)
            continue
        assert any(line.startswith(f"OK   validity {name}: ") for line in lines)
        if suite == "GM":
            assert any(line.startswith(f"OK   signature {name} ") for line in lines), name
            if name != "root.pem":
                assert any(line.startswith(f"OK   revocation {name}: ") for line in lines)
        else:
            assert any(line.startswith(f"OK   chain {name}: openssl verify -check_ss_sig -crl_check_all")
                       for line in lines), name
    if suite == "GM":
        assert ("OK   signature root.pem (self-signed): openssl pkeyutl -rawin -digest sm3 "
                f"-pkeyopt {DISTID}") in lines
        assert f"OK   signature {_leaf_file(county)} by jiangsu.pem: openssl verify " \
               f"-partial_chain -vfyopt {DISTID}" in lines
    else:
        assert (f"OK   chain {_leaf_file(county)}: openssl verify -check_ss_sig -crl_check_all "
                "-CAfile root.pem -untrusted jiangsu.pem") in lines
        assert "OK   CRL signature jiangsu.crl.pem by jiangsu.pem: openssl crl -verify" in lines


def test_plain_export_writes_the_script_without_end_entities(suite, pki, tmp_path, capsys):
    out = tmp_path / "plain"
    assert main(["pki", "export", "--out", str(out)]) == 0
    assert "verify-openssl.sh" in capsys.readouterr().out
    assert not (out / "certs").exists()
    code, output = _run(out)
    assert code == 0, output
    assert "certs/" not in output
    assert sum(line.startswith("OK   CRL signature ") for line in output.splitlines()) == 3


@pytest.mark.parametrize("target", ["root.pem", "jiangsu.pem", "leaf"])
def test_script_fails_on_a_tampered_certificate_signature(suite, bundle, target):
    out, county, _city = bundle
    name = _leaf_file(county) if target == "leaf" else target
    _flip_signature_byte(out / name)
    code, output = _run(out)
    assert code == 1, output
    failed = _fail_lines(output)
    assert any(f" {name}" in line and ("signature" in line or "chain" in line)
               for line in failed), output
    assert output.rstrip().splitlines()[-1].startswith("FAILED: ")


def test_script_fails_on_a_tampered_crl_signature(suite, bundle):
    out, _county, _city = bundle
    _flip_signature_byte(out / "jiangsu.crl.pem")
    code, output = _run(out)
    assert code == 1, output
    assert any(line.startswith("FAIL CRL signature jiangsu.crl.pem by jiangsu.pem")
               for line in _fail_lines(output)), output
    assert "OK   CRL signature lianyungang.crl.pem" in output  # only the tampered one fails


def test_script_reports_a_certificate_revoked_in_the_newer_crl(suite, bundle, tmp_path):
    out, county, _city = bundle
    services.revoke_certificate(cert_id=county.pk, reason="key_compromise")
    county.refresh_from_db()
    assert county.status == CertStatus.REVOKED
    fresh = tmp_path / "fresh"
    assert main(["pki", "export", "--out", str(fresh), "--with-certificates"]) == 0
    # The fresh export lists valid certificates only and passes.
    assert not (fresh / _leaf_file(county)).exists()
    code, output = _run(fresh)
    assert code == 0, output
    # The old bundle checked against the newly published CRL names the revoked certificate.
    shutil.copy(fresh / "jiangsu.crl.pem", out / "jiangsu.crl.pem")
    code, output = _run(out)
    assert code == 1, output
    failed = _fail_lines(output)
    assert len(failed) == 1 and _leaf_file(county) in failed[0], output
    assert ("REVOKED" if suite == "GM" else "revoked") in failed[0]


def test_openssl_30_single_commands_reject_gm_while_script_and_validator_accept(
        gm, bundle, tmp_path, capsys):
    """For the record (openssl/openssl#23471, #24167, #32744): OpenSSL 3.0 cannot check a
    standard GM chain in one ``openssl verify`` nor a GM CRL with ``openssl crl -verify``.
    If these assertions start failing, OpenSSL applies the SM2 signer ID to chains and CRLs
    now: simplify verify-openssl.sh and docs/pki-operations.md accordingly."""
    out, county, _city = bundle
    leaf = out / _leaf_file(county)
    single = run_tool(["openssl", "verify", "-vfyopt", DISTID, "-CAfile", out / "root.pem",
                       "-untrusted", out / "jiangsu.pem", leaf], check=False)
    assert single.returncode != 0, (
        "openssl verify now accepts a GM chain in one command: openssl/openssl#23471 fixed?")
    assert b"certificate signature failure" in single.stdout + single.stderr
    crl = run_tool(["openssl", "crl", "-in", out / "jiangsu.crl.pem", "-noout", "-verify",
                    "-CAfile", out / "jiangsu.pem"], check=False)
    assert b"verify OK" not in crl.stdout + crl.stderr, (
        "openssl crl -verify now accepts a GM CRL: openssl/openssl#23471 fixed?")
    # …while the per-link script and our own validator accept the same files.
    code, output = _run(out)
    assert code == 0, output
    assert main(["pki", "verify", str(leaf)]) == 0
    assert "有效 / VALID" in capsys.readouterr().out


def test_gmssl_verifies_exported_gm_signatures_with_the_default_id(gm, bundle):
    """py-gmssl (independent, pure Python, signer ID 1234567812345678) checks every exported
    certificate and CRL signature with the public key of the issuer's exported certificate."""
    out, _county, _city = bundle
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    subject_file = {e["subject"]: e["file"] for e in index if e["type"] == "certificate"}
    checked = 0
    for entry in index:
        data = pem.unarmor((out / entry["file"]).read_bytes())[2]
        if entry["type"] == "crl":
            obj = asn1_crl.CertificateList.load(data)
            tbs, sig = obj["tbs_cert_list"].dump(), obj["signature"].native
        else:
            obj = x509.load_certificate(data)
            tbs, sig = obj["tbs_certificate"].dump(), obj["signature_value"].native
        issuer = x509.load_certificate(pem.unarmor(
            (out / subject_file[entry["issuer"]]).read_bytes())[2])
        point = issuer["tbs_certificate"]["subject_public_key_info"]["public_key"].native
        crypt = gmssl_sm2(point[1:].hex())  # x || y without the 04 prefix
        raw = suites.sm2_signature_to_raw(sig)
        assert crypt.verify_with_sm3(raw.hex(), tbs), entry["file"]
        assert not crypt.verify_with_sm3(raw.hex(), tbs[:-1] + bytes([tbs[-1] ^ 1]))
        checked += 1
    assert checked == len(index) == 8


def test_script_fails_on_stale_crls(gm, bundle, tmp_path):
    """nextUpdate is compared with the clock (``date -u``): a clock after every nextUpdate
    (a fake ``date`` first on PATH) makes each CRL's time check fail, naming the CRL."""
    out, _county, _city = bundle
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (fake / "date").write_text("#!/bin/sh\necho 20990101000000\n")
    (fake / "date").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    proc = run_tool([out / SCRIPT], check=False, env=env)
    output = proc.stdout.decode()
    assert proc.returncode == 1, output
    failed = _fail_lines(output)
    assert sorted(line.split()[3].rstrip(":") for line in failed) == [
        "jiangsu.crl.pem", "lianyungang.crl.pem", "root.crl.pem"], output
    assert all("stale, nextUpdate=" in line for line in failed)
