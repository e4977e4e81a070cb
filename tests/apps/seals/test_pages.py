"""印章管理 pages: register with image, history CSV, application form and PDF, workstation
enrolment; other units see only their own seals (404)."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from gongwen.seals import services
from gongwen.seals.models import ApplicationState, SealApplication


def _login(client, user):
    client.force_login(user)
    return client


def test_register_shows_own_seals_with_image(client, seal_b, keeper_b):
    page = _login(client, keeper_b).get(reverse("web:seals"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "东海县人民政府" in text and seal_b.es_id in text and "有效" in text
    img = client.get(reverse("web:seal_image", args=[seal_b.pk]))
    assert img.status_code == 200 and img["Content-Type"] == "image/png"
    assert img.content.startswith(b"\x89PNG")


def test_other_units_get_404(client, seal_b, keeper_bureau):
    c = _login(client, keeper_bureau)
    for name in ("web:seal", "web:seal_image", "web:seal_history_csv"):
        assert c.get(reverse(name, args=[seal_b.pk])).status_code == 404
    assert seal_b.es_id not in c.get(reverse("web:seals")).content.decode()


def test_city_office_operator_sees_every_seal(client, seal_b, operator):
    assert seal_b.es_id in _login(client, operator).get(reverse("web:seals")).content.decode()
    assert client.get(reverse("web:seal", args=[seal_b.pk])).status_code == 200


def test_clerk_has_no_register(client, seal_b, clerk_b):
    assert _login(client, clerk_b).get(reverse("web:seals")).status_code == 403


def test_register_and_history_csv(client, seal_b, keeper_b, operator, unit_b):
    from .conftest import PIN

    station = services.enrol_workstation(actor=operator, unit_id=unit_b.pk, name="用印机1",
                                         seal_ids=[seal_b.pk])
    services.authorize_seal_use(user=keeper_b, seal=seal_b,
                                workstation_credential=station.credential, pin=PIN,
                                document_ref="东政发〔2025〕7号")
    c = _login(client, keeper_b)
    reg = c.get(reverse("web:seal_register_csv"))
    rows = list(csv.reader(io.StringIO(reg.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["单位", "印章名称", "印章编码"]
    assert rows[1][2] == seal_b.es_id and rows[1][-1] == "1"
    hist = c.get(reverse("web:seal_history_csv", args=[seal_b.pk]))
    text = hist.content.decode("utf-8-sig")
    assert "制发" in text and "用印" in text and "用印机1" in text and "东政发〔2025〕7号" in text
    assert "负责人签字" in text


def test_application_flow_in_pages(client, pki, keeper_b, head_b, head_a, province_operator):
    from .conftest import MAKER_PIN, PIN

    c = _login(client, keeper_b)
    r = c.post(reverse("web:seal_application_new"),
               {"kind": "make", "keeper": keeper_b.pk, "reason": "新设"})
    assert r.status_code == 302
    app = SealApplication.objects.get()
    _login(client, head_b).post(reverse("web:seal_application_action", args=[app.pk, "sign"]))
    _login(client, head_a).post(reverse("web:seal_application_action",
                                        args=[app.pk, "approve"]))
    _login(client, province_operator).post(
        reverse("web:seal_application_action", args=[app.pk, "execute"]),
        {"keeper_pin": PIN, "keeper_pin_again": PIN, "maker_pin": MAKER_PIN})
    app.refresh_from_db()
    assert app.state == ApplicationState.EXECUTED and app.result_seal
    pdf = _login(client, keeper_b).get(reverse("web:seal_application_pdf", args=[app.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    page = client.get(reverse("web:seal_application", args=[app.pk])).content.decode()
    assert "已办理" in page


def test_reject_needs_reason_in_pages(client, pki, keeper_b, head_b):
    app = services.fill_application(actor=keeper_b, kind="make", reason="x",
                                    keeper_id=keeper_b.pk)
    c = _login(client, head_b)
    c.post(reverse("web:seal_application_action", args=[app.pk, "reject"]), {"reason": ""})
    app.refresh_from_db()
    assert app.state == ApplicationState.FILLED
    c.post(reverse("web:seal_application_action", args=[app.pk, "reject"]), {"reason": "不需要"})
    app.refresh_from_db()
    assert app.state == ApplicationState.REJECTED


def test_other_units_application_is_404(client, pki, keeper_b, keeper_bureau):
    app = services.fill_application(actor=keeper_b, kind="make", reason="x",
                                    keeper_id=keeper_b.pk)
    c = _login(client, keeper_bureau)
    assert c.get(reverse("web:seal_application", args=[app.pk])).status_code == 404
    assert c.get(reverse("web:seal_application_pdf", args=[app.pk])).status_code == 404


@pytest.mark.parametrize("who,status", [("operator", 200), ("head_b", 403), ("keeper_b", 403)])
def test_workstation_pages_are_for_the_operator(client, request, who, status, pki):
    user = request.getfixturevalue(who)
    assert _login(client, user).get(reverse("web:seal_workstations")).status_code == status


def test_operator_enrols_a_workstation(client, seal_b, operator, unit_b):
    r = _login(client, operator).post(reverse("web:seal_workstations"),
                                      {"unit": unit_b.pk, "name": "县府办用印机",
                                       "seals": [seal_b.pk]})
    assert r.status_code == 200 and "gwws-" in r.content.decode()
    assert seal_b.workstations.get().name == "县府办用印机"
