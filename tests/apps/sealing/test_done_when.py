"""Issue 8 "Done when", walked through the CLI on the demo data (docs/sealing-app.md, "Try it
on the demo"): ``gongwen doc render --seed`` → ``gongwen doc seal`` with a demo seal, its
workstation credential file and the demo PIN → ``gongwen verify`` (exit 0), the sealed OFD
accepted by the independent GB/T 38540 verifier (tests/core/sealing_ofd/independent.py,
also with the OpenSSL CLI when present), and tampered copies refused (exit 1) each with its
reason; garbage is unreadable (exit 2).

The demo is built with the real loaders (units, PKI, seals through the application flow);
the seals app's conftest lowers the PBKDF2 iterations (``fast_kdf``). Platform sealing is GM
only (SES_Signature needs SM2): the INTL PDF path (PAdES accepted by ``pdfsig``) is covered
by tests/core/sealing.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from datetime import datetime, timedelta

from gongwen.authority.demo import DEMO_PIN, load_pki_demo
from gongwen.cli import main
from gongwen.seals.demo import load_seal_demo, workstation_name
from gongwen.seals.models import Seal, SealEvent, SealStatus
from gongwen.units.demo import load_demo
from tests.core.sealing_ofd import independent

SEED_ISSUER = "连云港市人民政府办公室"  # 发文机关 of the seed notice 连政办发〔2006〕107号
OTHER_UNIT = "东海县人民政府"


def _rezip(data: bytes, change) -> bytes:
    """The OFD package with ``change(files)`` applied, written as a fresh zip."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        files = {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}
    change(files)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files.items():
            z.writestr(name, body)
    return out.getvalue()


