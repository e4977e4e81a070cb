"""The 验章报告 shows signing times in local (Beijing) time like the rest of the UI, while
the report itself keeps the UTC ISO text (what is stored with a delivery)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.template.loader import render_to_string
from django.urls import reverse

from gongwen.documents import sealing, verification

from .conftest import PIN

SIGNED = datetime(2026, 11, 28, 4, 32, 26, tzinfo=UTC)


def test_report_page_shows_the_signing_time_in_local_time(
        client, approved, keeper_b, seal_b, station_b):
    doc = approved()
    # Within the seal's validity, which starts when the fixture made it.
    signed = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    sealing.seal_document(actor=keeper_b, doc_id=doc.pk, seal_id=seal_b.pk,
                          workstation_credential=station_b, pin=PIN, signing_time=signed)
    beijing = (signed + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")  # Asia/Shanghai
    rep = verification.verify_document(doc, file_format="ofd")
    assert rep.signatures[0]["signing_time"] == signed.isoformat()  # kept as is (UTC)
    assert f"签章时间 {beijing}" in rep.text_zh()
    client.force_login(keeper_b)
    for fmt in ("pdf", "ofd"):
        body = client.get(reverse("web:sealing_report", args=[doc.pk]),
                          {"format": fmt}).content.decode()
        assert f"签章时间 {beijing}" in body, fmt
        assert signed.isoformat() not in body, fmt


def test_carried_originals_show_local_signing_times():
    original = {"sealed": True, "valid": True, "summary_zh": "原件印章有效",
                "signatures": [{"unit": "东海县人民政府", "seal_name": "东海县人民政府",
                                "signer": None, "signing_time": "2026-11-28T04:32:26+00:00"},
                               {"unit": "连云港市财政局", "seal_name": "", "signer": None,
                                "signing_time": None}]}
    carried = [verification.CarriedReport(
        index=0, name="原件.pdf", description="", role="Source", size=10, sm3="ab" * 32,
        file_format="pdf", covered=True, covered_reason_zh="一致", original=original)]
    html = render_to_string("documents/_carried.html", {"carried": carried,
                                                        "download": "document", "obj_id": 1})
    assert "签章时间 2026-11-28 12:32:26" in html and "T04:32:26" not in html
    assert "签章时间 未知" in html


def test_display_time_reads_iso_text_and_datetimes():
    assert verification.display_time("2026-11-28T04:32:26+00:00") == "2026-11-28 12:32:26"
    assert verification.display_time(SIGNED) == "2026-11-28 12:32:26"
    assert verification.display_time(None) == "" and verification.display_time("坏") == "坏"
