"""Every link on the pages of 印章管理 opens for the user it is shown to: the tabs and the
links to seals are shown only where their page would let the user in (views/seals.py
PAGES), so no role is led to a 403 or 404 (nor gets a denial in their audit trail)."""

from __future__ import annotations

import html
import re

import pytest

from gongwen.accounts.models import Role
from gongwen.audit.models import AuditEntry
from gongwen.seals import services

TAB_PAGES = ["/seals/", "/seals/applications/", "/seals/applications/new/",
             "/seals/workstations/", "/seals/self-systems/"]
_HREF = re.compile(r'href="(/seals/[^"]*)"')


def _links(body: str) -> set[str]:
    return {html.unescape(h) for h in _HREF.findall(body)}


def _crawl(client, user) -> dict[str, int]:
    """The status of every /seals/ link reachable from the tab pages the user may open."""
    client.force_login(user)
    seen: dict[str, int] = {}
    todo = []
    for url in TAB_PAGES:
        if client.get(url).status_code == 200:
            todo.append(url)
    denied_before = AuditEntry.objects.filter(action="permission.denied").count()
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            todo.extend(_links(response.content.decode()) - seen.keys())
    seen["denials"] = (AuditEntry.objects.filter(action="permission.denied").count()
                       - denied_before)
    return seen


@pytest.fixture
def cast(make_user, unit_a, unit_b, operator, province_operator, head_a, keeper_b, head_b,
         clerk_b):
    """The demo's roles: admin, sheng.admin, sfb.head, sfb.seal, dhx.head, dhx.seal,
    dhx.clerk and gyx.clerk (clerk and seal keeper)."""
    return {"admin": operator, "sheng.admin": province_operator, "sfb.head": head_a,
            "sfb.seal": make_user(unit_a, Role.SEAL_KEEPER, username="sfb_seal"),
            "dhx.head": head_b, "dhx.seal": keeper_b, "dhx.clerk": clerk_b,
            "gyx.clerk": make_user(unit_b, Role.CLERK, Role.SEAL_KEEPER, username="gyx_clerk"),
            "sfb.audit": make_user(unit_a, Role.AUDITOR, username="sfb_audit")}


def test_every_link_on_the_seal_pages_opens_for_each_role(client, cast, seal_b, keeper_b,
                                                            operator):
    services.enrol_workstation(actor=operator, unit_id=seal_b.unit_id, name="用印机1",
                               seal_ids=[seal_b.pk])
    services.fill_application(actor=keeper_b, kind="change", reason="更换保管人",
                              keeper_id=keeper_b.pk, seal_id=seal_b.pk)
    failures = []
    crawled = {}
    for name, user in cast.items():
        seen = _crawl(client, user)
        crawled[name] = seen
        failures += [f"{name}: {url} → {status}" for url, status in seen.items()
                     if url != "denials" and status != 200]
        if seen["denials"]:
            failures.append(f"{name}: {seen['denials']} denial(s) audited")
    assert not failures, "\n".join(failures)
    # The crawl reached the pages each role works with.
    assert "/seals/" in crawled["dhx.seal"] and "/seals/applications/new/" in crawled["gyx.clerk"]
    assert "/seals/self-systems/" in crawled["sfb.head"]
    assert "/seals/workstations/" in crawled["admin"]
    assert f"/seals/{seal_b.pk}/" in crawled["dhx.head"]
    assert len(crawled["sfb.audit"]) == 1  # no seal page at all


@pytest.mark.parametrize(("who", "shown", "hidden"), [
    ("dhx.seal", ["申请表", "填写申请表"], ["专用计算机", "自建印章系统"]),
    ("dhx.head", ["申请表", "填写申请表"], ["专用计算机", "自建印章系统"]),
    ("sfb.head", ["申请表", "自建印章系统"], ["专用计算机"]),
    ("admin", ["申请表", "专用计算机", "自建印章系统"], ["填写申请表"]),
    ("sheng.admin", ["申请表", "专用计算机"], ["填写申请表", "自建印章系统"]),
])
def test_register_shows_only_the_tabs_the_role_may_open(client, cast, who, shown, hidden):
    client.force_login(cast[who])
    body = client.get("/seals/").content.decode()
    nav = body[body.index('aria-label="印章管理"'):]
    nav = nav[:nav.index("</nav>")]
    for label in shown:
        assert f">{label}</a>" in nav, label
    for label in hidden:
        assert f">{label}</a>" not in nav, label