def test_render_seal_verify_tamper_on_the_demo(db, tmp_path, monkeypatch, capsys):
    load_demo()
    load_pki_demo()
    creds = tmp_path / "workstations"
    demo = load_seal_demo(creds)
    assert demo.seals and not demo.skipped
    seal = Seal.objects.get(unit__name=SEED_ISSUER, status=SealStatus.ACTIVE)
    other = Seal.objects.get(unit__name=OTHER_UNIT, status=SealStatus.ACTIVE)
    assert DEMO_PIN == "123456"

    def cli(*argv) -> tuple[int, str, str]:
        capsys.readouterr()
        rc = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return rc, out, err

    def verify_json(path) -> tuple[int, dict]:
        rc, out, _ = cli("verify", path, "--json")
        return rc, json.loads(out)

    def use_workstation(s: Seal) -> None:
        monkeypatch.delenv("GONGWEN_WORKSTATION_CREDENTIAL", raising=False)
        monkeypatch.setenv("GONGWEN_WORKSTATION_CREDENTIAL_FILE",
                           str(creds / f"{workstation_name(s)}.cred"))

    use_workstation(seal)
    sealed: dict[str, bytes] = {}
    for fmt in ("ofd", "pdf"):
        plain, out = tmp_path / f"notice.{fmt}", tmp_path / f"sealed.{fmt}"
        rc, text, err = cli("doc", "render", "--seed", "--format", fmt, "--out", plain)
        assert rc == 0, err
        assert cli("verify", plain)[0] == 1  # no seal yet: invalid
        rc, text, err = cli("doc", "seal", plain, "--seal", seal.es_id, "--pin", DEMO_PIN,
                            "--out", out)
        assert rc == 0, err
        assert seal.es_id in text
        rc, report = verify_json(out)
        assert rc == 0, report
        assert report["valid"] and report["format"] == fmt
        assert all(c["ok"] is True for c in report["checks"].values()), report["checks"]
        assert [s["es_id"] for s in report["signatures"]] == [seal.es_id]
        rc, text, _ = cli("verify", out)
        assert rc == 0 and "验证结论：有效" in text
        sealed[fmt] = out.read_bytes()
    assert SealEvent.objects.filter(seal=seal, kind=SealEvent.Kind.USED).count() == 2

    # -- the sealed OFD in the independent GB/T 38540 verifier (and OpenSSL's SM2) ----------
    verdicts = independent.verify(sealed["ofd"], use_openssl=bool(shutil.which("openssl")))
    assert [(v.ok, v.seal_name) for v in verdicts] == [(True, SEED_ISSUER)], verdicts
    assert verdicts[0].openssl in (True, None)

    # -- tampered copies: refused (exit 1), each with its reason ----------------------------
    def refused(data: bytes, name: str, check: str, words: str) -> dict:
        path = tmp_path / name
        path.write_bytes(data)
        rc, report = verify_json(path)
        assert rc == 1, (name, report)
        assert not report["valid"]
        failed = {n for n, c in report["checks"].items() if c["ok"] is False}
        assert check in failed, (name, report["checks"])
        assert words in report["checks"][check]["reason_zh"], (name, report["checks"][check])
        return report

    pdf = sealed["pdf"]
    a, b, c, d = (int(v) for v in re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+"
                                             rb"(\d+)\s*\]", pdf).groups())
    for pos in (a + 100, a + b // 3, a + b - 500):  # inside the signed body
        flipped = bytearray(pdf)
        flipped[pos] ^= 0x01
        refused(bytes(flipped), f"flip{pos}.pdf", "integrity", "签章后被修改")
    # the signed tail is the cross-reference section of the seal's incremental update: a
    # flipped offset there breaks the file's structure, and the signed ranges' digest
    flipped = bytearray(pdf)
    flipped[c + d // 2] ^= 0x01
    refused(bytes(flipped), "flip_tail.pdf", "integrity", "签章后被修改")
    # an incremental update after the seal (a page object replaced)
    refused(pdf + b"\n3 0 obj\n<< /Type /Catalog >>\nendobj\n", "appended.pdf",
            "added_after", "")

    ofd = sealed["ofd"]
    flipped = bytearray(ofd)
    flipped[len(ofd) // 3] ^= 0xFF  # raw byte of the zip: a file's data no longer match
    refused(bytes(flipped), "flip.ofd", "integrity", "签章后被修改")

    def change_number(files):
        page = next(n for n in sorted(files) if n.endswith("Content.xml") and "/Pages/" in n
                    and "〔2006〕107号".encode() in files[n])
        files[page] = files[page].replace("107号".encode(), "108号".encode(), 1)

    changed = _rezip(ofd, change_number)
    refused(changed, "changed.ofd", "integrity", "")
    assert not all(v.ok for v in independent.verify(changed))

    def add_file(files):
        files["Doc_0/Res/added_after.xml"] = b"<x/>"

    refused(_rezip(ofd, add_file), "added.ofd", "added_after", "")

    # -- a seal of another unit on the notice of 市政府办公室: signer is not the issuer -----
    use_workstation(other)
    wrong = tmp_path / "wrong_unit.ofd"
    rc, _, err = cli("doc", "seal", tmp_path / "notice.ofd", "--seal", other.es_id,
                     "--pin", DEMO_PIN, "--out", wrong)
    assert rc == 0, err
    refused(wrong.read_bytes(), "wrong_unit.ofd", "signer_unit", "签章单位不是发文单位")

    # -- the seal reported lost before the signing time: the register check fails ----------
    signed_at = datetime.fromisoformat(verify_json(tmp_path / "sealed.pdf")[1]
                                       ["signatures"][0]["signing_time"])
    seal.status, seal.status_changed_at = SealStatus.LOST, signed_at - timedelta(hours=1)
    seal.save(update_fields=["status", "status_changed_at"])
    for fmt in ("ofd", "pdf"):
        refused(sealed[fmt], f"lost.{fmt}", "register", "挂失")

    # -- not a document at all: unreadable ------------------------------------------------
    junk = tmp_path / "junk.ofd"
    junk.write_bytes(b"PK\x03\x04 this is not an OFD package")
    rc, report = verify_json(junk)
    assert rc == 2 and report["checks"]["readable"]["ok"] is False
