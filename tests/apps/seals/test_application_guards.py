"""One unit, one seal: duplicate, stale and replayed seal applications (QA backlog item 1,
items 5 and 9 in part). Every seal-bound application is checked again when it is carried
out, under the seal's row lock; a seal has at most one open application; a unit at most one
open 制作 form and one active seal; a form sent twice (same key) is filed once; the head who
signed a form does not approve it too; a merged unit's forms are closed, not approved and
failing late."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from gongwen.accounts.models import Role
from gongwen.audit.models import AuditEntry
from gongwen.policy.errors import CONFLICT, KEY_REUSED, was_replayed
from gongwen.seals import services
from gongwen.seals.models import (
    ApplicationKind,
    ApplicationState,
    Seal,
    SealApplication,
    SealStatus,
)

from .conftest import MAKER_PIN, PIN, run_make


def _fill(actor, kind, seal=None, keeper=None, **kw):
    return services.fill_application(actor=actor, kind=kind, reason="理由",
                                     seal_id=seal.pk if seal else None,
                                     keeper_id=keeper.pk if keeper else None, **kw)


def _to_approved(app, head, approver):
    services.sign_application(actor=head, application_id=app.pk)
    return services.approve_application(actor=approver, application_id=app.pk)


def _active_seals(unit) -> int:
    return Seal.objects.filter(unit=unit, status=SealStatus.ACTIVE).count()


# ------------------------------------------------------------------- one open form per seal


def test_a_seal_has_one_open_application(seal_bureau, clerk_bureau, keeper_bureau):
    """GIVEN an open 损坏换领 form for a seal WHEN a 变更 or 注销 of the same seal is filed
    THEN it is refused, naming the open form; once that form is closed, a new one goes."""
    first = _fill(clerk_bureau, ApplicationKind.REPLACE_DAMAGED, seal_bureau)
    for kind, keeper in ((ApplicationKind.CHANGE, keeper_bureau),
                         (ApplicationKind.REVOKE, None)):
        with pytest.raises(ValidationError) as err:
            _fill(clerk_bureau, kind, seal_bureau, keeper)
        assert f"#{first.pk}" in err.value.messages[0]
        assert err.value.code == CONFLICT
    services.reject_application(actor=_head(seal_bureau.unit), application_id=first.pk,
                                reason="材料不全")
    assert _fill(clerk_bureau, ApplicationKind.REVOKE, seal_bureau).state == "filled"


def _head(unit):
    return unit.users.filter(role_grants__role=Role.HEAD).first()


def test_the_database_backs_one_open_application_per_seal(seal_bureau, clerk_bureau):
    _fill(clerk_bureau, ApplicationKind.REVOKE, seal_bureau)
    with pytest.raises(IntegrityError), transaction.atomic():
        SealApplication.objects.create(unit=seal_bureau.unit, kind=ApplicationKind.CHANGE,
                                       seal=seal_bureau, reason="绕过服务层")


def test_reissue_after_loss_only_for_a_valid_seal(seal_bureau, clerk_bureau):
    """GIVEN a seal already reported lost WHEN another 遗失补发 is filed for it THEN it is
    refused: the first form brings the one new seal."""
    _fill(clerk_bureau, ApplicationKind.REISSUE_LOST, seal_bureau)
    with pytest.raises(ValidationError) as err:
        _fill(clerk_bureau, ApplicationKind.REISSUE_LOST, seal_bureau)
    assert "已挂失注销" in err.value.messages[0]
    assert SealApplication.objects.filter(kind=ApplicationKind.REISSUE_LOST).count() == 1


def test_a_loss_report_closes_the_seals_other_open_forms(seal_bureau, clerk_bureau,
                                                         head_bureau):
    """GIVEN a signed 损坏换领 form WHEN the seal is reported lost THEN the 遗失补发 form is
    filed (a loss never waits) and the other form is closed with the reason, in the audit."""
    damaged = _fill(clerk_bureau, ApplicationKind.REPLACE_DAMAGED, seal_bureau)
    services.sign_application(actor=head_bureau, application_id=damaged.pk)
    lost = _fill(clerk_bureau, ApplicationKind.REISSUE_LOST, seal_bureau)
    damaged.refresh_from_db()
    assert damaged.state == ApplicationState.REJECTED
    assert "挂失" in damaged.rejection_reason and f"#{lost.pk}" in damaged.rejection_reason
    entry = AuditEntry.objects.get(action="seal.application.rejected",
                                   target_id=str(damaged.pk))
    assert entry.actor == clerk_bureau and entry.detail["closed_by"] == f"#{lost.pk}"


# ---------------------------------------------------------------- one seal per unit (制作)


def test_a_unit_with_a_valid_seal_cannot_file_a_make_form(seal_bureau, keeper_bureau):
    with pytest.raises(ValidationError) as err:
        _fill(keeper_bureau, ApplicationKind.MAKE, keeper=keeper_bureau)
    assert seal_bureau.es_id in err.value.messages[0]


def test_a_unit_has_one_open_make_form(pki, keeper_bureau):
    first = _fill(keeper_bureau, ApplicationKind.MAKE, keeper=keeper_bureau)
    with pytest.raises(ValidationError) as err:
        _fill(keeper_bureau, ApplicationKind.MAKE, keeper=keeper_bureau)
    assert f"#{first.pk}" in err.value.messages[0]


# ------------------------------------------------------------- checked again at execution


def test_a_stale_replacement_does_not_destroy_a_revoked_seal(
        seal_bureau, clerk_bureau, head_bureau, head_a, operator):
    """GIVEN an approved 损坏换领 form WHEN the seal was revoked meanwhile (another way) and
    the authority executes THEN it is refused as a conflict: the seal stays 已注销 (it used
    to become 已销毁) and no second seal is made."""
    app = _to_approved(_fill(clerk_bureau, ApplicationKind.REPLACE_DAMAGED, seal_bureau),
                       head_bureau, head_a)
    Seal.objects.filter(pk=seal_bureau.pk).update(status=SealStatus.REVOKED)
    with pytest.raises(ValidationError) as err:
        services.execute_application(actor=operator, application_id=app.pk,
                                     keeper_pin=PIN, maker_pin=MAKER_PIN)
    assert err.value.code == CONFLICT and "已注销" in err.value.messages[0]
    seal_bureau.refresh_from_db()
    app.refresh_from_db()
    assert seal_bureau.status == SealStatus.REVOKED
    assert app.state == ApplicationState.APPROVED
    assert Seal.objects.filter(unit=seal_bureau.unit).count() == 1


def test_a_make_form_waits_for_the_units_reissue(seal_bureau, clerk_bureau, keeper_bureau):
    """GIVEN a lost seal whose 遗失补发 form is open WHEN a 制作 form is filed THEN it is
    refused, naming that form: the reissue brings the unit's seal."""
    lost = _fill(clerk_bureau, ApplicationKind.REISSUE_LOST, seal_bureau)
    with pytest.raises(ValidationError) as err:
        _fill(keeper_bureau, ApplicationKind.MAKE, keeper=keeper_bureau)
    assert f"#{lost.pk}" in err.value.messages[0]


