"""Fixtures for sealing: the seal authorities and seals of tests/apps/seals, a workstation
bound to each seal, a temporary blob store and an approved notice of 东海县人民政府 (unit_b)."""

from __future__ import annotations

import pytest

from tests.apps.seals import conftest as _seals

PIN, MAKER_PIN = _seals.PIN, _seals.MAKER_PIN
# The seal authorities, keepers and seals of the seals app's tests.
# (province and province_operator come from tests/conftest.py)
fast_kdf, pki = _seals.fast_kdf, _seals.pki
head_a, head_b, head_bureau, bureau = _seals.head_a, _seals.head_b, _seals.head_bureau, _seals.bureau
keeper_b, keeper_bureau = _seals.keeper_b, _seals.keeper_bureau
seal_b, seal_bureau = _seals.seal_b, _seals.seal_bureau


BODY = ("为加快电子政务应用步伐，经研究，决定对全市已联网单位实行公文无纸化传输。\n"
        "一、目标任务\n公文无纸化传输工作分为两个实施阶段。")


@pytest.fixture(autouse=True)
def blob_dir(settings, tmp_path):
    settings.GONGWEN = {**settings.GONGWEN, "BLOB_DIR": str(tmp_path / "blobs")}
    return tmp_path / "blobs"


@pytest.fixture
def station_b(seal_b, operator, unit_b):
    from gongwen.seals import services

    return services.enrol_workstation(actor=operator, unit_id=unit_b.pk, name="县府办用印机",
                                      seal_ids=[seal_b.pk]).credential


@pytest.fixture
def station_bureau(seal_bureau, operator, bureau):
    from gongwen.seals import services

    return services.enrol_workstation(actor=operator, unit_id=bureau.pk, name="人社局用印机",
                                      seal_ids=[seal_bureau.pk]).credential


@pytest.fixture
def clerk_b(make_user, unit_b):
    return make_user(unit_b, "clerk", username="dhx_clerk")


@pytest.fixture
def approved(clerk_b, head_b, unit_a):
    """An approved notice of unit_b; ``approved(co_issuers=[...])`` for 联合行文."""
    from gongwen.documents import services

    def make(**over):
        fields = {"doc_type": "notice", "title": "关于推行公文无纸化传输工作的通知",
                  "body_text": BODY, "main_units": [unit_a.pk],
                  "main_recipients_text": "各乡镇人民政府"}
        fields.update(over)
        doc = services.create_draft(actor=clerk_b, **fields)
        services.submit(actor=clerk_b, doc_id=doc.pk)
        return services.approve(actor=head_b, doc_id=doc.pk)

    return make
