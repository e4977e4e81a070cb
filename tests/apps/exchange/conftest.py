"""Fixtures of the exchange: the city office (unit A) sends to 东海县 (unit B), two more
counties reached through a recipient group, a bureau as 抄送 and a unit that is not
networked. Tasks run immediately, mail goes to the in-memory outbox, PBKDF2 is cheap."""

from __future__ import annotations

import uuid

import pytest

from gongwen.accounts.models import Role

PIN = "80417326"


@pytest.fixture(autouse=True)
def exchange_settings(settings, tmp_path):
    settings.GONGWEN = {**settings.GONGWEN, "BLOB_DIR": str(tmp_path / "blobs"),
                        "PBKDF2_ITERATIONS": 1000, "SUITE": "GM", "RECEIPT_HOURS": 24}
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def stand_in_seal_checks(request, monkeypatch):
    """The "sealed" files of these tests are stand-ins (put_sealed_rendition), not signed:
    verify them with the fallback checks. Tests that request ``real_sealing`` seal for real
    and get the sealing verification."""
    if "real_sealing" in request.fixturenames:
        return
    from gongwen.exchange import hooks

    monkeypatch.setattr(hooks, "_seal_checks",
                        lambda document, dispatch, data, register=None, algorithm=None:
                        (hooks._fallback_checks(document, dispatch, data), None))


@pytest.fixture
def pki(db):
    from gongwen.authority import services

    return {ca.role: ca for ca in services.init_pki().cas}


@pytest.fixture
def county(make_unit):
    from gongwen.units.models import Kind, Level

    def make(name):
        return make_unit(name, level=Level.COUNTY, kind=Kind.GOVERNMENT, networked=True)

    return make


@pytest.fixture
def cast(db, unit_a, unit_b, make_unit, make_user, county, pki):
    """Units, clerks (each with a unit-receipt key disk), heads and a group."""
    from gongwen.authority import services as authority
    from gongwen.units.models import Kind, Level, RecipientGroup

    unit_a.networked = True
    unit_a.save()
    unit_b.networked = True
    unit_b.save()
    gyx, gn = county("赣榆县人民政府"), county("灌南县人民政府")
    fgw = make_unit("连云港市发展和改革委员会", networked=True)
    hzq = make_unit("海州区人民政府", level=Level.COUNTY, kind=Kind.GOVERNMENT, networked=False)
    group = RecipientGroup.objects.create(name="各县区人民政府")
    group.members.set([unit_b, gyx, gn, hzq])
    users = {"clerk_a": make_user(unit_a, Role.CLERK, username="sfb_clerk",
                                  email="sfb@example.gov.cn"),
             "head_a": make_user(unit_a, Role.HEAD, username="sfb_head"),
             "clerk_b": make_user(unit_b, Role.CLERK, username="dhx_clerk",
                                  email="dhx@example.gov.cn"),
             "head_b": make_user(unit_b, Role.HEAD, username="dhx_head"),
             "clerk_gyx": make_user(gyx, Role.CLERK, username="gyx_clerk",
                                    email="gyx@example.gov.cn"),
             "clerk_gn": make_user(gn, Role.CLERK, username="gn_clerk"),
             "clerk_fgw": make_user(fgw, Role.CLERK, username="fgw_clerk")}
    for name in ("clerk_b", "clerk_gyx", "clerk_gn", "clerk_fgw"):
        user = users[name]
        authority.issue_certificate(unit=user.unit, profile="unit-receipt", holder=user, pin=PIN)
    return {"a": unit_a, "b": unit_b, "gyx": gyx, "gn": gn, "fgw": fgw, "hzq": hzq,
            "group": group, **users}


def put_sealed_rendition(doc) -> bytes:
    """Stand-in for the sealing step: a stored PDF rendition, then the transition helper."""
    from gongwen.documents import blobs
    from gongwen.documents.models import Action, Rendition
    from tests.apps.documents.conftest import make_pdf

    data = make_pdf((doc.title, doc.doc_number))
    ref = blobs.put(data)
    Rendition.objects.create(document=doc, file_format="pdf", revision=doc.revision,
                             fingerprint=f"sealed-{uuid.uuid4().hex}", blob=ref.digest,
                             size=ref.size)
    doc.apply(Action.SEAL)
    doc.save(update_fields=["state", "updated_at"])
    return data


@pytest.fixture
def sealed_doc(cast):
    """A 通知 of the city office: 主送 东海县 and the group of counties, 抄送 发改委."""
    from gongwen.documents import services as docs

    def make(title="关于推行公文无纸化传输工作的通知"):
        doc = docs.create_draft(
            actor=cast["clerk_a"], doc_type="notice", title=title,
            body_text="一、目标任务\n公文无纸化传输工作分为两个实施阶段。",
            main_units=[cast["b"].pk], main_groups=[cast["group"].pk],
            copy_units=[cast["fgw"].pk, cast["b"].pk])
        docs.submit(actor=cast["clerk_a"], doc_id=doc.pk)
        doc = docs.approve(actor=cast["head_a"], doc_id=doc.pk, comment="同意")
        put_sealed_rendition(doc)
        return doc

    return make


@pytest.fixture
def dispatched(cast, sealed_doc, django_capture_on_commit_callbacks):
    from gongwen.exchange import services

    def make(**kw):
        doc = sealed_doc(**kw)
        with django_capture_on_commit_callbacks(execute=True):
            return services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=uuid.uuid4())

    return make
