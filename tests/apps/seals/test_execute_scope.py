"""Who carries out an approved application (QA backlog 7; attachment art. 4, R-SEAL-3): the
authority that makes the seal, for every kind of form. A county government's 注销 and 交回
are the province's, as its 制作 is; the city office approves them but does not execute them,
and is not offered the button."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gongwen.audit.models import AuditEntry
from gongwen.policy.permissions import NotVisible, Perm, can
from gongwen.seals import services
from gongwen.seals.models import ApplicationKind, ApplicationState, SealStatus

pytestmark = pytest.mark.django_db


def _approved(kind, seal, *, filler, head, approver):
    app = services.fill_application(actor=filler, kind=kind, reason="依规办理", seal_id=seal.pk)
    services.sign_application(actor=head, application_id=app.pk)
    services.approve_application(actor=approver, application_id=app.pk)
    return app


@pytest.mark.parametrize("kind", [ApplicationKind.REVOKE, ApplicationKind.RETURN])
def test_city_operator_cannot_end_a_county_seal(kind, seal_b, keeper_b, head_b, head_a,
                                                operator, province_operator):
    """GIVEN an approved 注销 or 交回 form for a county government's seal
    WHEN the city office's operator executes it
    THEN it is refused as outside his scope (404, audited) and the seal stays valid; the
    province's operator carries it out."""
    app = _approved(kind, seal_b, filler=keeper_b, head=head_b, approver=head_a)
    assert not can(operator, Perm.EXECUTE_SEAL_APPLICATION, app)
    with pytest.raises(NotVisible):
        services.execute_application(actor=operator, application_id=app.pk)
    seal_b.refresh_from_db()
    assert seal_b.status == SealStatus.ACTIVE
    assert AuditEntry.objects.filter(action="permission.denied", actor=operator).exists()
    assert can(province_operator, Perm.EXECUTE_SEAL_APPLICATION, app)
    services.execute_application(actor=province_operator, application_id=app.pk)
    app.refresh_from_db()
    assert app.state == ApplicationState.EXECUTED


def test_province_operator_cannot_end_a_city_units_seal(seal_bureau, keeper_bureau,
                                                        head_bureau, head_a, operator,
                                                        province_operator):
    app = _approved(ApplicationKind.REVOKE, seal_bureau, filler=keeper_bureau,
                    head=head_bureau, approver=head_a)
    assert not can(province_operator, Perm.EXECUTE_SEAL_APPLICATION, app)
    with pytest.raises(NotVisible):
        services.execute_application(actor=province_operator, application_id=app.pk)
    assert can(operator, Perm.EXECUTE_SEAL_APPLICATION, app)


def test_city_operator_is_not_offered_to_execute_a_county_form(client, seal_b, keeper_b,
                                                               head_b, head_a, operator):
    app = _approved(ApplicationKind.REVOKE, seal_b, filler=keeper_b, head=head_b,
                    approver=head_a)
    client.force_login(operator)
    page = client.get(reverse("web:seal_application", args=[app.pk]))
    assert page.status_code == 200
    assert reverse("web:seal_application_action", args=[app.pk, "execute"]) not in \
        page.content.decode()
