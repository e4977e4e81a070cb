"""A unit's seals, seal applications and workstations are its own (R-SEC-1): every URL of
the platform (``tests.crawl.leaks``) requested by users of every role of an unrelated unit
shows neither the seal's code or picture, nor the application's reason, nor the enrolled
workstation. The seal's keeper, requesting the same, sees all of them (the control)."""

from __future__ import annotations

import pytest

from gongwen.accounts.models import Role
from gongwen.seals import services
from tests.crawl import assert_no_leaks, distinctive, secrets_shown, urls


@pytest.fixture
def world(seal_b, keeper_b, operator, make_unit, make_user):
    station = services.enrol_workstation(actor=operator, unit_id=seal_b.unit_id,
                                         name="甲乙丙丁用印机", seal_ids=[seal_b.pk])
    pending = services.fill_application(actor=keeper_b, kind="change",
                                        reason="保管人甲乙丙丁调离，更换保管人",
                                        keeper_id=keeper_b.pk, seal_id=seal_b.pk)
    real = {"seal_id": str(seal_b.pk), "app_id": str(pending.pk),
            "ws_id": str(station.workstation.pk), "action": "sign",
            "unit_id": str(seal_b.unit_id)}
    third = make_unit("连云港市统计局")
    users = {"anonymous": None}
    users |= {f"outsider {role}": make_user(third, role, username=f"tjj_{role}")
              for role in Role.values}
    secrets = {"seal code": seal_b.es_id.encode(),
               "seal picture": distinctive(bytes(seal_b.image_png)),
               "application reason": "保管人甲乙丙丁调离".encode(),
               "workstation": "甲乙丙丁用印机".encode()}
    return {"found": urls(real, wrong=False), "users": users, "secrets": secrets,
            "searches": (seal_b.name, seal_b.es_id)}


def test_no_url_shows_a_units_seals_to_another_unit(world):
    assert_no_leaks(world["found"], world["users"], world["secrets"], world["searches"])


def test_the_crawl_finds_what_the_keeper_sees(world, keeper_b):
    assert secrets_shown(world["found"], keeper_b, world["secrets"],
                         world["searches"]) == set(world["secrets"])