def test_a_second_seal_is_never_issued_beside_a_valid_one(
        seal_bureau, clerk_bureau, keeper_bureau, head_bureau, head_a, operator, bureau):
    """GIVEN a lost seal's approved 遗失补发 form, and an approved 制作 form left from before
    the guards WHEN both are executed THEN the second is refused: one valid seal per unit."""
    lost = _to_approved(_fill(clerk_bureau, ApplicationKind.REISSUE_LOST, seal_bureau),
                        head_bureau, head_a)
    stale = SealApplication.objects.create(
        unit=bureau, kind=ApplicationKind.MAKE, keeper=keeper_bureau, reason="旧数据",
        seal_name=bureau.name, state=ApplicationState.APPROVED)
    services.execute_application(actor=operator, application_id=lost.pk, keeper_pin=PIN,
                                 maker_pin=MAKER_PIN)
    with pytest.raises(ValidationError) as err:
        services.execute_application(actor=operator, application_id=stale.pk,
                                     keeper_pin=PIN, maker_pin=MAKER_PIN)
    assert err.value.code == CONFLICT and "有效的电子印章" in err.value.messages[0]
    assert _active_seals(bureau) == 1


def test_a_lost_seal_is_reissued_once(seal_bureau, clerk_bureau, head_bureau, head_a,
                                      operator, bureau):
    """GIVEN a lost seal already reissued WHEN a second, stale 遗失补发 form of it is
    executed THEN it is refused: one replacement per lost seal."""
    app = _fill(clerk_bureau, ApplicationKind.REISSUE_LOST, seal_bureau)
    run_make(filler=None, head=head_bureau, approver=head_a, executor=operator, keeper=None,
             app=app)
    stale = SealApplication.objects.create(
        unit=bureau, kind=ApplicationKind.REISSUE_LOST, seal=seal_bureau,
        keeper=seal_bureau.keeper, reason="旧数据", state=ApplicationState.APPROVED)
    with pytest.raises(ValidationError) as err:
        services.execute_application(actor=operator, application_id=stale.pk,
                                     keeper_pin=PIN, maker_pin=MAKER_PIN)
    assert err.value.code == CONFLICT and "已补发" in err.value.messages[0]
    assert _active_seals(bureau) == 1


