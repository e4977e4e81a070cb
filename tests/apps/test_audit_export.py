"""The auditor's CSV export of the trail and the paged /api/audit (R-AUDIT-1)."""

from __future__ import annotations

import csv
import io

import pytest

from gongwen.audit.models import AuditEntry
from gongwen.audit.services import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(make_user, unit_a):
    return make_user(unit_a, "auditor", username="sfb_audit")


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads the Chinese as UTF-8 only with a BOM
    return list(csv.reader(io.StringIO(body[1:])))


def test_auditor_exports_the_filtered_trail_as_csv(client, auditor, operator, unit_a):
    """GIVEN a trail with a denied permission and a PIN check
    WHEN the auditor exports it filtered on 事项 口令
    THEN the CSV (streamed, UTF-8 with BOM) holds only the PIN check, in Chinese, and the
    export itself is in the trail."""
    record(operator, "permission.denied", unit=unit_a,
           detail={"perm": "manage_pki", "why": "scope"})
    record(operator, "keydisk.pin_ok", unit=unit_a, detail={"serial": "7f01", "ok": True})
    client.force_login(auditor)
    response = client.get("/audit/export.csv", {"action": "口令"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *rows = _csv(response)
    assert header[:6] == ["序号", "时间", "操作人", "单位", "事项", "事项代码"]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["事项"] == "密钥盘口令验证通过" and row["单位"] == unit_a.name
    assert row["详情"] == "结果：是；证书序列号：7f01"  # keys as stored: sorted
    exported = AuditEntry.objects.get(action="audit.exported")
    assert exported.actor == auditor and exported.detail["filters"] == {"action": "口令"}


def test_the_page_links_to_the_export_with_its_filters(client, auditor):
    client.force_login(auditor)
    body = client.get("/audit/", {"action": "口令", "actor": "op"}).content.decode()
    assert "导出CSV" in body and "/audit/export.csv?" in body and "action=%E5%8F%A3%E4%BB%A4" in body


def test_formulas_in_user_text_are_not_run_by_a_spreadsheet(client, auditor):
    record(None, "login.failed", actor_name="=HYPERLINK(\"http://x\")", unit=auditor.unit)
    client.force_login(auditor)
    header, *rows = _csv(client.get("/audit/export.csv"))
    names = [dict(zip(header, r, strict=True))["操作人"] for r in rows]
    assert "'=HYPERLINK(\"http://x\")" in names


@pytest.mark.parametrize("roles", [("operator",), ("head",), ("clerk",)])
def test_only_auditors_export(client, make_user, unit_a, roles):
    user = make_user(unit_a, *roles)
    client.force_login(user)
    assert client.get("/audit/export.csv").status_code == 403
    assert AuditEntry.objects.filter(action="permission.denied", actor=user).exists()


def test_a_unit_auditor_exports_only_the_unit_trail(client, make_user, unit_b, clerk_a,
                                                    clerk_b):
    record(clerk_a, "logout", clerk_a)
    record(clerk_b, "logout", clerk_b)
    auditor_b = make_user(unit_b, "auditor")
    client.force_login(auditor_b)
    header, *rows = _csv(client.get("/audit/export.csv"))
    assert {dict(zip(header, r, strict=True))["操作人"] for r in rows} == {
        "clerk_b", auditor_b.username}  # the export itself is in the trail before it runs


def test_bad_filter_dates_get_a_chinese_message_not_a_500(client, auditor):
    client.force_login(auditor)
    response = client.get("/audit/export.csv", {"date_from": "2026-13-99"})
    assert response.status_code == 400 and "日期" in response.content.decode()


# -- /api/audit ------------------------------------------------------------------------------

def test_api_pages_with_a_cursor(client, auditor):
    """GIVEN 5 entries WHEN read 2 at a time with ``before`` THEN every entry comes once,
    newest first, and the last page is short."""
    for i in range(5):
        record(auditor, "test.event", detail={"i": i})
    client.force_login(auditor)
    seen, before = [], None
    for _ in range(4):
        params = {"limit": 2} | ({"before": before} if before else {})
        page = client.get("/api/audit", params).json()
        seen += [e["seq"] for e in page]
        if len(page) < 2:
            break
        before = page[-1]["seq"]
    ours = [s for s in seen if AuditEntry.objects.get(seq=s).action == "test.event"]
    assert len(ours) == 5 and seen == sorted(seen, reverse=True) and len(set(seen)) == len(seen)


def test_api_limit_has_a_maximum_and_a_chinese_error(client, auditor):
    client.force_login(auditor)
    response = client.get("/api/audit", {"limit": 100000})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and "limit" in response.json()["message"]


def test_api_filters_by_actor_unit_and_date(client, auditor, clerk_a, unit_a):
    record(clerk_a, "logout", clerk_a)
    record(auditor, "login.success", auditor)
    client.force_login(auditor)
    names = {e["actor_name"] for e in client.get("/api/audit", {"actor": "clerk"}).json()}
    assert names == {"clerk_a"}
    assert client.get("/api/audit", {"unit": unit_a.pk}).json()
    assert client.get("/api/audit", {"date_to": "2000-01-01"}).json() == []


def test_api_paging_is_in_the_openapi_schema(client):
    schema = client.get("/api/openapi.json").json()
    params = {p["name"] for p in schema["paths"]["/api/audit"]["get"]["parameters"]}
    assert {"limit", "before", "action", "actor", "unit", "date_from", "date_to"} <= params
