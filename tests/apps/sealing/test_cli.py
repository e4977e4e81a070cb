"""CLI round trip with a demo-like seal: gongwen doc render → doc seal → verify (exit codes)."""

from __future__ import annotations

import json

from gongwen.cli import main
from gongwen.seals.models import SealEvent

from .conftest import PIN


def test_render_seal_verify_round_trip(approved, seal_b, station_b, tmp_path, monkeypatch,
                                       capsys):
    doc = approved()
    monkeypatch.setenv("GONGWEN_WORKSTATION_CREDENTIAL", "")
    cred = tmp_path / "workstation.credential"
    cred.write_text(station_b + "\n")
    monkeypatch.setenv("GONGWEN_WORKSTATION_CREDENTIAL_FILE", str(cred))
    for fmt in ("pdf", "ofd"):
        plain, sealed = tmp_path / f"doc.{fmt}", tmp_path / f"sealed.{fmt}"
        assert main(["doc", "render", str(doc.pk), "--format", fmt, "--out", str(plain)]) == 0
        assert main(["verify", str(plain)]) == 1  # unsealed: invalid
        assert main(["doc", "seal", str(plain), "--seal", seal_b.es_id, "--pin", PIN,
                     "--out", str(sealed)]) == 0
        capsys.readouterr()
        assert main(["verify", str(sealed), "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["valid"] and report["format"] == fmt
        assert report["checks"]["register"]["ok"] is True
        assert main(["verify", str(sealed)]) == 0
        assert "验证结论：有效" in capsys.readouterr().out
        # tamper: flip a byte in the middle
        data = bytearray(sealed.read_bytes())
        data[len(data) // 3] ^= 0xFF
        bad = tmp_path / f"bad.{fmt}"
        bad.write_bytes(bytes(data))
        assert main(["verify", str(bad)]) in (1, 2)
    assert SealEvent.objects.filter(seal=seal_b, kind=SealEvent.Kind.USED).count() == 2
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a document")
    assert main(["verify", str(junk)]) == 2


def test_seal_refused_without_workstation(approved, seal_b, tmp_path, monkeypatch, capsys):
    doc = approved()
    monkeypatch.delenv("GONGWEN_WORKSTATION_CREDENTIAL", raising=False)
    monkeypatch.delenv("GONGWEN_WORKSTATION_CREDENTIAL_FILE", raising=False)
    plain = tmp_path / "doc.pdf"
    assert main(["doc", "render", str(doc.pk), "--format", "pdf", "--out", str(plain)]) == 0
    assert main(["doc", "seal", str(plain), "--seal", seal_b.es_id, "--pin", PIN,
                 "--out", str(tmp_path / "s.pdf")]) == 1
    assert "专用计算机" in capsys.readouterr().err


def test_seal_several_documents_with_one_pin(approved, seal_b, station_b, monkeypatch, capsys,
                                             clerk_b, unit_a):
    from gongwen.documents import services
    from gongwen.documents.models import OfficialDocument, State

    docs = [approved(title=f"关于第{i}项工作的通知") for i in range(2)]
    draft = services.create_draft(actor=clerk_b, doc_type="notice", title="关于草稿的通知",
                                  body_text="草稿正文。", main_units=[unit_a.pk])
    monkeypatch.setenv("GONGWEN_WORKSTATION_CREDENTIAL", station_b)
    ids = [str(d.pk) for d in docs]
    assert main(["doc", "seal", "--doc", *ids, "--seal", seal_b.es_id, "--pin", PIN]) == 0
    out = capsys.readouterr().out
    assert out.count("用印完成") == 2
    assert all(OfficialDocument.objects.get(pk=d.pk).state == State.SEALED for d in docs)
    # a refused document: its reason in Chinese, exit 1; the sealed ones are not sealed again
    assert main(["doc", "seal", "--doc", *ids, str(draft.pk), "--seal", seal_b.es_id,
                 "--pin", PIN]) == 1
    captured = capsys.readouterr()
    assert captured.out.count("此前已用印") == 2 and "只有已核批的公文可以用印" in captured.err
    assert SealEvent.objects.filter(seal=seal_b, kind=SealEvent.Kind.USED).count() == 2
    assert main(["doc", "seal", "--seal", seal_b.es_id, "--pin", PIN]) == 2  # neither
