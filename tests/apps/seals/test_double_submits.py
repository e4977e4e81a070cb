"""A double click on 登记 (专用计算机) or 批准 (自建印章系统) records once (QA backlog item
11): a unit has one active workstation of a name, and one approval of its own seal system;
the second submit is refused in Chinese and says what happened."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from gongwen.seals import services
from gongwen.seals.models import SelfSealSystemApproval, Workstation


def test_a_workstation_name_is_enrolled_once_per_unit(pki, bureau, operator):
    services.enrol_workstation(actor=operator, unit_id=bureau.pk, name="人社局用印机")
    with pytest.raises(ValidationError) as err:
        services.enrol_workstation(actor=operator, unit_id=bureau.pk, name=" 人社局用印机 ")
    assert "已有启用中的专用计算机“人社局用印机”" in err.value.messages[0]
    assert Workstation.objects.filter(unit=bureau).count() == 1


def test_a_retired_workstations_name_can_be_used_again(pki, bureau, operator):
    first = services.enrol_workstation(actor=operator, unit_id=bureau.pk, name="用印机").workstation
    services.retire_workstation(actor=operator, workstation_id=first.pk)
    again = services.enrol_workstation(actor=operator, unit_id=bureau.pk, name="用印机")
    assert again.workstation.pk != first.pk


def test_the_database_backs_one_active_name_per_unit(pki, bureau, operator):
    services.enrol_workstation(actor=operator, unit_id=bureau.pk, name="用印机")
    with pytest.raises(IntegrityError), transaction.atomic():
        Workstation.objects.create(name="用印机", unit=bureau, credential_sha256="0" * 64)


def test_the_enrol_page_refuses_the_second_click_in_chinese(client, pki, bureau, operator):
    client.force_login(operator)
    data = {"unit": bureau.pk, "name": "人社局用印机"}
    first = client.post(reverse("web:seal_workstations"), data)
    assert first.status_code == 200 and "gwws-" in first.content.decode()
    second = client.post(reverse("web:seal_workstations"), data).content.decode()
    assert "已有启用中的专用计算机" in second and "gwws-" not in second
    assert Workstation.objects.filter(unit=bureau).count() == 1


def test_a_units_own_seal_system_is_approved_once(client, pki, bureau, operator):
    client.force_login(operator)
    data = {"unit": bureau.pk, "reference": "连政办复〔2006〕12号", "note": ""}
    assert client.post(reverse("web:seal_self_systems"), data).status_code == 302
    second = client.post(reverse("web:seal_self_systems"), data)
    assert second.status_code == 200 and "已批准" in second.content.decode()
    assert SelfSealSystemApproval.objects.filter(unit=bureau).count() == 1


def test_a_merged_units_workstations_are_retired(pki, bureau, operator, make_unit):
    """Art. 9: a merged unit's seals go back, and its 专用计算机 stop with them (audited)."""
    from gongwen.audit.models import AuditEntry
    from gongwen.units import services as units
    from gongwen.units.models import Kind, Level

    ws = services.enrol_workstation(actor=operator, unit_id=bureau.pk, name="用印机").workstation
    into = make_unit("连云港市人力资源局", level=Level.DEPARTMENT, kind=Kind.DEPARTMENT)
    units.merge_unit(actor=operator, unit_id=bureau.pk, into_id=into.pk)
    ws.refresh_from_db()
    assert not ws.active and ws.retired_at is not None
    entry = AuditEntry.objects.get(action="seal.workstation.retired", target_id=str(ws.pk))
    assert entry.actor == operator and entry.detail["reason"] == "merged"


def test_the_signing_head_is_not_offered_approval(client, pki, make_user, unit_a, head_a):
    from gongwen.accounts.models import Role
    from gongwen.seals.models import ApplicationKind

    keeper = make_user(unit_a, Role.SEAL_KEEPER, username="sfb_seal")
    app = services.fill_application(actor=keeper, kind=ApplicationKind.MAKE, reason="制作",
                                    keeper_id=keeper.pk)
    services.sign_application(actor=head_a, application_id=app.pk)
    client.force_login(head_a)
    page = client.get(reverse("web:seal_application", args=[app.pk])).content.decode()
    assert "批准</button>" not in page and "其他负责人审批" in page