# ------------------------------------------------------------------------ the same form twice


def test_a_form_sent_twice_is_filed_once(seal_bureau, clerk_bureau):
    key = uuid.uuid4()
    first = _fill(clerk_bureau, ApplicationKind.REVOKE, seal_bureau, key=key)
    again = _fill(clerk_bureau, ApplicationKind.REVOKE, seal_bureau, key=str(key))
    assert again.pk == first.pk and was_replayed(again) and not was_replayed(first)
    assert SealApplication.objects.filter(seal=seal_bureau).count() == 1


def test_a_key_used_for_another_form_is_refused(seal_bureau, clerk_bureau, keeper_bureau):
    key = uuid.uuid4()
    _fill(clerk_bureau, ApplicationKind.REVOKE, seal_bureau, key=key)
    with pytest.raises(ValidationError) as err:
        _fill(keeper_bureau, ApplicationKind.REVOKE, seal_bureau, key=key)
    assert err.value.code == KEY_REUSED


def test_the_web_form_carries_a_key_and_a_double_click_files_once(client, seal_bureau,
                                                                  clerk_bureau):
    from django.urls import reverse

    client.force_login(clerk_bureau)
    page = client.get(reverse("web:seal_application_new")).content.decode()
    assert 'name="key"' in page
    key = str(uuid.uuid4())
    data = {"kind": "revoke", "seal": seal_bureau.pk, "reason": "撤销", "key": key}
    first = client.post(reverse("web:seal_application_new"), data)
    second = client.post(reverse("web:seal_application_new"), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert SealApplication.objects.filter(seal=seal_bureau).count() == 1


# -------------------------------------------------------------- 三员分立 and merged units


def test_the_head_who_signed_does_not_approve(pki, make_user, unit_a, head_a, operator):
    """GIVEN 市政府办公室's own 制作 form, signed by its head WHEN the same head approves
    it THEN it is refused: the unit's signature and the office's approval are two people."""
    keeper = make_user(unit_a, Role.SEAL_KEEPER, username="sfb_seal")
    app = _fill(keeper, ApplicationKind.MAKE, keeper=keeper)
    services.sign_application(actor=head_a, application_id=app.pk)
    with pytest.raises(ValidationError) as err:
        services.approve_application(actor=head_a, application_id=app.pk)
    assert "不能再审批" in err.value.messages[0]
    app.refresh_from_db()
    assert app.state == ApplicationState.HEAD_SIGNED


def test_a_merged_units_forms_are_closed_and_its_return_stays(
        seal_bureau, clerk_bureau, head_bureau, head_a, operator, make_unit):
    """GIVEN a signed 变更 form of a bureau WHEN the bureau is merged into another THEN the
    form is closed (reason: the merge) and the 交回 form of art. 9 is the seal's one open
    form; approving the closed form is refused in Chinese."""
    from gongwen.units import services as units
    from gongwen.units.models import Kind, Level

    new_keeper = head_bureau.unit.users.filter(
        role_grants__role=Role.SEAL_KEEPER).first()
    change = _fill(clerk_bureau, ApplicationKind.CHANGE, seal_bureau, new_keeper)
    services.sign_application(actor=head_bureau, application_id=change.pk)
    into = make_unit("连云港市人力资源局", level=Level.DEPARTMENT, kind=Kind.DEPARTMENT)
    units.merge_unit(actor=operator, unit_id=seal_bureau.unit_id, into_id=into.pk)
    change.refresh_from_db()
    assert change.state == ApplicationState.REJECTED and "合并" in change.rejection_reason
    open_forms = SealApplication.objects.filter(seal=seal_bureau, state__in=[
        "filled", "head_signed", "approved"])
    assert [a.kind for a in open_forms] == [ApplicationKind.RETURN]
    with pytest.raises(ValidationError):
        services.approve_application(actor=head_a, application_id=change.pk)
