"""Demo seals (issue 6 item 8) made through the real application flow, their workstations
and credential files, ``gongwen seal …``, and an exported demo seal checked by independent
tools: ``openssl asn1parse`` field by field, the maker certificate chained to the issuing CA
of ``gongwen pki export`` by ``openssl verify``, the maker's SM2 signature by py-gmssl."""

from __future__ import annotations

import re
import stat

import pytest
from asn1crypto import pem

from gongwen.accounts.models import User
from gongwen.authority import services as authority
from gongwen.authority.demo import DEMO_PIN, load_pki_demo
from gongwen.cli import main
from gongwen.pki.x509 import load_certificate
from gongwen.seals import services
from gongwen.seals.demo import (
    LOST_DEMO_UNIT,
    PENDING_DEMO_UNIT,
    demo_units,
    load_seal_demo,
    read_credential,
)
from gongwen.seals.models import (
    ApplicationKind,
    ApplicationState,
    Seal,
    SealApplication,
    SealStatus,
    Workstation,
)
from gongwen.seals.ses.seal import parse_seal
from gongwen.units.demo import load_demo
from gongwen.units.models import Level, Unit
from tests.tools import gmssl_sm2, needs_tool, run_tool

DISTID = "distid:1234567812345678"


@pytest.fixture
def demo(db, tmp_path):
    load_demo()
    load_pki_demo()
    result = load_seal_demo(tmp_path / "workstations")
    return result


def _active(unit) -> Seal:
    return Seal.objects.get(unit=unit, status=SealStatus.ACTIVE)


def test_demo_seals_come_from_the_flow_and_the_proper_authority(demo, tmp_path):
    units = demo_units()
    assert {u.code for u in units} >= {LOST_DEMO_UNIT, PENDING_DEMO_UNIT}
    assert not demo.skipped
    for unit in units:
        seal = _active(unit)
        app = SealApplication.objects.get(result_seal=seal)
        assert app.state == ApplicationState.EXECUTED and app.head_signer.unit == unit
        assert app.approver.unit.is_platform_operator
        county = unit.level in (Level.COUNTY, Level.PROVINCE)
        assert seal.authority.level == (Level.PROVINCE if county else Level.CITY)
        assert seal.certificate.issuer.role == ("provincial" if county else "city")
        assert app.executor.unit == seal.authority
        # The keeper's key disk opens with the demo PIN printed by `gongwen logins`.
        authority.open_key_disk(user=seal.keeper, disk=seal.certificate.key_disk, pin=DEMO_PIN)
        # One enrolled workstation bound to the seal; its credential file is 0600 and works.
        ws = Workstation.objects.get(seals=seal, active=True)
        path = tmp_path / "workstations" / f"{ws.name}.cred"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        sealer = services.authorize_seal_use(user=seal.keeper, seal=seal,
                                             workstation_credential=read_credential(path),
                                             pin=DEMO_PIN, document_ref="演示")
        assert sealer.es_id == seal.es_id
    assert {c.path.name for c in demo.credentials} == {
        f"{w.name}.cred" for w in Workstation.objects.filter(active=True)}
    lost = Seal.objects.get(unit__code=LOST_DEMO_UNIT, status=SealStatus.LOST)
    assert _active(lost.unit).replaces == lost
    pending = SealApplication.objects.get(unit__code=PENDING_DEMO_UNIT,
                                          kind=ApplicationKind.REPLACE_DAMAGED)
    assert pending.state == ApplicationState.HEAD_SIGNED
    assert User.objects.get(username="sheng.admin").has_role("operator")


def test_demo_is_idempotent_and_replaces_a_lost_credential_file(demo, tmp_path):
    seals, apps = Seal.objects.count(), SealApplication.objects.count()
    again = load_seal_demo(tmp_path / "workstations")
    assert not any(again.counts().values())
    assert (Seal.objects.count(), SealApplication.objects.count()) == (seals, apps)
    gone = demo.credentials[0]
    gone.path.unlink()
    third = load_seal_demo(tmp_path / "workstations")
    assert [c.workstation for c in third.credentials] == [gone.workstation]
    assert gone.path.is_file() and read_credential(gone.path) != gone.credential
    assert Workstation.objects.filter(name=gone.workstation, active=False).count() == 1


