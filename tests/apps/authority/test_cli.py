"""``gongwen pki …`` and the exported trust bundle, checked by OpenSSL (issue 5 item 6).

OpenSSL 3.0 and SM2 (see tests/core/pki/test_x509.py and test_crl.py): our SM2 signatures
use the standard signer ID 1234567812345678; OpenSSL 3.0 assumes an empty ID unless told
(``-vfyopt distid:``), applies that option to the target certificate only, and has no such
option for CRLs. So GM chains are checked link by link with ``-vfyopt``, and GM CRL
signatures with ``openssl pkeyutl -rawin -digest sm3 -pkeyopt distid:…`` over the
tbsCertList; INTL chains and CRLs go through ``openssl verify -crl_check_all`` and
``openssl crl -verify`` unchanged.
"""

from __future__ import annotations

import json

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import pem

from gongwen.authority import services
from gongwen.authority.models import Certificate, CertificateAuthority, CertStatus, KeyDisk
from gongwen.cli import main
from gongwen.pki import keystore
from tests.tools import needs_tool, run_tool

from .conftest import PIN

DISTID = "distid:1234567812345678"


def test_pki_init_is_idempotent(gm, db, capsys):
    assert main(["pki", "init"]) == 0
    assert "created: root, jiangsu, lianyungang" in capsys.readouterr().out
    assert main(["pki", "init"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert CertificateAuthority.objects.count() == 3


def test_pki_issue_revoke_crl_and_verify(gm, pki, unit_b, keeper_b, tmp_path, capsys):
    code = unit_b.code
    assert main(["pki", "issue", "--unit", code, "--profile", "unit-seal", "--pin", PIN]) == 0
    cert = Certificate.objects.get()
    assert cert.key_disk.holder == keeper_b  # default holder of a seal: the seal keeper
    out = capsys.readouterr().out
    assert cert.serial in out and "江苏省电子印章CA" in out
    leaf = tmp_path / "leaf.pem"
    leaf.write_text(services.certificate_pem(cert.der))
    (tmp_path / "leaf.der").write_bytes(bytes(cert.der))

    assert main(["pki", "verify", str(leaf)]) == 0
    out = capsys.readouterr().out
    assert "有效 / VALID" in out and "江苏省电子印章CA" in out
    assert main(["pki", "verify", str(tmp_path / "leaf.der")]) == 0
    capsys.readouterr()

    assert main(["pki", "revoke", cert.serial.upper(), "--reason", "key_compromise",
                 "--note", "密钥盘遗失"]) == 0
    assert "revoked" in capsys.readouterr().out
    cert.refresh_from_db()
    assert cert.status == CertStatus.REVOKED and cert.revocation_reason == "key_compromise"
    assert KeyDisk.objects.get(certificate=cert).is_destroyed
    assert main(["pki", "verify", str(leaf)]) == 1
    out = capsys.readouterr().out
    assert "无效 / INVALID" in out and "吊销" in out and "revoked" in out

    assert main(["pki", "crl", "--ca", "jiangsu", "--days", "2"]) == 0
    assert "jiangsu" in capsys.readouterr().out
    assert main(["pki", "crl"]) == 0
    assert capsys.readouterr().out.count("CRL #") == 3
    assert main(["pki", "crl", "--if-due"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    # Stale CRL: a time after every nextUpdate is a hard failure, not "valid".
    assert main(["pki", "verify", str(leaf), "--at", "2099-01-01T00:00:00"]) == 1
    capsys.readouterr()


def test_pki_verify_exit_codes_for_bad_input(gm, pki, tmp_path, capsys):
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    assert main(["pki", "verify", str(garbage)]) == 2
    assert "无法读取 / UNREADABLE" in capsys.readouterr().out
    assert main(["pki", "verify", str(tmp_path / "missing.pem")]) == 2
    assert main(["pki", "verify", str(garbage), "--at", "yesterday"]) == 2
    crl = tmp_path / "x.crl"
    crl.write_bytes(bytes(CertificateAuthority.objects.first().crl_der))
    assert main(["pki", "verify", str(crl)]) == 2
    capsys.readouterr()


def test_pki_cli_refuses_bad_arguments(gm, pki, unit_b, keeper_b, capsys, monkeypatch):
    monkeypatch.delenv("GONGWEN_PKI_PIN", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["pki", "issue", "--unit", "NOPE", "--profile", "unit-seal", "--pin", PIN]) == 2
    assert main(["pki", "issue", "--unit", unit_b.code, "--profile", "unit-seal"]) == 2
    assert main(["pki", "issue", "--unit", unit_b.code, "--profile", "unit-seal",
                 "--pin", "1"]) == 2
    assert main(["pki", "issue", "--unit", unit_b.code, "--profile", "seal-maker",
                 "--holder", keeper_b.username, "--pin", PIN]) == 2
    assert main(["pki", "revoke", "xyz", "--reason", "superseded"]) == 2
    assert main(["pki", "revoke", "abc123", "--reason", "superseded"]) == 2
    assert main(["pki", "crl", "--ca", "nowhere"]) == 2
    err = capsys.readouterr().err
    assert "口令必须为6至8位数字" in err and "不是制章单位" in err and "没有名为" in err
    assert not Certificate.objects.exists()
    monkeypatch.setenv("GONGWEN_PKI_PIN", PIN)
    assert main(["pki", "issue", "--unit", unit_b.code, "--profile", "unit-seal"]) == 0


def _export(tmp_path, unit_b, unit_a, keeper_b, keeper_a):
    county = services.issue_certificate(unit=unit_b, profile="unit-seal", holder=keeper_b,
                                        pin=PIN)
    city = services.issue_certificate(unit=unit_a, profile="unit-receipt", holder=keeper_a,
                                      pin=PIN)
    out = tmp_path / "bundle"
    assert main(["pki", "export", "--out", str(out)]) == 0
    for name, cert in (("county.pem", county), ("city.pem", city)):
        (out / name).write_text(services.certificate_pem(cert.der))
    return out, county, city


def test_export_writes_pem_and_index(suite, pki, tmp_path, unit_a, unit_b, keeper_a, keeper_b,
                                     capsys):
    out, _, _ = _export(tmp_path, unit_b, unit_a, keeper_b, keeper_a)
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert {e["file"] for e in index} == {
        "root.pem", "root.crl.pem", "jiangsu.pem", "jiangsu.crl.pem", "lianyungang.pem",
        "lianyungang.crl.pem"}
    by_file = {e["file"]: e for e in index}
    root = pki["root"]
    assert by_file["root.pem"]["role"] == "root"
    assert by_file["root.pem"]["subject"] == by_file["root.pem"]["issuer"] == root.subject
    assert by_file["jiangsu.pem"]["issuer"] == root.subject
    assert by_file["jiangsu.pem"]["role"] == "provincial"
    assert by_file["lianyungang.crl.pem"]["issuer"] == pki["city"].subject
    for entry in index:
        assert {"file", "subject", "issuer", "role"} <= set(entry)
        text = (out / entry["file"]).read_text()
        label = "X509 CRL" if entry["type"] == "crl" else "CERTIFICATE"
        assert text.startswith(f"-----BEGIN {label}-----")
    assert "exported 6 files" in capsys.readouterr().out


@needs_tool("openssl")
def test_openssl_accepts_exported_gm_chains_and_crls(gm, pki, tmp_path, unit_a, unit_b,
                                                     keeper_a, keeper_b):
    out, _, _ = _export(tmp_path, unit_b, unit_a, keeper_b, keeper_a)
    for ca in ("jiangsu", "lianyungang"):
        proc = run_tool(["openssl", "verify", "-vfyopt", DISTID, "-CAfile", out / "root.pem",
                         out / f"{ca}.pem"])
        assert proc.stdout.strip().endswith(b"OK")
    for ca, leaf in (("jiangsu", "county.pem"), ("lianyungang", "city.pem")):
        proc = run_tool(["openssl", "verify", "-vfyopt", DISTID, "-partial_chain",
                         "-CAfile", out / f"{ca}.pem", out / leaf])
        assert proc.stdout.strip().endswith(b"OK")
        wrong = run_tool(["openssl", "verify", "-vfyopt", DISTID, "-partial_chain", "-CAfile",
                          out / ("lianyungang.pem" if ca == "jiangsu" else "jiangsu.pem"),
                          out / leaf], check=False)
        assert wrong.returncode != 0
    for ca in ("root", "jiangsu", "lianyungang"):
        # openssl parses the CRL; its SM2 signature is checked with pkeyutl (see above).
        text = run_tool(["openssl", "crl", "-in", out / f"{ca}.crl.pem", "-noout", "-text"])
        assert b"Next Update" in text.stdout and b"CRL Number" in text.stdout
        crl = asn1_crl.CertificateList.load(pem.unarmor((out / f"{ca}.crl.pem").read_bytes())[2])
        (tmp_path / "tbs.der").write_bytes(crl["tbs_cert_list"].dump())
        (tmp_path / "sig.der").write_bytes(crl["signature"].native)
        run_tool(["openssl", "x509", "-in", out / f"{ca}.pem", "-pubkey", "-noout",
                  "-out", tmp_path / "pub.pem"])
        proc = run_tool(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", tmp_path / "pub.pem",
                         "-rawin", "-digest", "sm3", "-pkeyopt", DISTID, "-in",
                         tmp_path / "tbs.der", "-sigfile", tmp_path / "sig.der"])
        assert b"Signature Verified Successfully" in proc.stdout


@needs_tool("openssl")
def test_openssl_accepts_exported_intl_chains_and_crls(settings, db, tmp_path, unit_a, unit_b,
                                                       keeper_a, keeper_b):
    settings.GONGWEN = {**settings.GONGWEN, "SUITE": "INTL"}
    services.init_pki()
    out, county, _ = _export(tmp_path, unit_b, unit_a, keeper_b, keeper_a)
    crls = [arg for ca in ("root", "jiangsu", "lianyungang")
            for arg in ("-CRLfile", out / f"{ca}.crl.pem")]
    for ca, leaf in (("jiangsu", "county.pem"), ("lianyungang", "city.pem")):
        proc = run_tool(["openssl", "verify", "-crl_check_all", *crls, "-CAfile",
                         out / "root.pem", "-untrusted", out / f"{ca}.pem", out / leaf])
        assert proc.stdout.strip().endswith(b"OK")
    for ca in ("root", "jiangsu", "lianyungang"):
        proc = run_tool(["openssl", "crl", "-in", out / f"{ca}.crl.pem", "-noout", "-verify",
                         "-CAfile", out / f"{ca}.pem"])
        assert b"verify OK" in proc.stdout + proc.stderr
    # After a revocation and a fresh export, openssl agrees that the certificate is revoked.
    services.revoke_certificate(cert_id=county.pk, reason="key_compromise")
    assert main(["pki", "export", "--out", str(out)]) == 0
    proc = run_tool(["openssl", "verify", "-crl_check_all", *crls, "-CAfile", out / "root.pem",
                     "-untrusted", out / "jiangsu.pem", out / "county.pem"], check=False)
    assert proc.returncode != 0 and b"revoked" in proc.stdout + proc.stderr


@needs_tool("openssl")
def test_key_disk_opens_with_openssl_pkcs8(suite, seal_cert_b, tmp_path):
    """The key disk is a standard encrypted PKCS#8: openssl opens it with the PIN only."""
    path = tmp_path / "disk.pem"
    path.write_text(seal_cert_b.key_disk.encrypted_pem)
    proc = run_tool(["openssl", "pkcs8", "-in", path, "-passin", f"pass:{PIN}"])
    assert proc.stdout.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert run_tool(["openssl", "pkcs8", "-in", path, "-passin", "pass:00000000"],
                    check=False).returncode != 0
    assert keystore.key_disk_info(path.read_bytes()).iterations == 1000  # test setting


def test_export_without_pki_fails_clearly(db, tmp_path, capsys):
    assert main(["pki", "export", "--out", str(tmp_path / "x")]) == 1
    assert "尚未初始化" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["pki"], ["pki", "issue", "--unit", "X"]])
def test_pki_usage_errors_exit_2(args):
    with pytest.raises(SystemExit) as err:
        main(args)
    assert err.value.code == 2


def test_gongwen_check_reports_pki_health(gm, db, capsys, settings):
    assert main(["check"]) == 1
    assert "[FAIL] PKI not initialised" in capsys.readouterr().out
    services.init_pki()
    main(["check"])
    out = capsys.readouterr().out
    assert "[ok] CRL of lianyungang #1" in out and "[ok] CA passphrase opens" in out
    settings.GONGWEN = {**settings.GONGWEN, "CA_PASSPHRASE": "wrong"}
    main(["check"])
    assert "[FAIL] CA passphrase does not open" in capsys.readouterr().out
