"""The seal pages (register, applications, workstations, self-built systems, 用印) crawled
with bad input around a real seal, application and workstation (``tests.crawl``): no answer
of status 500 or more, as any of the seal lifecycle's roles."""

from __future__ import annotations

from gongwen.seals import services
from tests.crawl import server_errors, urls


def test_no_seal_page_answers_bad_input_with_a_server_error(
        seal_b, keeper_b, head_b, head_a, operator, province_operator, clerk_b):
    station = services.enrol_workstation(actor=operator, unit_id=seal_b.unit_id, name="用印机1",
                                         seal_ids=[seal_b.pk])
    pending = services.fill_application(actor=keeper_b, kind="change", reason="更换保管人",
                                        keeper_id=keeper_b.pk, seal_id=seal_b.pk)
    real = {"seal_id": str(seal_b.pk), "app_id": str(pending.pk),
            "ws_id": str(station.workstation.pk), "action": "sign", "unit_id": str(seal_b.unit_id)}
    found = urls(real, only=lambda pattern: pattern.startswith(("seals/", "sealing/")))
    users = {"anonymous": None, "keeper": keeper_b, "unit head": head_b, "city head": head_a,
             "operator": operator, "province operator": province_operator, "clerk": clerk_b}
    failures, answered = server_errors(found, users)
    assert len(found) > 20
    assert not failures, "\n".join(failures)
    assert answered[2] > 30 and answered[4] > 50, answered