def test_seal_cli_list_show_verify_image(demo, tmp_path, capsys):
    lost = Seal.objects.get(unit__code=LOST_DEMO_UNIT, status=SealStatus.LOST)
    active = _active(lost.unit)
    assert main(["seal", "list", "--unit", LOST_DEMO_UNIT]) == 0
    out = capsys.readouterr().out
    assert active.es_id in out and lost.es_id in out and "lost" in out
    assert main(["seal", "show", active.es_id]) == 0
    out = capsys.readouterr().out
    assert f'"esID": "{active.es_id}"' in out and "有效 / VALID" in out
    good, gone, bad = tmp_path / "a.esl", tmp_path / "lost.esl", tmp_path / "bad.esl"
    assert main(["seal", "export", active.es_id, "--out", str(good)]) == 0
    assert main(["seal", "export", lost.es_id, "--out", str(gone)]) == 0
    bad.write_bytes(good.read_bytes()[:200])
    capsys.readouterr()
    assert main(["seal", "verify", str(good)]) == 0
    assert main(["seal", "show", str(good)]) == 0  # a file works as well as an esID
    assert main(["seal", "verify", str(gone)]) == 1
    assert "吊销" in capsys.readouterr().out
    assert main(["seal", "verify", str(bad)]) == 2
    assert main(["seal", "verify", str(tmp_path / "missing.esl")]) == 2
    assert main(["seal", "export", "NO-SUCH-SEAL", "--out", str(bad)]) == 2
    assert main(["seal", "verify", str(good), "--at", "not-a-time"]) == 2
    png, svg = tmp_path / "s.png", tmp_path / "s.svg"
    assert main(["seal", "image", active.es_id, "--out", str(png)]) == 0
    assert main(["seal", "image", lost.unit.code, "--out", str(svg)]) == 0  # by unit code
    assert png.read_bytes() == bytes(active.image_png)
    assert svg.read_text().lstrip().startswith(("<?xml", "<svg")) and 'width="45mm"' in \
        svg.read_text()
    assert main(["seal", "image", active.es_id, "--out", str(tmp_path / "s.jpg")]) == 2


@needs_tool("openssl")
def test_exported_demo_seal_in_openssl_and_gmssl(demo, tmp_path, capsys):
    pytest.importorskip("gmssl.sm2")
    from asn1crypto.algos import DSASignature

    seal = _active(Unit.objects.get(code=PENDING_DEMO_UNIT))
    esl = tmp_path / "seal.esl"
    assert main(["seal", "export", seal.es_id, "--out", str(esl)]) == 0
    assert main(["pki", "export", "--out", str(tmp_path / "trust")]) == 0
    # 1. openssl asn1parse: SESeal v4 field by field.
    out = run_tool(["openssl", "asn1parse", "-inform", "DER", "-in", esl]).stdout.decode()
    fields = []
    for line in out.splitlines():
        m = re.search(r"prim:\s+([A-Z0-9 ]+?)\s*(?:\[HEX DUMP\])?(?::(.*))?$", line)
        if m:
            fields.append((m.group(1), (m.group(2) or "").strip()))
    assert fields[:7] == [("IA5STRING", "ES"), ("INTEGER", "04"), ("IA5STRING", "GONGWEN"),
                          ("IA5STRING", seal.es_id), ("INTEGER", "01"),
                          ("UTF8STRING", "连云港市财政局"), ("INTEGER", "01")]
    assert fields[7][0] == "OCTET STRING"  # the holder certificate
    assert [f[0] for f in fields[8:11]] == ["GENERALIZEDTIME"] * 3
    assert fields[11] == ("IA5STRING", "png")
    assert fields[13:15] == [("INTEGER", "2A"), ("INTEGER", "2A")]  # 42 mm
    assert fields[-2] == ("OBJECT", "SM2-with-SM3") and fields[-1][0] == "BIT STRING"
    # 2. the maker certificate in the seal chains to 连云港市电子政务CA of `pki export`.
    info = parse_seal(esl.read_bytes())
    maker_pem = tmp_path / "maker.pem"
    maker_pem.write_bytes(pem.armor("CERTIFICATE", info.maker_cert))
    proc = run_tool(["openssl", "verify", "-vfyopt", DISTID, "-partial_chain", "-CAfile",
                     tmp_path / "trust" / "lianyungang.pem", maker_pem])
    assert proc.stdout.strip().endswith(b"OK")
    wrong = run_tool(["openssl", "verify", "-vfyopt", DISTID, "-partial_chain", "-CAfile",
                      tmp_path / "trust" / "jiangsu.pem", maker_pem], check=False)
    assert wrong.returncode != 0
    # 3. py-gmssl (independent pure-Python SM2) verifies the maker's signature.
    spki = load_certificate(info.maker_cert)["tbs_certificate"]["subject_public_key_info"]
    crypt = gmssl_sm2(spki["public_key"].native.hex()[2:])
    rs = DSASignature.load(info.signature).native
    raw = f"{rs['r']:064x}{rs['s']:064x}"
    assert crypt.verify_with_sm3(raw, info.signed_bytes)
    assert not crypt.verify_with_sm3(raw, info.signed_bytes[:-1] + b"\x00")


@pytest.mark.django_db
def test_seal_demo_skips_cleanly_on_the_intl_suite(settings):
    from gongwen.seals.demo import load_seal_demo
    from gongwen.seals.models import Seal

    settings.GONGWEN = {**settings.GONGWEN, "SUITE": "INTL"}
    result = load_seal_demo()
    assert result.seals == [] and "GM" in result.skipped[0]
    assert not Seal.objects.exists()
